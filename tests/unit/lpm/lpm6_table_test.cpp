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

TEST(Lpm6Table, DifferentialMillionAddresses) {
  Lpm6Memory mem(200000);
  Lpm6Table t(mem.root, mem.nodes);
  differential(t, Family::V6, 1500, 1000000, 3);
}

TEST(Lpm6Table, RandomInsertDeleteReplace) {
  Lpm6Memory mem(50000);
  Lpm6Table t(mem.root, mem.nodes);
  random_ops(t, Family::V6, 100, 40000, 2000, 4);
}

TEST(Lpm6Table, Boundaries) {
  Lpm6Memory mem(64);
  Lpm6Table t(mem.root, mem.nodes);
  EXPECT_EQ(t.lookup(A("2001:db8::1")), 0u);
  ASSERT_TRUE(t.insert(P("::/0"), fwd(1)).ok());
  ASSERT_TRUE(t.insert(P("2001:db8::/23"), fwd(23)).ok());
  ASSERT_TRUE(t.insert(P("2001:db8::/24"), fwd(24)).ok());
  ASSERT_TRUE(t.insert(P("2001:db8::/25"), fwd(25)).ok());
  ASSERT_TRUE(t.insert(P("2001:db8:1:2::/64"), fwd(64)).ok());
  ASSERT_TRUE(t.insert(P("2001:db8:1:2::5/128"), fwd(128)).ok());
  ASSERT_TRUE(t.insert(P("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128"), fwd(77)).ok());
  EXPECT_EQ(t.lookup(A("3fff::1")), fwd(1));
  // canonical: /23 = 2001:c00::/23, /24 = 2001:d00::/24, /25 = 2001:d80::/25
  EXPECT_EQ(t.lookup(A("2001:c00::1")), fwd(23));
  EXPECT_EQ(t.lookup(A("2001:cff:ffff::1")), fwd(23));
  EXPECT_EQ(t.lookup(A("2001:d00::1")), fwd(24));
  EXPECT_EQ(t.lookup(A("2001:d7f:ffff::1")), fwd(24));
  EXPECT_EQ(t.lookup(A("2001:d80::")), fwd(25));
  EXPECT_EQ(t.lookup(A("2001:dff:ffff::1")), fwd(25));
  EXPECT_EQ(t.lookup(A("2001:e00::1")), fwd(1));
  EXPECT_EQ(t.lookup(A("2001:db8:1:2::4")), fwd(64));
  EXPECT_EQ(t.lookup(A("2001:db8:1:2::5")), fwd(128));
  EXPECT_EQ(t.lookup(A("2001:db8:1:2:ffff::")), fwd(64));
  EXPECT_EQ(t.lookup(A("2001:db8:1:3::")), fwd(25));
  EXPECT_EQ(t.lookup(A("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")), fwd(77));
  EXPECT_EQ(t.lookup(A("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe")), fwd(1));
  ASSERT_TRUE(t.remove(P("2001:db8:1:2::/64")).ok());
  EXPECT_EQ(t.lookup(A("2001:db8:1:2::4")), fwd(25));
  EXPECT_EQ(t.lookup(A("2001:db8:1:2::5")), fwd(128));
  ASSERT_TRUE(t.remove(P("2001:db8:1:2::5/128")).ok());
  ASSERT_TRUE(t.remove(P("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128")).ok());
  EXPECT_EQ(t.lookup(A("2001:db8:1:2::5")), fwd(25));
  EXPECT_EQ(t.stats().nodes_used, 1u);  // the /25 still needs one node under the root
  ASSERT_TRUE(t.remove(P("2001:db8::/25")).ok());
  EXPECT_EQ(t.stats().nodes_used, 0u);
  ASSERT_TRUE(t.remove(P("::/0")).ok());
  EXPECT_EQ(t.lookup(A("3fff::1")), 0u);
  EXPECT_EQ(t.lookup(A("2001:db8::1")), fwd(24));
}

}  // namespace
}  // namespace fpm_sink::lpm
