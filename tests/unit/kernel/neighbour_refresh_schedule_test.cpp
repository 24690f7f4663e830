#include "kernel/neighbour_refresh_schedule.hpp"
#include "kernel/neighbour_refresh.hpp"

#include <gtest/gtest.h>
#include <linux/neighbour.h>

#include <vector>

namespace fpm_sink {
namespace {

std::vector<RefreshSchedule::Key> targets(uint32_t n) {
  std::vector<RefreshSchedule::Key> out;
  for (uint32_t i = 0; i < n; ++i) out.emplace_back(IpAddr::v4(0x0a000000u + i), 1);
  return out;
}

NeighbourRefreshOptions opts(int period_ms, size_t max_per_tick) {
  NeighbourRefreshOptions o;
  o.period = std::chrono::milliseconds(period_ms);
  o.tick = std::chrono::milliseconds(500);
  o.max_per_tick = max_per_tick;
  return o;
}

// 10 targets, a 2.5 s period (5 ticks): 2 per tick, every target once per period.
TEST(RefreshSchedule, SpreadsTheRoundOverThePeriod) {
  RefreshSchedule s(opts(2500, 512), [] { return targets(10); });
  EXPECT_EQ(s.tick().size(), 1u);  // first tick: the round size is not known yet
  EXPECT_EQ(s.stats().rounds, 1u);
  EXPECT_EQ(s.stats().targets, 10u);
  size_t sent = 1;
  for (int i = 0; i < 4; ++i) sent += s.tick().size();
  EXPECT_EQ(sent, 9u);
  EXPECT_EQ(s.tick().size(), 1u);  // the round's last one; the next round waits for the next tick
  EXPECT_EQ(s.stats().rounds, 1u);
  EXPECT_EQ(s.tick().size(), 2u);
  EXPECT_EQ(s.stats().rounds, 2u);
  EXPECT_EQ(s.stats().deferred, 0u);
  EXPECT_EQ(s.stats().capped_ticks, 0u);
}

// 100 targets in a 1 s period (2 ticks) want 50 per tick; the cap allows 20, so
// each tick defers 30 and the round takes 5 ticks after the first instead of 2.
TEST(RefreshSchedule, CapDefersAndCounts) {
  RefreshSchedule s(opts(1000, 20), [] { return targets(100); });
  ASSERT_EQ(s.tick().size(), 1u);
  size_t sent = 1;
  for (int i = 0; i < 5; ++i) {
    auto batch = s.tick();
    EXPECT_LE(batch.size(), 20u);
    sent += batch.size();
  }
  EXPECT_EQ(sent, 100u);
  EXPECT_EQ(s.stats().rounds, 1u);
  EXPECT_EQ(s.stats().capped_ticks, 5u);
  EXPECT_EQ(s.stats().deferred, 5u * 30u);
  EXPECT_EQ(s.tick().size(), 20u);
  EXPECT_EQ(s.stats().rounds, 2u);
}

TEST(RefreshSchedule, NewRoundSeesTheTargetsOfThatMoment) {
  uint32_t n = 3;
  RefreshSchedule s(opts(500, 512), [&] { return targets(n); });
  EXPECT_EQ(s.take(10).size(), 3u);
  n = 5;
  EXPECT_EQ(s.take(10).size(), 5u);
  EXPECT_EQ(s.stats().targets, 5u);
  n = 0;
  EXPECT_TRUE(s.take(10).empty());
  EXPECT_EQ(s.stats().targets, 0u);
  EXPECT_EQ(s.stats().rounds, 3u);
}

// Zero period (refresh driven by hand) still means one share per tick, not a division by zero.
TEST(RefreshSchedule, ZeroPeriodTakesEverythingInOneTick) {
  RefreshSchedule s(opts(0, 512), [] { return targets(4); });
  s.tick();
  EXPECT_EQ(s.tick().size(), 3u);
}

// Static entries are never marked used: NTF_USE would break a PERMANENT one.
TEST(NeighbourRefresh, StaticEntriesAreNotWorthRefreshing) {
  EXPECT_FALSE(worth_refreshing(NUD_PERMANENT));
  EXPECT_FALSE(worth_refreshing(NUD_NOARP));
  EXPECT_TRUE(worth_refreshing(NUD_REACHABLE));
  EXPECT_TRUE(worth_refreshing(NUD_STALE));
  EXPECT_TRUE(worth_refreshing(NUD_DELAY | NUD_PROBE));
}

}  // namespace
}  // namespace fpm_sink
