// tbl8 / node lifecycle: collapse, quarantine with an injected clock,
// capacity exhaustion (punt the range, recover later).
#include <gtest/gtest.h>

#include "ip_literals.hpp"
#include "lpm_diff.hpp"

namespace fpm_sink::lpm {
namespace {

using namespace testing;
using namespace std::chrono_literals;

using test::A;
using test::P;

constexpr uint32_t fwd(uint32_t g) {
  return (FPM_ACT_FORWARD << FPM_ACT_KIND_SHIFT) | g;
}
const uint32_t kPunt = fpm_act_make(FPM_ACT_PUNT, FPM_REASON_OFFLOAD_FAILED);

struct FakeClock {
  Clock::time_point t{};
  LpmOptions options(std::chrono::nanoseconds grace = 50ms) {
    LpmOptions o;
    o.grace = grace;
    o.now = [this] { return t; };
    return o;
  }
};

uint32_t tbl24_entry(const Lpm4Table& t, const char* addr) {
  return t.view().tbl24[A(addr).v4_host_order() >> 8];
}

TEST(LpmLifecycle, Tbl8CollapsesWhenGroupBecomesUniform) {
  FakeClock clock;
  Lpm4Memory mem(4);
  Lpm4Table t(mem.tbl24, mem.tbl8, clock.options());
  ASSERT_TRUE(t.insert(P("10.0.0.0/24"), fwd(1)).ok());
  ASSERT_TRUE(t.insert(P("10.0.0.0/25"), fwd(2)).ok());
  ASSERT_TRUE(t.insert(P("10.0.0.128/26"), fwd(3)).ok());
  EXPECT_TRUE(tbl24_entry(t, "10.0.0.0") & LPM_ENTRY_NODE);
  EXPECT_EQ(t.stats().nodes_used, 1u);
  ASSERT_TRUE(t.remove(P("10.0.0.0/25")).ok());
  EXPECT_EQ(t.stats().nodes_used, 1u);  // the /26 still differs
  ASSERT_TRUE(t.remove(P("10.0.0.128/26")).ok());
  EXPECT_EQ(tbl24_entry(t, "10.0.0.0"), fwd(1));  // back to a plain tbl24 entry
  EXPECT_EQ(t.stats().nodes_used, 0u);
  EXPECT_EQ(t.stats().nodes_quarantined, 1u);
  EXPECT_EQ(t.stats().nodes_in_grace, 1u);
  clock.t += 50ms;  // past the grace period: reusable, no longer counted as waiting
  EXPECT_EQ(t.stats().nodes_quarantined, 1u);
  EXPECT_EQ(t.stats().nodes_in_grace, 0u);
  EXPECT_EQ(t.lookup(A("10.0.0.200")), fwd(1));
  // Replacing the /24 after the collapse is a single tbl24 write.
  ASSERT_TRUE(t.insert(P("10.0.0.0/24"), fwd(9)).ok());
  EXPECT_EQ(tbl24_entry(t, "10.0.0.0"), fwd(9));
}

TEST(LpmLifecycle, CollapseWithoutCoveringRoute) {
  Lpm4Memory mem(2);
  Lpm4Table t(mem.tbl24, mem.tbl8);
  ASSERT_TRUE(t.insert(P("192.0.2.1/32"), fwd(1)).ok());
  ASSERT_TRUE(t.remove(P("192.0.2.1/32")).ok());
  EXPECT_EQ(tbl24_entry(t, "192.0.2.0"), 0u);
  EXPECT_EQ(t.stats().nodes_used, 0u);
}

TEST(LpmLifecycle, FreedGroupNotReusedBeforeGracePeriod) {
  FakeClock clock;
  Lpm4Memory mem(2);
  Lpm4Table t(mem.tbl24, mem.tbl8, clock.options(50ms));
  ASSERT_TRUE(t.insert(P("10.0.0.1/32"), fwd(1)).ok());
  const uint32_t g0 = tbl24_entry(t, "10.0.0.0") & LPM_INDEX_MASK;
  ASSERT_TRUE(t.remove(P("10.0.0.1/32")).ok());  // g0 -> quarantine
  ASSERT_TRUE(t.insert(P("10.0.1.1/32"), fwd(2)).ok());
  const uint32_t g1 = tbl24_entry(t, "10.0.1.0") & LPM_INDEX_MASK;
  EXPECT_NE(g0, g1);
  // Both groups busy or quarantined: the next one fails until the grace period ends.
  clock.t += 49ms;
  auto st = t.insert(P("10.0.2.1/32"), fwd(3));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().id, "lpm.full");
  EXPECT_EQ(t.stats().nodes_quarantined, 1u);
  EXPECT_EQ(t.retry_failed().still_failed, 1u);
  clock.t += 1ms;
  auto r = t.retry_failed();
  ASSERT_EQ(r.recovered.size(), 1u);
  EXPECT_EQ(r.recovered[0], P("10.0.2.0/24"));
  EXPECT_EQ(r.still_failed, 0u);
  EXPECT_EQ(tbl24_entry(t, "10.0.2.0"), LPM_ENTRY_NODE | g0);
  EXPECT_EQ(t.lookup(A("10.0.2.1")), fwd(3));
  EXPECT_EQ(t.lookup(A("10.0.2.2")), 0u);
}

TEST(LpmLifecycle, ExhaustionPuntsCoveringRangeAndRecovers) {
  FakeClock clock;
  Lpm4Memory mem(8);
  Lpm4Table t(mem.tbl24, mem.tbl8, clock.options(10ms));
  ReferenceLpm ref(Family::V4);
  ASSERT_TRUE(t.insert(P("10.0.0.0/8"), fwd(8)).ok());
  ref.insert(P("10.0.0.0/8"), fwd(8));
  for (int i = 0; i < 8; ++i) {
    const auto p = *Prefix::make(IpAddr::v4(0x0a000000u | (i << 8) | 0x80), 25);
    ASSERT_TRUE(t.insert(p, fwd(100 + i)).ok());
    ref.insert(p, fwd(100 + i));
  }
  EXPECT_EQ(t.stats().nodes_free, 0u);
  // The ninth /24 with a long prefix has no group: the whole /24 punts,
  // including addresses the /8 would have matched.
  auto st = t.insert(P("10.0.9.0/26"), fwd(200));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().id, "lpm.full");
  ref.insert(P("10.0.9.0/26"), fwd(200));
  EXPECT_EQ(t.lookup(A("10.0.9.1")), kPunt);
  EXPECT_EQ(t.lookup(A("10.0.9.200")), kPunt);
  EXPECT_EQ(t.lookup(A("10.0.10.1")), fwd(8));
  EXPECT_FALSE(t.offloaded(P("10.0.9.0/26")));
  EXPECT_TRUE(t.offloaded(P("10.0.0.128/25")));
  ASSERT_EQ(t.failed_ranges().size(), 1u);
  EXPECT_EQ(t.failed_ranges()[0], P("10.0.9.0/24"));
  // More changes inside the punted range keep it punted and stay in the RIB.
  EXPECT_FALSE(t.insert(P("10.0.9.128/25"), fwd(201)).ok());
  ref.insert(P("10.0.9.128/25"), fwd(201));
  ASSERT_TRUE(t.insert(P("10.0.9.0/24"), fwd(202)).ok());  // /24: no group needed
  ref.insert(P("10.0.9.0/24"), fwd(202));
  EXPECT_EQ(t.lookup(A("10.0.9.100")), kPunt);
  ASSERT_TRUE(t.remove(P("10.0.9.128/25")).ok());
  ref.remove(P("10.0.9.128/25"));
  EXPECT_EQ(t.lookup(A("10.0.9.200")), kPunt);
  // Free one group; it is usable only after the grace period.
  ASSERT_TRUE(t.remove(P("10.0.3.128/25")).ok());
  ref.remove(P("10.0.3.128/25"));
  EXPECT_EQ(t.retry_failed().recovered.size(), 0u);
  EXPECT_EQ(t.lookup(A("10.0.9.1")), kPunt);
  clock.t += 10ms;
  auto r = t.retry_failed();
  ASSERT_EQ(r.recovered.size(), 1u);
  EXPECT_TRUE(t.offloaded(P("10.0.9.0/26")));
  EXPECT_EQ(t.lookup(A("10.0.9.1")), fwd(200));
  EXPECT_EQ(t.lookup(A("10.0.9.200")), fwd(202));
  std::mt19937_64 rng(5);
  std::vector<IpAddr> probes;
  for (int i = 0; i < 100000; ++i) probes.push_back(random_inside(P("10.0.0.0/20"), rng));
  EXPECT_EQ(count_mismatches(t, ref, probes), 0u);
}

