// Next-hop objects: out-of-order arrival, chains, refcounts, replacement and
// deletes of objects still in use.
#include <algorithm>

#include "rib_test_util.hpp"

namespace fpm_sink::test {
namespace {

TEST_F(RibTest, RouteBeforeItsGroupIsPendingThenCompletes) {
  ok(route("10.0.0.0/24", 5));
  ok(route("2001:db8::/64", 5));
  // Announced while pending, with no group: the fast path punts their range.
  EXPECT_EQ(obs.take(), (Events{"R+ 254 10.0.0.0/24 g0", "R+ 254 2001:db8::/64 g0"}));
  EXPECT_EQ(obs.routes.at({254, P("10.0.0.0/24")}).group_id, 0u);
  EXPECT_EQ(rib.stats().pending_routes, 2u);
  EXPECT_EQ(rib.find_route(254, P("10.0.0.0/24"))->state, EntryState::Pending);
  EXPECT_EQ(rib.find_route(254, P("10.0.0.0/24"))->group_id, 0u);
  EXPECT_EQ(rib.find_group(5), nullptr);  // referenced, never received
  size_t pending_seen = 0;
  rib.for_each_route([&](const RibRoute& r) { pending_seen += r.state == EntryState::Pending; });
  EXPECT_EQ(pending_seen, 2u);

  ok(single(5, "192.0.2.5"));
  auto ev = obs.take();
  ASSERT_EQ(ev.size(), 3u);
  EXPECT_EQ(ev[0], "G+ 5");  // the group first, then each route Changed onto it
  std::sort(ev.begin() + 1, ev.end());
  EXPECT_EQ(ev[1], "R~ 254 10.0.0.0/24 g5");
  EXPECT_EQ(ev[2], "R~ 254 2001:db8::/64 g5");
  EXPECT_EQ(obs.routes.at({254, P("10.0.0.0/24")}).group_id, 5u);
  EXPECT_EQ(rib.stats().pending_routes, 0u);
  EXPECT_EQ(rib.find_group(5)->refcount, 2u);
  EXPECT_EQ(rib.find_route(254, P("2001:db8::/64"))->group_id, 5u);
}

TEST_F(RibTest, GroupBeforeMembersIsPendingThenCompletes) {
  ok(group(10, {{1, 1}, {2, 3}}));
  EXPECT_EQ(obs.take(), Events{});
  EXPECT_EQ(rib.find_group(10)->state, EntryState::Pending);
  EXPECT_EQ(rib.stats().pending_groups, 1u);
  EXPECT_EQ(rib.stats().groups, 1u);
  size_t pending_seen = 0;
  rib.for_each_group([&](const RibGroup& g) { pending_seen += g.state == EntryState::Pending; });
  EXPECT_EQ(pending_seen, 1u);

  ok(single(1, "192.0.2.1"));
  EXPECT_EQ(obs.take(), (Events{"G+ 1"}));  // group still misses member 2
  ok(single(2, "192.0.2.2"));
  EXPECT_EQ(obs.take(), (Events{"G+ 2", "G+ 10"}));
  EXPECT_EQ(rib.stats().pending_groups, 0u);
  auto g = rib.fib_group(10);
  ASSERT_TRUE(g.has_value());
  ASSERT_EQ(g->members.size(), 2u);
  EXPECT_EQ(g->members[1].nh, gw("192.0.2.2"));
  EXPECT_EQ(g->members[1].weight, 3u);
  EXPECT_EQ(rib.find_group(1)->refcount, 1u);
}

TEST_F(RibTest, ChainRouteGroupMemberCompletesInOrder) {
  ok(route("10.0.0.0/24", 10));     // route -> unknown group
  ok(group(10, {{1, 1}, {2, 1}}));  // group -> unknown members
  ok(single(1, "192.0.2.1"));
  EXPECT_EQ(obs.take(), (Events{"R+ 254 10.0.0.0/24 g0", "G+ 1"}));
  EXPECT_EQ(rib.stats().pending_routes, 1u);
  ok(single(2, "192.0.2.2"));
  EXPECT_EQ(obs.take(), (Events{"G+ 2", "G+ 10", "R~ 254 10.0.0.0/24 g10"}));
  EXPECT_EQ(rib.stats().pending_routes, 0u);
  EXPECT_EQ(rib.stats().pending_groups, 0u);
}

TEST_F(RibTest, ReplacingSingleChangesEachGroupOnceAndNoRoute) {
  ok(single(1, "192.0.2.1"));
  ok(single(2, "192.0.2.2"));
  ok(single(3, "192.0.2.3"));
  ok(group(10, {{1, 1}, {2, 1}}));
  ok(group(11, {{1, 1}, {3, 1}}));
  ok(group(12, {{2, 1}, {3, 1}}));  // does not use 1
  for (int i = 0; i < 100; ++i) {
    const std::string p4 = "10." + std::to_string(i) + ".0.0/16";
    ok(route(p4.c_str(), 10 + i % 3));
  }
  obs.take();
  ok(single(1, "192.0.2.100", 7));
  auto ev = obs.take();
  EXPECT_EQ(ev, (Events{"G~ 1", "G~ 10", "G~ 11"}));
  EXPECT_EQ(obs.groups.at(10).members[0].nh, gw("192.0.2.100", 7));
  EXPECT_EQ(rib.fib_group(11)->members[0].nh, gw("192.0.2.100", 7));
}

TEST_F(RibTest, IdenticalNexthopReAddIsSilentButAttributeOnlyChangeIsToo) {
  ok(single(1, "192.0.2.1"));
  ok(group(10, {{1, 1}}));
  obs.take();
  ok(single(1, "192.0.2.1"));
  ok(group(10, {{1, 1}}));
  NexthopAdd other_proto = single(1, "192.0.2.1");
  other_proto.protocol = proto_id::bgp;  // new spec, same forwarding: nothing to announce
  ok(other_proto);
  EXPECT_EQ(obs.take(), Events{});
  EXPECT_EQ(rib.find_group(1)->spec.protocol, proto_id::bgp);
}

TEST_F(RibTest, GroupMembershipChangeIsOneChangedAndReleasesOldMember) {
  ok(single(1, "192.0.2.1"));
  ok(single(2, "192.0.2.2"));
  ok(group(10, {{1, 1}}));
  ok(route("10.0.0.0/24", 10));
  obs.take();
  ok(group(10, {{2, 1}}));
  EXPECT_EQ(obs.take(), (Events{"G~ 10"}));
  EXPECT_EQ(rib.find_group(1)->refcount, 0u);
  EXPECT_EQ(rib.find_group(2)->refcount, 1u);
  EXPECT_EQ(rib.find_group(10)->refcount, 1u);
}

TEST_F(RibTest, GroupGainingUnknownMemberWithdrawsItsRoutes) {
  ok(single(1, "192.0.2.1"));
  ok(group(10, {{1, 1}}));
  ok(route("10.0.0.0/24", 10));
  obs.take();
  ok(group(10, {{1, 1}, {2, 1}}));
  // The route stays announced but punts (group 0) before its group goes.
  EXPECT_EQ(obs.take(), (Events{"R~ 254 10.0.0.0/24 g0", "G- 10"}));
  EXPECT_EQ(rib.stats().pending_routes, 1u);
  EXPECT_EQ(rib.stats().pending_groups, 1u);
  ok(single(2, "192.0.2.2"));
  EXPECT_EQ(obs.take(), (Events{"G+ 2", "G+ 10", "R~ 254 10.0.0.0/24 g10"}));
}

TEST_F(RibTest, RefcountCountsRoutesAndGroups) {
  ok(single(1, "192.0.2.1"));
  ok(group(10, {{1, 1}, {1, 2}}));  // a repeated member is one reference
  ok(group(11, {{1, 1}}));
  ok(route("10.0.0.0/24", 1));
  ok(route("10.0.1.0/24", 10));
  EXPECT_EQ(rib.find_group(1)->refcount, 3u);
  EXPECT_EQ(rib.find_group(10)->refcount, 1u);
  EXPECT_EQ(rib.find_group(11)->refcount, 0u);
  ok(nh_del(11));
  EXPECT_EQ(rib.find_group(1)->refcount, 2u);
}

TEST_F(RibTest, DeletingGroupInUseMakesRoutesPendingAndReportsIt) {
  ok(single(1, "192.0.2.1"));
  ok(group(10, {{1, 1}}));
  ok(route("10.0.0.0/24", 10));
  ok(route("10.0.1.0/24", 10));
  obs.take();
  EXPECT_EQ(err(nh_del(10)), "rib.nexthop.in_use");
  auto ev = obs.take();
  ASSERT_EQ(ev.size(), 3u);
  std::sort(ev.begin(), ev.begin() + 2);
  EXPECT_EQ(ev[0], "R~ 254 10.0.0.0/24 g0");  // routes moved off first (the observer checks too)
  EXPECT_EQ(ev[1], "R~ 254 10.0.1.0/24 g0");
  EXPECT_EQ(ev[2], "G- 10");
  EXPECT_EQ(rib.find_group(10), nullptr);
  EXPECT_EQ(rib.stats().groups, 1u);
  EXPECT_EQ(rib.stats().pending_routes, 2u);
  EXPECT_EQ(rib.find_group(1)->refcount, 0u);  // the deleted group released its member
  EXPECT_FALSE(rib.fib_group(10).has_value());
  // The id coming back completes the routes again.
  ok(group(10, {{1, 1}}));
  ev = obs.take();
  ASSERT_EQ(ev.size(), 3u);
  EXPECT_EQ(ev[0], "G+ 10");
  std::sort(ev.begin() + 1, ev.end());
  EXPECT_EQ(ev[1], "R~ 254 10.0.0.0/24 g10");
  EXPECT_EQ(ev[2], "R~ 254 10.0.1.0/24 g10");
  EXPECT_EQ(rib.stats().pending_routes, 0u);
}

TEST_F(RibTest, DeletingMemberInUseWithdrawsGroupsAndTheirRoutes) {
  ok(single(1, "192.0.2.1"));
  ok(single(2, "192.0.2.2"));
  ok(group(10, {{1, 1}, {2, 1}}));
  ok(route("10.0.0.0/24", 10));
  ok(route("10.0.1.0/24", 2));
  obs.take();
  EXPECT_EQ(err(nh_del(2)), "rib.nexthop.in_use");
  auto ev = obs.take();
  ASSERT_EQ(ev.size(), 4u);
  EXPECT_EQ(ev.back(), "G- 2");
  EXPECT_NE(std::find(ev.begin(), ev.end(), "G- 10"), ev.end());
  EXPECT_EQ(rib.find_group(10)->state, EntryState::Pending);
  EXPECT_EQ(rib.stats().pending_groups, 1u);
  EXPECT_EQ(rib.stats().pending_routes, 2u);
  // Both routes are still announced, as punts.
  ASSERT_EQ(obs.routes.size(), 2u);
  for (const auto& [key, view] : obs.routes) EXPECT_EQ(view.group_id, 0u);
  EXPECT_EQ(std::count(ev.begin(), ev.end(), "R~ 254 10.0.0.0/24 g0"), 1);
  EXPECT_EQ(std::count(ev.begin(), ev.end(), "R~ 254 10.0.1.0/24 g0"), 1);
}

TEST_F(RibTest, UnknownNexthopDeleteIsCountedAndChangesNothing) {
  ok(single(1, "192.0.2.1"));
  ok(route("10.0.0.0/24", 7));  // 7 is referenced but was never received
  obs.take();
  EXPECT_EQ(err(nh_del(3)), "rib.nexthop.unknown_delete");
  EXPECT_EQ(err(nh_del(7)), "rib.nexthop.unknown_delete");
  EXPECT_EQ(rib.stats().unknown_deletes, 2u);
  EXPECT_EQ(rib.stats().groups, 1u);
  EXPECT_EQ(obs.take(), Events{});
  ok(single(7, "192.0.2.7"));  // the placeholder still works
  EXPECT_EQ(rib.find_route(254, P("10.0.0.0/24"))->state, EntryState::Installed);
  EXPECT_EQ(obs.take(), (Events{"G+ 7", "R~ 254 10.0.0.0/24 g7"}));
}

TEST_F(RibTest, PlaceholdersVanishWithTheirLastReference) {
  ok(route("10.0.0.0/24", 99));
  ok(group(10, {{98, 1}}));
  ok(route_del("10.0.0.0/24"));
  ok(nh_del(10));
  std::vector<uint32_t> ids;
  rib.for_each_group([&](const RibGroup& g) { ids.push_back(g.spec.id); });
  EXPECT_EQ(ids, std::vector<uint32_t>{});
  EXPECT_EQ(rib.stats().groups, 0u);
  EXPECT_EQ(rib.stats().pending_routes, 0u);
  EXPECT_EQ(rib.stats().pending_groups, 0u);
  // A late arrival of a formerly referenced id is a plain add.
  ok(single(99, "192.0.2.99"));
  EXPECT_EQ(rib.find_group(99)->refcount, 0u);
}

TEST_F(RibTest, NestedOrSelfReferencingGroupsStayPending) {
  ok(single(1, "192.0.2.1"));
  ok(group(10, {{1, 1}}));
  ok(group(11, {{10, 1}}));  // Linux groups hold single next hops only
  ok(group(12, {{12, 1}}));
  EXPECT_EQ(rib.find_group(11)->state, EntryState::Pending);
  EXPECT_EQ(rib.find_group(12)->state, EntryState::Pending);
  ok(nh_del(12));
  EXPECT_EQ(rib.find_group(12), nullptr);
  EXPECT_EQ(rib.stats().pending_groups, 1u);
}

TEST_F(RibTest, SingleTurningIntoGroupWithdrawsGroupsUsingIt) {
  ok(single(1, "192.0.2.1"));
  ok(single(2, "192.0.2.2"));
  ok(group(10, {{1, 1}}));
  ok(route("10.0.0.0/24", 10));
  ok(route("10.0.1.0/24", 1));
  obs.take();
  ok(group(1, {{2, 1}}));  // id 1 is now a group: fine for the route, not as a member
  auto ev = obs.take();
  EXPECT_NE(std::find(ev.begin(), ev.end(), "G- 10"), ev.end());
  EXPECT_NE(std::find(ev.begin(), ev.end(), "G~ 1"), ev.end());
  EXPECT_EQ(rib.find_route(254, P("10.0.1.0/24"))->state, EntryState::Installed);
  EXPECT_EQ(rib.find_route(254, P("10.0.0.0/24"))->state, EntryState::Pending);
  EXPECT_NE(std::find(ev.begin(), ev.end(), "R~ 254 10.0.0.0/24 g0"), ev.end());
  EXPECT_EQ(obs.routes.at({254, P("10.0.0.0/24")}).group_id, 0u);
  EXPECT_EQ(obs.routes.at({254, P("10.0.1.0/24")}).group_id, 1u);
}

TEST_F(RibTest, PendingRouteIsRemovedAndRepointedLikeAnyOther) {
  ok(single(1, "192.0.2.1"));
  ok(route("10.0.0.0/24", 7));  // 7 unknown: pending, announced as a punt
  ok(route("10.0.1.0/24", 1));
  obs.take();
  // Pending -> another unknown id: still a punt, nothing the fast path must learn.
  ok(route("10.0.0.0/24", 8));
  EXPECT_EQ(obs.take(), Events{});
  // Pending -> known group: Changed onto it.
  ok(route("10.0.0.0/24", 1));
  EXPECT_EQ(obs.take(), (Events{"R~ 254 10.0.0.0/24 g1"}));
  // Installed -> unknown id: Changed back to a punt, never Removed.
  ok(route("10.0.1.0/24", 9));
  EXPECT_EQ(obs.take(), (Events{"R~ 254 10.0.1.0/24 g0"}));
  EXPECT_EQ(rib.stats().pending_routes, 1u);
  // A pending route's attributes still matter to the observer.
  ok(route("10.0.1.0/24", 9, 254, proto_id::ospf, 5));
  EXPECT_EQ(obs.take(), (Events{"R~ 254 10.0.1.0/24 g0"}));
  EXPECT_EQ(obs.routes.at({254, P("10.0.1.0/24")}).metric, 5u);
  // Deleting a pending route removes what was announced.
  ok(route_del("10.0.1.0/24"));
  EXPECT_EQ(obs.take(), (Events{"R- 254 10.0.1.0/24 g0"}));
  EXPECT_EQ(rib.stats().pending_routes, 0u);
  EXPECT_EQ(rib.find_group(1)->refcount, 1u);
}

}  // namespace
}  // namespace fpm_sink::test
