// RibLimits: oversized groups, the route limit and routes waiting for next-hop
// ids that never arrive cost bounded memory and time, and refusals keep what
// the RIB already held.
#include <string>

#include "rib_test_util.hpp"

namespace fpm_sink::test {
namespace {

std::vector<NexthopGroupMember> members(uint32_t first_id, uint32_t count) {
  std::vector<NexthopGroupMember> m;
  m.reserve(count);
  for (uint32_t i = 0; i < count; ++i) m.push_back({first_id + i, 1});
  return m;
}

TEST_F(RibTest, GroupOverMemberLimitIsRefusedAndItsOldVersionStays) {
  ASSERT_LT(rib.limits().max_group_members, 10'000u);
  ok(single(1, "192.0.2.1"));
  ok(single(2, "192.0.2.2"));
  ok(group(10, {{1, 1}, {2, 1}}));
  ok(route("10.0.0.0/24", 10));
  obs.take();

  EXPECT_EQ(err(group(10, members(1, 10'000))), "rib.nexthop.too_many_members");
  EXPECT_EQ(obs.take(), Events{});
  EXPECT_EQ(rib.stats().refused_groups, 1u);
  auto g = rib.fib_group(10);
  ASSERT_TRUE(g.has_value());
  EXPECT_EQ(g->members.size(), 2u);
  EXPECT_EQ(rib.find_route(254, P("10.0.0.0/24"))->group_id, 10u);
  // Refused before any member was looked at: no placeholder for ids 3..10000.
  EXPECT_EQ(rib.find_group(3), nullptr);
  EXPECT_EQ(rib.stats().pending_groups, 0u);

  // A new id with too many members is refused the same way and leaves nothing.
  EXPECT_EQ(err(group(11, members(1, 10'000))), "rib.nexthop.too_many_members");
  EXPECT_EQ(rib.find_group(11), nullptr);
  EXPECT_EQ(rib.stats().refused_groups, 2u);
  EXPECT_EQ(rib.stats().groups, 3u);
}

TEST_F(RibTest, GroupAtTheMemberLimitIsAccepted) {
  rib.set_limits(RibLimits{.max_routes = 10, .max_group_members = 4});
  ok(group(10, members(1, 4)));
  for (uint32_t id = 1; id <= 4; ++id) ok(single(id, "192.0.2.1", id));
  ASSERT_TRUE(rib.fib_group(10).has_value());
  EXPECT_EQ(rib.fib_group(10)->members.size(), 4u);
  EXPECT_EQ(err(group(10, members(1, 5))), "rib.nexthop.too_many_members");
  EXPECT_EQ(rib.fib_group(10)->members.size(), 4u);
}

TEST_F(RibTest, TenThousandGroupsSharingOneMemberStayLinear) {
  // Every group names member 1; its parent set is a tree, so each join and
  // leave is O(log n) and 10,000 of them complete at unit-test speed.
  constexpr uint32_t kGroups = 10'000;
  for (uint32_t id = 0; id < kGroups; ++id) ok(group(100 + id, {{1, 1}}));
  EXPECT_EQ(rib.stats().pending_groups, kGroups);
  ok(single(1, "192.0.2.1"));
  EXPECT_EQ(rib.stats().pending_groups, 0u);
  EXPECT_EQ(rib.find_group(1)->refcount, kGroups);
  for (uint32_t id = 0; id < kGroups; ++id) ok(nh_del(100 + id));
  EXPECT_EQ(rib.find_group(1)->refcount, 0u);
  ok(nh_del(1));
  EXPECT_EQ(rib.stats().groups, 0u);
}

TEST_F(RibTest, RouteLimitRefusesNewPrefixesAndKeepsHeldRoutes) {
  rib.set_limits(RibLimits{.max_routes = 2, .max_group_members = 16});
  ok(single(5, "192.0.2.5"));
  ok(single(6, "192.0.2.6"));
  ok(route("10.0.0.0/24", 5));
  ok(route("2001:db8::/64", 5));
  obs.take();

  EXPECT_EQ(err(route("10.0.1.0/24", 5)), "rib.route.limit");
  // The observer learns that the RIB no longer covers zebra's FIB.
  EXPECT_EQ(obs.take(), Events{"refused"});
  EXPECT_EQ(rib.stats().refused_routes, 1u);
  EXPECT_EQ(rib.find_route(254, P("10.0.1.0/24")), nullptr);
  EXPECT_EQ(rib.stats().routes_v4 + rib.stats().routes_v6, 2u);

  // Held routes still change at the limit.
  ok(route("10.0.0.0/24", 6));
  EXPECT_EQ(rib.find_route(254, P("10.0.0.0/24"))->group_id, 6u);
  EXPECT_EQ(rib.find_route(254, P("2001:db8::/64"))->group_id, 5u);

  // Room again after a delete.
  ok(route_del("2001:db8::/64"));
  ok(route("10.0.1.0/24", 5));
  EXPECT_EQ(rib.stats().refused_routes, 1u);
}

TEST_F(RibTest, RoutesWaitingForIdsThatNeverArriveCountAgainstTheRouteLimit) {
  rib.set_limits(RibLimits{.max_routes = 3, .max_group_members = 16});
  ok(route("10.0.0.0/24", 100));
  ok(route("10.0.1.0/24", 101));
  ok(route("10.0.2.0/24", 102));
  EXPECT_EQ(rib.stats().pending_routes, 3u);
  EXPECT_EQ(err(route("10.0.3.0/24", 103)), "rib.route.limit");
  EXPECT_EQ(rib.stats().pending_routes, 3u);
  EXPECT_EQ(rib.stats().refused_routes, 1u);
  // Each pending route holds one placeholder at most; a refused one holds none,
  // so the id arriving later resolves only the routes that were taken.
  ok(single(103, "192.0.2.3"));
  EXPECT_EQ(rib.find_group(103)->refcount, 0u);
  ok(single(100, "192.0.2.100"));
  EXPECT_EQ(rib.stats().pending_routes, 2u);
}

}  // namespace
}  // namespace fpm_sink::test