TEST(LpmLifecycle, RetryRemovesPuntWhenLongPrefixesAreGone) {
  FakeClock clock;
  Lpm4Memory mem(1);
  Lpm4Table t(mem.tbl24, mem.tbl8, clock.options(0ns));
  ASSERT_TRUE(t.insert(P("10.0.0.0/8"), fwd(8)).ok());
  ASSERT_TRUE(t.insert(P("10.0.0.1/32"), fwd(1)).ok());
  ASSERT_FALSE(t.insert(P("10.0.1.1/32"), fwd(2)).ok());
  ASSERT_TRUE(t.remove(P("10.0.1.1/32")).ok());
  EXPECT_EQ(t.lookup(A("10.0.1.1")), kPunt);
  auto r = t.retry_failed();
  EXPECT_EQ(r.recovered.size(), 1u);
  EXPECT_EQ(t.lookup(A("10.0.1.1")), fwd(8));
  EXPECT_EQ(tbl24_entry(t, "10.0.1.0"), fwd(8));
}

TEST(LpmLifecycle, Ipv6ExhaustionPuntsNodeRange) {
  FakeClock clock;
  Lpm6Memory mem(3);
  Lpm6Table t(mem.root, mem.nodes, clock.options(0ns));
  ReferenceLpm ref(Family::V6);
  ASSERT_TRUE(t.insert(P("2001:db8::/32"), fwd(32)).ok());
  ref.insert(P("2001:db8::/32"), fwd(32));
  // /48 needs nodes at /24, /32 and /40: exactly 3.
  ASSERT_TRUE(t.insert(P("2001:db8:1::/48"), fwd(48)).ok());
  ref.insert(P("2001:db8:1::/48"), fwd(48));
  EXPECT_EQ(t.stats().nodes_free, 0u);
  // Another /48 under a different /40: no node -> its /40 punts.
  auto st = t.insert(P("2001:db8:200::/48"), fwd(49));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().id, "lpm.full");
  ref.insert(P("2001:db8:200::/48"), fwd(49));
  ASSERT_EQ(t.failed_ranges().size(), 1u);
  EXPECT_EQ(t.failed_ranges()[0], P("2001:db8:200::/40"));
  EXPECT_EQ(t.lookup(A("2001:db8:2ff::1")), kPunt);
  EXPECT_EQ(t.lookup(A("2001:db8:1::1")), fwd(48));
  EXPECT_EQ(t.lookup(A("2001:db8:300::1")), fwd(32));
  ASSERT_TRUE(t.remove(P("2001:db8:1::/48")).ok());
  ref.remove(P("2001:db8:1::/48"));
  auto r = t.retry_failed();
  EXPECT_EQ(r.recovered.size(), 1u);
  EXPECT_EQ(r.still_failed, 0u);
  std::mt19937_64 rng(6);
  std::vector<IpAddr> probes;
  for (int i = 0; i < 50000; ++i) probes.push_back(random_inside(P("2001:db8::/30"), rng));
  EXPECT_EQ(count_mismatches(t, ref, probes), 0u);
}

