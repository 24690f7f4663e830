// Routes: upsert semantics, deletes, tables, families, non-unicast types and
// interned inline next-hop sets.
#include "rib_test_util.hpp"

namespace fpm_sink::test {
namespace {

TEST_F(RibTest, RouteOntoKnownGroupIsAnnouncedAfterGroup) {
  ok(single(1, "192.0.2.1"));
  ok(route("10.0.0.0/24", 1));
  EXPECT_EQ(obs.take(), (Events{"G+ 1", "R+ 254 10.0.0.0/24 g1"}));
  const RibRoute* r = rib.find_route(254, P("10.0.0.0/24"));
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->state, EntryState::Installed);
  EXPECT_EQ(r->group_id, 1u);
  EXPECT_EQ(rib.stats().routes_v4, 1u);
  EXPECT_EQ(rib.find_group(1)->refcount, 1u);
}

TEST_F(RibTest, RouteAddForExistingKeyReplacesIt) {
  ok(single(1, "192.0.2.1"));
  ok(single(2, "192.0.2.2"));
  ok(route("10.0.0.0/24", 1));
  obs.take();
  ok(route("10.0.0.0/24", 2));
  EXPECT_EQ(obs.take(), (Events{"R~ 254 10.0.0.0/24 g2"}));
  EXPECT_EQ(rib.find_group(1)->refcount, 0u);
  EXPECT_EQ(rib.find_group(2)->refcount, 1u);
  ok(route("10.0.0.0/24", 2, 254, proto_id::ospf, 30));
  EXPECT_EQ(obs.take(), (Events{"R~ 254 10.0.0.0/24 g2"}));
  EXPECT_EQ(obs.routes.begin()->second.metric, 30u);
  EXPECT_EQ(obs.routes.begin()->second.protocol, proto_id::ospf);
  EXPECT_EQ(rib.stats().routes_v4, 1u);
  EXPECT_EQ(rib.stats().route_adds, 3u);
}

TEST_F(RibTest, RouteDelRemovesWhateverProtocolAndMetricSay) {
  ok(single(1, "192.0.2.1"));
  ok(route("10.0.0.0/24", 1));
  obs.take();
  RouteDel d = route_del("10.0.0.0/24");
  d.protocol = proto_id::ospf;  // informational only
  d.metric = 999;
  ok(d);
  EXPECT_EQ(obs.take(), (Events{"R- 254 10.0.0.0/24 g1"}));
  EXPECT_EQ(rib.find_route(254, P("10.0.0.0/24")), nullptr);
  EXPECT_EQ(rib.stats().routes_v4, 0u);
  EXPECT_EQ(rib.find_group(1)->refcount, 0u);
}

TEST_F(RibTest, UnknownRouteDeleteIsCountedAndChangesNothing) {
  ok(single(1, "192.0.2.1"));
  ok(route("10.0.0.0/24", 1));
  obs.take();
  EXPECT_EQ(err(route_del("10.0.1.0/24")), "rib.route.unknown_delete");
  EXPECT_EQ(err(route_del("10.0.0.0/24", 100)), "rib.route.unknown_delete");  // other table
  EXPECT_EQ(err(route_del("10.0.0.0/25")), "rib.route.unknown_delete");       // other length
  EXPECT_EQ(rib.stats().unknown_deletes, 3u);
  EXPECT_EQ(obs.take(), Events{});
  EXPECT_NE(rib.find_route(254, P("10.0.0.0/24")), nullptr);
  EXPECT_EQ(rib.stats().routes_v4, 1u);
}

TEST_F(RibTest, FamiliesAndTablesAreSeparateKeys) {
  ok(single(1, "192.0.2.1"));
  ok(single(6, "2001:db8::1"));
  ok(route("10.0.0.0/24", 1));
  ok(route("10.0.0.0/24", 1, 100));
  ok(route("2001:db8:1::/48", 6));
  ok(route("2001:db8:1::/48", 6, 100));
  ok(route("::/0", 6));
  EXPECT_EQ(rib.stats().routes_v4, 2u);
  EXPECT_EQ(rib.stats().routes_v6, 3u);
  ok(route_del("2001:db8:1::/48", 100));
  EXPECT_NE(rib.find_route(254, P("2001:db8:1::/48")), nullptr);
  EXPECT_EQ(rib.find_route(100, P("2001:db8:1::/48")), nullptr);
  EXPECT_EQ(rib.stats().routes_v6, 2u);
  EXPECT_EQ(rib.find_group(6)->refcount, 2u);
}

TEST_F(RibTest, NonUnicastRoutesHaveNoGroupAndKeepTheirType) {
  ok(typed_route("192.0.2.0/24", RouteType::Blackhole));
  ok(typed_route("198.51.100.0/24", RouteType::Unreachable));
  ok(typed_route("2001:db8:dead::/48", RouteType::Prohibit));
  EXPECT_EQ(obs.take(), (Events{"R+ 254 192.0.2.0/24 g0", "R+ 254 198.51.100.0/24 g0",
                                "R+ 254 2001:db8:dead::/48 g0"}));
  EXPECT_EQ(obs.routes.at({254, P("198.51.100.0/24")}).type, RouteType::Unreachable);
  EXPECT_EQ(obs.routes.at({254, P("2001:db8:dead::/48")}).type, RouteType::Prohibit);
  // A blackhole route that still carries an nhg id does not reference the group.
  RouteAdd bh = typed_route("203.0.113.0/24", RouteType::Blackhole);
  bh.nhg_id = 77;
  ok(bh);
  EXPECT_EQ(rib.find_route(254, P("203.0.113.0/24"))->state, EntryState::Installed);
  EXPECT_EQ(rib.stats().pending_routes, 0u);
}

TEST_F(RibTest, RouteOnBlackholeNexthopGroupIsBlackholeGroup) {
  ok(blackhole_nh(9));
  ok(route("10.9.0.0/16", 9));
  auto g = rib.fib_group(9);
  ASSERT_TRUE(g.has_value());
  EXPECT_TRUE(g->blackhole);
  EXPECT_TRUE(obs.groups.at(9).blackhole);
  ok(single(1, "192.0.2.1"));
  EXPECT_FALSE(rib.fib_group(1)->blackhole);
}

TEST_F(RibTest, InlineSetsAreInternedSharedAndReleased) {
  const WeightedNextHop a{gw("192.0.2.1"), 1}, b{gw("192.0.2.2", 3), 2};
  ok(inline_route("10.1.0.0/24", {a, b}));
  ok(inline_route("10.2.0.0/24", {b, a}));  // same set, other order
  auto ev = obs.take();
  ASSERT_EQ(ev.size(), 3u);
  const uint32_t id = rib.find_route(254, P("10.1.0.0/24"))->group_id;
  EXPECT_GE(id, kInlineGroupIdBase);
  EXPECT_EQ(rib.find_route(254, P("10.2.0.0/24"))->group_id, id);
  EXPECT_EQ(ev[0], "G+ " + std::to_string(id));
  EXPECT_EQ(rib.stats().inline_groups, 1u);
  auto g = rib.fib_group(id);
  ASSERT_TRUE(g.has_value());
  ASSERT_EQ(g->members.size(), 2u);
  EXPECT_EQ(g->members[0].nh, a.nh);
  EXPECT_EQ(g->members[1].weight, 2u);

  // A different weight is a different set.
  ok(inline_route("10.3.0.0/24", {a, WeightedNextHop{b.nh, 3}}));
  EXPECT_EQ(rib.stats().inline_groups, 2u);
  EXPECT_NE(rib.find_route(254, P("10.3.0.0/24"))->group_id, id);
  obs.take();

  ok(route_del("10.1.0.0/24"));
  EXPECT_EQ(obs.take(), (Events{"R- 254 10.1.0.0/24 g" + std::to_string(id)}));
  ok(route_del("10.2.0.0/24"));
  EXPECT_EQ(obs.take(),
            (Events{"R- 254 10.2.0.0/24 g" + std::to_string(id), "G- " + std::to_string(id)}));
  EXPECT_FALSE(rib.fib_group(id).has_value());
  EXPECT_EQ(rib.stats().inline_groups, 1u);
}

TEST_F(RibTest, InlineRouteMovingToNhgReleasesSetAfterMoving) {
  ok(single(1, "192.0.2.1"));
  ok(inline_route("10.1.0.0/24", {{gw("192.0.2.9"), 1}}));
  const uint32_t id = rib.find_route(254, P("10.1.0.0/24"))->group_id;
  obs.take();
  ok(route("10.1.0.0/24", 1));
  EXPECT_EQ(obs.take(), (Events{"R~ 254 10.1.0.0/24 g1", "G- " + std::to_string(id)}));
  EXPECT_EQ(rib.stats().inline_groups, 0u);
}

TEST_F(RibTest, InlineBlackholeSetIsBlackholeGroup) {
  NextHop bh;
  bh.blackhole = true;
  ok(inline_route("10.1.0.0/24", {{bh, 1}}));
  const uint32_t id = rib.find_route(254, P("10.1.0.0/24"))->group_id;
  EXPECT_TRUE(rib.fib_group(id)->blackhole);
}

TEST_F(RibTest, NhgIdInInlineRangeIsRejected) {
  EXPECT_EQ(err(route("10.0.0.0/8", kInlineGroupIdBase + 1)), "rib.route.bad_nhg_id");
  EXPECT_EQ(rib.find_route(254, P("10.0.0.0/8")), nullptr);
  EXPECT_EQ(err(single(kInlineGroupIdBase, "192.0.2.1")), "rib.nexthop.bad_id");
  EXPECT_EQ(err(single(0, "192.0.2.1")), "rib.nexthop.bad_id");
  EXPECT_EQ(rib.stats().groups, 0u);
}

TEST_F(RibTest, ForEachRouteIsSortedByTableFamilyAddressLength) {
  ok(single(1, "192.0.2.1"));
  ok(single(6, "2001:db8::1"));
  for (const char* p : {"10.0.0.0/24", "2001:db8::/32", "10.0.0.0/8", "9.0.0.0/8", "0.0.0.0/0"})
    ok(route(p, std::string(p).find(':') == std::string::npos ? 1 : 6));
  ok(route("1.0.0.0/8", 1, 10));
  std::vector<std::string> seen;
  rib.for_each_route([&](const RibRoute& r) {
    seen.push_back(std::to_string(r.spec.table) + " " + r.spec.prefix.to_string());
  });
  EXPECT_EQ(seen,
            (std::vector<std::string>{"10 1.0.0.0/8", "254 0.0.0.0/0", "254 9.0.0.0/8",
                                      "254 10.0.0.0/8", "254 10.0.0.0/24", "254 2001:db8::/32"}));
}

TEST_F(RibTest, NullObserverIsFine) {
  Rib quiet;
  EXPECT_TRUE(quiet.apply(route("10.0.0.0/8", 5)).ok());
  EXPECT_TRUE(quiet.apply(single(5, "192.0.2.1")).ok());
  EXPECT_TRUE(quiet.apply(inline_route("10.1.0.0/16", {{gw("192.0.2.1"), 1}})).ok());
  EXPECT_TRUE(quiet.apply(nh_del(5)).ok() == false);
  EXPECT_EQ(quiet.stats().pending_routes, 1u);
}

}  // namespace
}  // namespace fpm_sink::test
