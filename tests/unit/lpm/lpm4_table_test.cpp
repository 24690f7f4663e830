#include <gtest/gtest.h>

#include "ip_literals.hpp"
#include "lpm_diff.hpp"

namespace fpm_sink::lpm {
namespace {

using namespace testing;

using test::A;
using test::P;

constexpr uint32_t fwd(uint32_t g) {
  return (FPM_ACT_FORWARD << FPM_ACT_KIND_SHIFT) | g;
}

TEST(Lpm4Table, DifferentialMillionAddresses) {
  Lpm4Memory mem(65536);
  Lpm4Table t(mem.tbl24, mem.tbl8);
  differential(t, Family::V4, 6000, 1000000, 1);
}

TEST(Lpm4Table, BulkMatchesSingleInserts) {
  std::mt19937_64 rng(7);
  const auto routes = nested_table(Family::V4, 3000, rng);
  Lpm4Memory m1(32768), m2(32768);
  Lpm4Table a(m1.tbl24, m1.tbl8), b(m2.tbl24, m2.tbl8);
  ReferenceLpm ref(Family::V4);
  for (const auto& r : routes) {
    ASSERT_TRUE(a.insert(r.prefix, r.action).ok());
    ref.insert(r.prefix, r.action);
  }
  // insert_bulk reorders; duplicates in the input keep the last action
  // for the reference only when applied in order, so dedupe through ref.
  std::vector<LpmRoute> dedup;
  for (const auto& r : routes)
    if (*ref.find(r.prefix) == r.action) dedup.push_back(r);
  EXPECT_TRUE(b.insert_bulk(dedup).empty());
  const auto probes = probe_addresses(Family::V4, routes, 200000, rng);
  EXPECT_EQ(count_mismatches(a, ref, probes), 0u);
  EXPECT_EQ(count_mismatches(b, ref, probes), 0u);
}

TEST(Lpm4Table, RandomInsertDeleteReplace) {
  Lpm4Memory mem(8192);
  Lpm4Table t(mem.tbl24, mem.tbl8);
  random_ops(t, Family::V4, 300, 60000, 2000, 2);
}

TEST(Lpm4Table, Boundaries) {
  Lpm4Memory mem(16);
  Lpm4Table t(mem.tbl24, mem.tbl8);
  EXPECT_EQ(t.lookup(A("1.2.3.4")), 0u);
  ASSERT_TRUE(t.insert(P("0.0.0.0/0"), fwd(1)).ok());
  ASSERT_TRUE(t.insert(P("10.1.2.0/24"), fwd(24)).ok());
  ASSERT_TRUE(t.insert(P("10.1.2.128/25"), fwd(25)).ok());
  ASSERT_TRUE(t.insert(P("10.1.2.200/32"), fwd(32)).ok());
  ASSERT_TRUE(t.insert(P("255.255.255.255/32"), fwd(99)).ok());
  ASSERT_TRUE(t.insert(P("0.0.0.0/32"), fwd(98)).ok());
  EXPECT_EQ(t.lookup(A("1.2.3.4")), fwd(1));
  EXPECT_EQ(t.lookup(A("10.1.2.127")), fwd(24));
  EXPECT_EQ(t.lookup(A("10.1.2.128")), fwd(25));
  EXPECT_EQ(t.lookup(A("10.1.2.199")), fwd(25));
  EXPECT_EQ(t.lookup(A("10.1.2.200")), fwd(32));
  EXPECT_EQ(t.lookup(A("10.1.2.201")), fwd(25));
  EXPECT_EQ(t.lookup(A("10.1.2.255")), fwd(25));
  EXPECT_EQ(t.lookup(A("10.1.3.0")), fwd(1));
  EXPECT_EQ(t.lookup(A("255.255.255.255")), fwd(99));
  EXPECT_EQ(t.lookup(A("255.255.255.254")), fwd(1));
  EXPECT_EQ(t.lookup(A("0.0.0.0")), fwd(98));
  EXPECT_EQ(t.lookup(A("0.0.0.1")), fwd(1));
  EXPECT_EQ(t.stats().nodes_used, 3u);
  // Delete the middle of the chain: /32 falls back to /25, /25 to /24, /0 to nothing.
  ASSERT_TRUE(t.remove(P("10.1.2.128/25")).ok());
  EXPECT_EQ(t.lookup(A("10.1.2.199")), fwd(24));
  EXPECT_EQ(t.lookup(A("10.1.2.200")), fwd(32));
  ASSERT_TRUE(t.remove(P("0.0.0.0/0")).ok());
  EXPECT_EQ(t.lookup(A("1.2.3.4")), 0u);
  EXPECT_EQ(t.lookup(A("0.0.0.1")), 0u);
  EXPECT_EQ(t.lookup(A("10.1.2.1")), fwd(24));
  ASSERT_TRUE(t.remove(P("10.1.2.0/24")).ok());
  EXPECT_EQ(t.lookup(A("10.1.2.1")), 0u);
  EXPECT_EQ(t.lookup(A("10.1.2.200")), fwd(32));
}

TEST(Lpm4Table, RejectsBadInput) {
  Lpm4Memory mem(4);
  Lpm4Table t(mem.tbl24, mem.tbl8);
  auto st = t.insert(P("10.0.0.0/8"), 0x80000001u);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().id, "lpm.bad_action");
  st = t.remove(P("10.0.0.0/8"));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().id, "lpm.not_found");
  st = t.insert(P("2001:db8::/32"), fwd(1));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().id, "lpm.bad_prefix");
}

}  // namespace
}  // namespace fpm_sink::lpm