TEST(LpmLifecycle, RandomOpsUnderPressureNeverLieAboutRoutes) {
  // Tiny pool: many inserts fail. A lookup must then return either the
  // reference answer or PUNT, never a different route; after freeing space
  // and retrying everything is exact again.
  FakeClock clock;
  Lpm4Memory mem(16);
  Lpm4Table t(mem.tbl24, mem.tbl8, clock.options(1ms));
  ReferenceLpm ref(Family::V4);
  std::mt19937_64 rng(8);
  const auto universe = nested_table(Family::V4, 200, rng);
  for (int i = 0; i < 20000; ++i) {
    const auto& r = universe[rng() % universe.size()];
    if (rng() % 3 == 0 && ref.find(r.prefix)) {
      ASSERT_TRUE(t.remove(r.prefix).ok());
      ref.remove(r.prefix);
    } else {
      (void)t.insert(r.prefix, r.action);
      ref.insert(r.prefix, r.action);
    }
    clock.t += 100us;
    if (i % 50 == 0) (void)t.retry_failed();
  }
  size_t bad = 0;
  for (const auto& a : probe_addresses(Family::V4, universe, 100000, rng)) {
    const uint32_t got = t.lookup(a), want = ref.lookup(a);
    if (got != want && got != kPunt) ++bad;
  }
  EXPECT_EQ(bad, 0u);
  for (const auto& r : universe)
    if (ref.find(r.prefix) && r.prefix.len > 24 && rng() % 2) {
      ASSERT_TRUE(t.remove(r.prefix).ok());
      ref.remove(r.prefix);
    }
  for (int i = 0; i < 100 && !t.failed_ranges().empty(); ++i) {
    clock.t += 1ms;
    (void)t.retry_failed();
  }
  if (t.failed_ranges().empty()) {
    EXPECT_EQ(count_mismatches(t, ref, probe_addresses(Family::V4, universe, 100000, rng)), 0u);
  }
}

}  // namespace
}  // namespace fpm_sink::lpm
