// Reconnect: mark everything stale, let zebra's replay refresh, sweep the rest.
#include "rib_test_util.hpp"

namespace fpm_sink::test {
namespace {

class ReplayTest : public RibTest {
 protected:
  // Groups 1..4 (singles), 10 = {1,2}, 11 = {3,4}; 1000 v4 + 1000 v6 routes.
  void load() {
    for (uint32_t id = 1; id <= 4; ++id) ok(nh(id));
    ok(group(10, {{1, 1}, {2, 1}}));
    ok(group(11, {{3, 1}, {4, 1}}));
    for (int i = 0; i < 1000; ++i) {
      ok(v4(i, 10 + i % 2));
      ok(v6(i, 10 + i % 2));
    }
    ok(inline_route("172.16.0.0/12", {{gw("192.0.2.50"), 1}}));
  }
  static NexthopAdd nh(uint32_t id) {
    return single(id, ("192.0.2." + std::to_string(id)).c_str());
  }
  static RouteAdd v4(int i, uint32_t nhg) {
    return route(
        ("10." + std::to_string(i / 256) + "." + std::to_string(i % 256) + ".0/24").c_str(), nhg);
  }
  static RouteAdd v6(int i, uint32_t nhg) {
    return route(("2001:db8:" + std::to_string(i) + "::/48").c_str(), nhg);
  }
};

TEST_F(ReplayTest, IdenticalReplayIsSilentAndSweepsNothing) {
  load();
  obs.take();
  rib.begin_replay();
  EXPECT_EQ(rib.stats().stale_routes, 2001u);
  EXPECT_EQ(rib.stats().stale_groups, 6u);
  EXPECT_TRUE(rib.find_route(254, P("10.0.0.0/24"))->stale);
  EXPECT_TRUE(rib.find_group(10)->stale);
  load();
  EXPECT_EQ(obs.take(), Events{});
  EXPECT_EQ(rib.stats().stale_routes, 0u);
  EXPECT_EQ(rib.stats().stale_groups, 0u);
  EXPECT_FALSE(rib.find_route(254, P("10.0.0.0/24"))->stale);
  EXPECT_EQ(rib.sweep_stale(), 0u);
  EXPECT_EQ(obs.take(), Events{});
  EXPECT_EQ(rib.stats().routes_v4 + rib.stats().routes_v6, 2001u);
}

// zebra expects an offload reply to every route it sends, replayed or not:
// a replay that changes nothing still confirms each route to the observer.
TEST_F(ReplayTest, IdenticalReplayConfirmsEveryRoute) {
  load();
  EXPECT_TRUE(obs.confirmed.empty());
  obs.take();
  rib.begin_replay();
  load();
  EXPECT_EQ(obs.confirmed.size(), 2001u);
  EXPECT_EQ(obs.take(), Events{});
}

// New inline next hops that intern to the same set change nothing the
// observer sees: confirmed, not changed.
TEST_F(ReplayTest, RouteOntoTheSameInternedSetIsConfirmed) {
  ok(inline_route("172.16.0.0/12", {{gw("192.0.2.50"), 1}, {gw("192.0.2.51"), 1}}));
  obs.take();
  ok(inline_route("172.16.0.0/12", {{gw("192.0.2.51"), 1}, {gw("192.0.2.50"), 1}}));
  EXPECT_EQ(obs.take(), Events{});
  ASSERT_EQ(obs.confirmed.size(), 1u);
  EXPECT_NE(obs.confirmed[0].find("172.16.0.0/12"), std::string::npos) << obs.confirmed[0];
}

TEST_F(ReplayTest, BeginReplayAloneNeverFlushes) {
  load();
  obs.take();
  rib.begin_replay();
  rib.begin_replay();
  EXPECT_EQ(obs.take(), Events{});
  EXPECT_EQ(rib.stats().routes_v4 + rib.stats().routes_v6, 2001u);
  EXPECT_EQ(rib.stats().stale_routes, 2001u);
}

TEST_F(ReplayTest, SweepRemovesOnlyWhatTheReplayDidNotRefresh) {
  load();
  ok(single(20, "192.0.2.20"));
  ok(group(21, {{20, 1}}));  // stale chain: 21 -> 20, unused by any route
  obs.take();
  rib.begin_replay();
  // zebra no longer has group 11, its members, the odd routes and 20/21.
  for (uint32_t id = 1; id <= 2; ++id) ok(nh(id));
  ok(group(10, {{1, 1}, {2, 1}}));
  for (int i = 0; i < 1000; i += 2) ok(v4(i, 10));
  ok(v6(0, 10));
  ok(v6(1, 10));  // refreshed with a change: announced, not stale
  EXPECT_EQ(obs.take(), (Events{"R~ 254 2001:db8:1::/48 g10"}));
  const size_t swept = rib.sweep_stale();
  // 500 v4 + 998 v6 + the inline route; groups 11, 3, 4, 21, 20.
  EXPECT_EQ(swept, 500u + 998u + 1u + 5u);
  EXPECT_EQ(rib.stats().swept_routes, 1499u);
  EXPECT_EQ(rib.stats().swept_groups, 5u);
  EXPECT_EQ(rib.stats().routes_v4, 500u);
  EXPECT_EQ(rib.stats().routes_v6, 2u);
  EXPECT_EQ(rib.stats().groups, 3u);
  EXPECT_EQ(rib.stats().inline_groups, 0u);
  EXPECT_EQ(rib.stats().stale_routes, 0u);
  EXPECT_EQ(rib.stats().stale_groups, 0u);
  EXPECT_NE(rib.find_route(254, P("10.0.0.0/24")), nullptr);
  EXPECT_EQ(rib.find_route(254, P("10.0.1.0/24")), nullptr);
  EXPECT_EQ(rib.find_group(11), nullptr);
  EXPECT_EQ(rib.find_group(21), nullptr);
  EXPECT_NE(rib.find_group(1), nullptr);
  auto ev = obs.take();
  size_t route_removals = 0;
  for (const auto& e : ev) route_removals += e.rfind("R- ", 0) == 0;
  EXPECT_EQ(route_removals, 1499u);
  // A group goes before its members.
  auto pos = [&](const std::string& s) { return std::find(ev.begin(), ev.end(), s) - ev.begin(); };
  EXPECT_LT(pos("G- 11"), pos("G- 3"));
  EXPECT_LT(pos("G- 21"), pos("G- 20"));
  EXPECT_LT(pos("G- 20"), static_cast<long>(ev.size()));
  EXPECT_LT(pos("G- 4"), static_cast<long>(ev.size()));
}

TEST_F(ReplayTest, StaleGroupStillUsedByRefreshedRouteIsKept) {
  load();
  obs.take();
  rib.begin_replay();
  ok(v4(0, 10));  // route refreshed, group 10 and its members are not
  rib.sweep_stale();
  EXPECT_NE(rib.find_group(10), nullptr);
  EXPECT_NE(rib.find_group(1), nullptr);
  EXPECT_NE(rib.find_group(2), nullptr);
  EXPECT_EQ(rib.find_group(11), nullptr);
  EXPECT_EQ(rib.find_route(254, P("10.0.0.0/24"))->state, EntryState::Installed);
  EXPECT_EQ(rib.stats().routes_v4 + rib.stats().routes_v6, 1u);
  // Still stale: a later sweep can take them once nothing uses them.
  EXPECT_EQ(rib.stats().stale_groups, 3u);
}

TEST_F(ReplayTest, PendingRoutesAreStaleAndSweptToo) {
  ok(route("10.0.0.0/24", 50));
  EXPECT_EQ(obs.take(), (Events{"R+ 254 10.0.0.0/24 g0"}));  // announced as a punt
  rib.begin_replay();
  EXPECT_EQ(rib.sweep_stale(), 1u);
  EXPECT_EQ(rib.stats().pending_routes, 0u);
  EXPECT_EQ(obs.take(), (Events{"R- 254 10.0.0.0/24 g0"}));  // so the sweep withdraws it
  EXPECT_TRUE(obs.routes.empty());
}

}  // namespace
}  // namespace fpm_sink::test
