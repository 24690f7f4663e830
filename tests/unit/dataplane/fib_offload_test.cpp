#include "dataplane/fib_offload.hpp"

#include <gtest/gtest.h>

#include <map>

#include "dataplane/fake_announced_routes.hpp"
#include "dataplane/fake_map_writer.hpp"
#include "ip_literals.hpp"

namespace fpm_sink {
namespace {

using namespace std::chrono_literals;

using test::A;
using test::P;

constexpr uint32_t kEth1 = 11, kEth2 = 12;
const EthAddr kMacEth1{2, 0, 0, 0, 0, 1}, kMacEth2{2, 0, 0, 0, 0, 2};
const EthAddr kMacGw1{2, 0, 0, 0, 1, 1}, kMacGw2{2, 0, 0, 0, 1, 2};

ResolvedNextHop via(const char* gw, uint32_t ifindex, uint32_t weight = 1) {
  ResolvedNextHop r;
  r.nh.gateway = A(gw);
  r.nh.ifindex = ifindex;
  r.weight = weight;
  return r;
}

FibGroup group(uint32_t id, std::vector<ResolvedNextHop> members) {
  return FibGroup{id, false, std::move(members)};
}

RouteView route(const char* prefix, uint32_t group_id, RouteType type = RouteType::Unicast,
                uint32_t table = 254) {
  RouteView r;
  r.table = table;
  r.prefix = P(prefix);
  r.type = type;
  r.group_id = type == RouteType::Unicast ? group_id : 0;
  return r;
}

constexpr uint16_t kFwd = FPM_IFACE_F_FWD4 | FPM_IFACE_F_FWD6;
// Every port counts as sending IPv4 redirects until told otherwise.
constexpr uint16_t kRedirects = FPM_IFACE_F_REDIRECTS4;

// A link as the kernel reports a routed port: both forwarding switches on.
LinkEntry routed(EthAddr mac, uint32_t mtu, bool up) {
  LinkEntry l{mac, mtu, up};
  l.forward_v4 = l.forward_v6 = true;
  return l;
}

class FibOffloadTest : public ::testing::Test {
 protected:
  FibOffloadTest() {
    kernel.set_link(kEth1, routed(kMacEth1, 1500, true));
    kernel.set_link(kEth2, routed(kMacEth2, 9000, true));
    kernel.set_neighbour(A("10.0.1.1"), kEth1, {kMacGw1, true});
    kernel.set_neighbour(A("10.0.2.1"), kEth2, {kMacGw2, true});
    make();
  }
  void make(size_t route_capacity = SIZE_MAX, uint32_t max_groups = 64,
            uint32_t max_nexthops = 64) {
    fp.reset();
    writer = std::make_unique<FakeMapWriter>(route_capacity);
    FibOffloadLimits cfg;
    cfg.max_groups = max_groups;
    cfg.max_nexthops = max_nexthops;
    cfg.index_grace = 1s;
    cfg.clock = [this] { return now; };
    fp = std::make_unique<FibOffload>(cfg, *writer, kernel, kernel, routes);
  }
  uint32_t forward(uint32_t group_id) {
    return fpm_act_make(FPM_ACT_FORWARD, *fp->group_index(group_id));
  }
  std::map<uint32_t, uint32_t> bucket_histogram(uint32_t group_id) {
    std::map<uint32_t, uint32_t> h;
    for (uint32_t b : writer->groups.at(*fp->group_index(group_id)).buckets) ++h[b];
    return h;
  }

  StaticKernelView kernel;
  std::chrono::steady_clock::time_point now{};
  std::unique_ptr<FakeMapWriter> writer;
  FakeAnnouncedRoutes routes;  // before fp: it holds the routes fp reads
  std::unique_ptr<FibOffload> fp;
};

TEST_F(FibOffloadTest, GroupAndRouteProgramTheMaps) {
  fp->group_changed(ChangeKind::Added, group(7, {via("10.0.1.1", kEth1), via("10.0.2.1", kEth2)}));
  routes.announce(*fp, ChangeKind::Added, route("192.0.2.0/24", 7));

  const uint32_t gi = *fp->group_index(7);
  ASSERT_EQ(writer->groups.count(gi), 1u);
  const fpm_nhg& g = writer->groups[gi];
  EXPECT_EQ(g.flags, FPM_NHG_F_VALID);
  EXPECT_EQ(g.n_members, 2u);
  auto h = bucket_histogram(7);
  ASSERT_EQ(h.size(), 2u);
  for (auto [nh, n] : h) {
    EXPECT_EQ(n, 128u);
    const fpm_nexthop& e = writer->nexthops.at(nh);
    EXPECT_EQ(e.state, FPM_NH_VALID);
    if (e.ifindex == kEth1) {
      EXPECT_EQ(0, memcmp(e.dst_mac, kMacGw1.data(), 6));
      EXPECT_EQ(0, memcmp(e.src_mac, kMacEth1.data(), 6));
      EXPECT_EQ(e.mtu, 1500u);
    } else {
      EXPECT_EQ(e.ifindex, kEth2);
      EXPECT_EQ(e.mtu, 9000u);
    }
  }
  EXPECT_EQ(writer->routes.at(P("192.0.2.0/24")), forward(7));
  EXPECT_EQ(writer->lookup(A("192.0.2.77")), forward(7));
  auto st = fp->offload_state(254, P("192.0.2.0/24"));
  ASSERT_TRUE(st);
  EXPECT_EQ(st->state, OffloadState::Installed);
}

TEST_F(FibOffloadTest, RouteTypesMapToActions) {
  routes.announce(*fp, ChangeKind::Added, route("10.9.0.0/16", 0, RouteType::Blackhole));
  routes.announce(*fp, ChangeKind::Added, route("10.8.0.0/16", 0, RouteType::Unreachable));
  routes.announce(*fp, ChangeKind::Added, route("10.7.0.0/16", 0, RouteType::Prohibit));
  routes.announce(*fp, ChangeKind::Added, route("10.6.0.1/32", 0, RouteType::Local));
  routes.announce(*fp, ChangeKind::Added, route("10.5.0.0/16", 0, RouteType::Unicast, 100));
  EXPECT_EQ(writer->routes[P("10.9.0.0/16")], fpm_act_make(FPM_ACT_DROP, 0));
  EXPECT_EQ(writer->routes[P("10.8.0.0/16")], fpm_act_make(FPM_ACT_PUNT, FPM_REASON_UNREACHABLE));
  EXPECT_EQ(writer->routes[P("10.7.0.0/16")], fpm_act_make(FPM_ACT_PUNT, FPM_REASON_PROHIBIT));
  EXPECT_EQ(writer->routes[P("10.6.0.1/32")], fpm_act_make(FPM_ACT_PUNT, FPM_REASON_LOCAL));
  // Other tables never reach the main LPM: they have their own (fib_offload_vrf_test.cpp).
  EXPECT_EQ(writer->routes.count(P("10.5.0.0/16")), 0u);
  EXPECT_EQ(fp->offload_state(100, P("10.5.0.0/16"))->reason, OffloadReason::PendingGroup);
  EXPECT_EQ(fp->offload_state(254, P("10.9.0.0/16"))->state, OffloadState::Installed);
  EXPECT_EQ(fp->offload_state(254, P("10.8.0.0/16"))->state, OffloadState::NotOffloaded);
  auto s = fp->stats();
  EXPECT_EQ(s.routes_installed, 1u);
  EXPECT_EQ(s.routes_not_offloaded, 4u);
}

TEST_F(FibOffloadTest, BlackholeAndConnectedGroups) {
  fp->group_changed(ChangeKind::Added, FibGroup{1, true, {}});
  ResolvedNextHop connected;
  connected.nh.ifindex = kEth1;
  fp->group_changed(ChangeKind::Added, group(2, {connected}));
  routes.announce(*fp, ChangeKind::Added, route("10.1.0.0/16", 1));
  routes.announce(*fp, ChangeKind::Added, route("10.2.0.0/16", 2));
  EXPECT_EQ(writer->routes[P("10.1.0.0/16")], fpm_act_make(FPM_ACT_DROP, 0));
  EXPECT_EQ(writer->routes[P("10.2.0.0/16")], fpm_act_make(FPM_ACT_PUNT, FPM_REASON_CONNECTED));
  EXPECT_EQ(fp->group_index(1), std::nullopt);  // no fpm_nhg slot wasted
  EXPECT_TRUE(writer->groups.empty());
}

TEST_F(FibOffloadTest, NextHopsAreSharedAndRefcounted) {
  fp->group_changed(ChangeKind::Added, group(1, {via("10.0.1.1", kEth1)}));
  fp->group_changed(ChangeKind::Added, group(2, {via("10.0.1.1", kEth1), via("10.0.2.1", kEth2)}));
  EXPECT_EQ(fp->nexthops().size(), 2u);
  EXPECT_EQ(writer->writes.nexthop, 2u);  // one write per distinct next hop
  fp->group_changed(ChangeKind::Removed, group(2, {}));
  EXPECT_EQ(fp->nexthops().size(), 1u);
  fp->group_changed(ChangeKind::Removed, group(1, {}));
  EXPECT_EQ(fp->nexthops().size(), 0u);
}

TEST_F(FibOffloadTest, NeighbourChangeIsOneWriteWhateverTheRouteCount) {
  kernel.erase_neighbour(A("10.0.1.1"), kEth1);
  fp->group_changed(ChangeKind::Added, group(1, {via("10.0.1.1", kEth1)}));
  fp->group_changed(ChangeKind::Added, group(2, {via("10.0.1.1", kEth1), via("10.0.2.1", kEth2)}));
  for (uint32_t i = 0; i < 5000; ++i) {
    RouteView r = route("0.0.0.0/32", 1 + (i & 1));
    r.prefix = *Prefix::make(IpAddr::v4(0x0a000000u + (i << 8)), 24);
    routes.announce(*fp, ChangeKind::Added, r);
  }
  auto before = writer->writes;
  kernel.set_neighbour(A("10.0.1.1"), kEth1, {kMacGw1, true});
  auto n = fp->neighbour_changed(A("10.0.1.1"), kEth1);
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 1u);
  EXPECT_EQ(writer->writes.total() - before.total(), 1u);
  EXPECT_EQ(writer->writes.nexthop - before.nexthop, 1u);
  // Link down: again one write per next hop on that link, none per route.
  before = writer->writes;
  kernel.set_link(kEth1, {kMacEth1, 1500, false});
  ASSERT_TRUE(fp->link_changed(kEth1));
  EXPECT_EQ(writer->writes.total() - before.total(), 1u);
  bool saw_failed = false;
  for (auto& [i, e] : writer->nexthops)
    if (e.ifindex == kEth1) saw_failed = e.state == FPM_NH_FAILED;
  EXPECT_TRUE(saw_failed);
  // Nothing changed for an unrelated neighbour: no write at all.
  before = writer->writes;
  ASSERT_TRUE(fp->neighbour_changed(A("10.0.9.9"), kEth1));
  EXPECT_EQ(writer->writes.total(), before.total());
}

TEST_F(FibOffloadTest, FailedNeighbourFailsItsNextHopInOneWrite) {
  fp->group_changed(ChangeKind::Added, group(1, {via("10.0.1.1", kEth1), via("10.0.2.1", kEth2)}));
  routes.announce(*fp, ChangeKind::Added, route("198.51.100.0/24", 1));
  auto before = writer->writes;
  kernel.set_neighbour(A("10.0.1.1"), kEth1, {{}, false, true});
  auto n = fp->neighbour_changed(A("10.0.1.1"), kEth1);
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 1u);
  EXPECT_EQ(writer->writes.total() - before.total(), 1u);
  for (auto& [i, e] : writer->nexthops)
    EXPECT_EQ(e.state, e.ifindex == kEth1 ? FPM_NH_FAILED : FPM_NH_VALID)
        << "ifindex " << e.ifindex;
  // Resolved again: valid again, with its MAC.
  kernel.set_neighbour(A("10.0.1.1"), kEth1, {kMacGw1, true});
  ASSERT_TRUE(fp->neighbour_changed(A("10.0.1.1"), kEth1));
  for (auto& [i, e] : writer->nexthops) {
    EXPECT_EQ(e.state, FPM_NH_VALID);
    if (e.ifindex == kEth1) {
      EXPECT_EQ(0, memcmp(e.dst_mac, kMacGw1.data(), 6));
    }
  }
  // Deleted from the kernel's table: unresolved, the kernel resolves it.
  kernel.erase_neighbour(A("10.0.1.1"), kEth1);
  ASSERT_TRUE(fp->neighbour_changed(A("10.0.1.1"), kEth1));
  for (auto& [i, e] : writer->nexthops) {
    if (e.ifindex == kEth1) {
      EXPECT_EQ(e.state, FPM_NH_UNRESOLVED);
    }
  }
}

// A new MAC for a valid neighbour: only its next-hop entry is rewritten, parked
// FPM_NH_UNRESOLVED first (bpf/fpm_abi.h) so no packet pairs the old MAC with the new.
TEST_F(FibOffloadTest, NeighbourMacChangeRewritesOnlyTheNextHop) {
  fp->group_changed(ChangeKind::Added, group(1, {via("10.0.1.1", kEth1)}));
  routes.announce(*fp, ChangeKind::Added, route("198.51.100.0/24", 1));
  auto before = writer->writes;
  const EthAddr moved{2, 0, 0, 0, 9, 9};
  kernel.set_neighbour(A("10.0.1.1"), kEth1, {moved, true});
  ASSERT_TRUE(fp->neighbour_changed(A("10.0.1.1"), kEth1));
  EXPECT_EQ(writer->writes.nexthop - before.nexthop, 2u);
  EXPECT_EQ(writer->writes.total() - before.total(), 2u);
  ASSERT_EQ(writer->nexthops.size(), 1u);
  const fpm_nexthop& e = writer->nexthops.begin()->second;
  EXPECT_EQ(e.state, FPM_NH_VALID);
  EXPECT_EQ(0, memcmp(e.dst_mac, moved.data(), 6));
  EXPECT_EQ(0, memcmp(e.src_mac, kMacEth1.data(), 6));
}

TEST_F(FibOffloadTest, UnresolvedNeighbourPunts) {
  kernel.set_neighbour(A("10.0.1.1"), kEth1, {{}, false});
  fp->group_changed(ChangeKind::Added, group(1, {via("10.0.1.1", kEth1)}));
  ASSERT_EQ(writer->nexthops.size(), 1u);
  EXPECT_EQ(writer->nexthops.begin()->second.state, FPM_NH_UNRESOLVED);
}

TEST_F(FibOffloadTest, MemberRemovalRewritesOnlyItsBuckets) {
  fp->group_changed(ChangeKind::Added, group(1, {via("10.0.1.1", kEth1), via("10.0.2.1", kEth2),
                                                 via("10.0.3.1", kEth2), via("10.0.4.1", kEth2)}));
  routes.announce(*fp, ChangeKind::Added, route("198.51.100.0/24", 1));
  const uint32_t gi = *fp->group_index(1);
  const std::vector<uint32_t> old(std::begin(writer->groups[gi].buckets),
                                  std::end(writer->groups[gi].buckets));
  auto before = writer->writes;
  fp->group_changed(ChangeKind::Changed, group(1, {via("10.0.1.1", kEth1), via("10.0.2.1", kEth2),
                                                   via("10.0.4.1", kEth2)}));
  EXPECT_EQ(*fp->group_index(1), gi);  // same slot, routes untouched
  EXPECT_EQ(writer->writes.route_set, before.route_set);
  EXPECT_EQ(writer->writes.bucket - before.bucket, 64u);
  size_t moved = 0;
  for (size_t i = 0; i < FPM_NHG_BUCKETS; ++i) moved += old[i] != writer->groups[gi].buckets[i];
  EXPECT_EQ(moved, 64u);
  EXPECT_EQ(writer->groups[gi].n_members, 3u);
  EXPECT_EQ(fp->nexthops().size(), 3u);
}

TEST_F(FibOffloadTest, WeightsReachTheBuckets) {
  fp->group_changed(ChangeKind::Added,
                    group(1, {via("10.0.1.1", kEth1, 3), via("10.0.2.1", kEth2, 1)}));
  auto h = bucket_histogram(1);
  std::vector<uint32_t> counts;
  for (auto [nh, n] : h) counts.push_back(n);
  std::sort(counts.begin(), counts.end());
  EXPECT_EQ(counts, (std::vector<uint32_t>{64, 192}));
}

TEST_F(FibOffloadTest, WarmRestartNeverReusesTheAdoptedTablesIndices) {
  make(SIZE_MAX, 4, 4);
  // The previous run's tables use groups 0 and 2 and next hops 1 and 3.
  const uint32_t groups[] = {0, 2}, nexthops[] = {1, 3};
  fp->hold_indices(groups, nexthops);
  fp->group_changed(ChangeKind::Added, group(7, {via("10.0.1.1", kEth1), via("10.0.2.1", kEth2)}));
  fp->group_changed(ChangeKind::Added, group(8, {via("10.0.1.1", kEth1)}));
  EXPECT_EQ(fp->group_index(7), 1u);
  EXPECT_EQ(fp->group_index(8), 3u);
  for (const auto& [index, nh] : writer->nexthops) EXPECT_TRUE(index == 0 || index == 2) << index;
  // A third group finds no index: held ones are not free.
  fp->group_changed(ChangeKind::Added, group(9, {via("10.0.2.1", kEth2)}));
  EXPECT_EQ(fp->group_index(9), std::nullopt);
  // Published new tables: the held indices come back after the grace period.
  fp->release_held();
  fp->poll();
  EXPECT_EQ(fp->group_index(9), std::nullopt);
  now += 1s;
  fp->poll();
  ASSERT_TRUE(fp->group_index(9));
  EXPECT_TRUE(*fp->group_index(9) == 0u || *fp->group_index(9) == 2u);
}

TEST_F(FibOffloadTest, GroupIndicesAreDenseAndReusedOnlyAfterGrace) {
  make(SIZE_MAX, 2, 64);
  fp->group_changed(ChangeKind::Added, group(0xdeadbeef, {via("10.0.1.1", kEth1)}));
  fp->group_changed(ChangeKind::Added, group(kInlineGroupIdBase + 5, {via("10.0.2.1", kEth2)}));
  EXPECT_EQ(fp->group_index(0xdeadbeef), 0u);
  EXPECT_EQ(fp->group_index(kInlineGroupIdBase + 5), 1u);
  fp->group_changed(ChangeKind::Removed, group(0xdeadbeef, {}));
  EXPECT_EQ(writer->groups[0].flags, 0u);  // unpublished at once

  // Slot 0 is quarantined: a new group cannot have it yet.
  fp->group_changed(ChangeKind::Added, group(3, {via("10.0.1.1", kEth1)}));
  routes.announce(*fp, ChangeKind::Added, route("203.0.113.0/24", 3));
  EXPECT_EQ(fp->group_index(3), std::nullopt);
  auto st = fp->offload_state(254, P("203.0.113.0/24"));
  EXPECT_EQ(st->state, OffloadState::Failed);
  EXPECT_EQ(st->reason, OffloadReason::GroupFull);
  EXPECT_EQ(writer->routes[P("203.0.113.0/24")],
            fpm_act_make(FPM_ACT_PUNT, FPM_REASON_OFFLOAD_FAILED));

  now += 1s;
  fp->poll();
  EXPECT_EQ(fp->group_index(3), 0u);
  EXPECT_EQ(writer->routes[P("203.0.113.0/24")], forward(3));
  EXPECT_EQ(fp->offload_state(254, P("203.0.113.0/24"))->state, OffloadState::Installed);
}

TEST_F(FibOffloadTest, LpmFullMarksFailedAndRecovers) {
  make(2);
  fp->group_changed(ChangeKind::Added, group(1, {via("10.0.1.1", kEth1)}));
  routes.announce(*fp, ChangeKind::Added, route("10.1.0.0/16", 1));
  routes.announce(*fp, ChangeKind::Added, route("10.2.0.0/16", 1));
  routes.announce(*fp, ChangeKind::Added, route("10.3.0.0/16", 1));
  auto st = fp->offload_state(254, P("10.3.0.0/16"));
  EXPECT_EQ(st->state, OffloadState::Failed);
  EXPECT_EQ(st->reason, OffloadReason::LpmFull);
  EXPECT_TRUE(writer->punted.count(P("10.3.0.0/16")));
  EXPECT_EQ(fp->stats().routes_failed, 1u);
  EXPECT_EQ(fp->stats().routes_v4.failed, 1u);
  EXPECT_EQ(fp->stats().routes_v6.failed, 0u);

  EXPECT_EQ(fp->poll(), 0u);  // still full
  routes.announce(*fp, ChangeKind::Removed, route("10.1.0.0/16", 1));
  EXPECT_EQ(fp->poll(), 1u);
  EXPECT_EQ(fp->offload_state(254, P("10.3.0.0/16"))->state, OffloadState::Installed);
  EXPECT_EQ(writer->routes[P("10.3.0.0/16")], forward(1));
  EXPECT_EQ(fp->stats().routes_failed, 0u);
  EXPECT_EQ(fp->stats().routes_installed, 2u);
  EXPECT_EQ(fp->stats().routes_v4.failed, 0u);
  EXPECT_EQ(fp->stats().routes_v4.installed, 2u);
}

// Each route is counted under its prefix's family, through every state change,
// and the totals stay the sum of both families.
TEST_F(FibOffloadTest, RouteCountsByFamily) {
  fp->group_changed(ChangeKind::Added, group(1, {via("10.0.1.1", kEth1)}));
  routes.announce(*fp, ChangeKind::Added, route("10.1.0.0/16", 1));
  routes.announce(*fp, ChangeKind::Added, route("10.2.0.0/16", 0, RouteType::Blackhole));
  routes.announce(*fp, ChangeKind::Added, route("2001:db8:1::/48", 1));
  routes.announce(*fp, ChangeKind::Added, route("2001:db8:2::/48", 0, RouteType::Unreachable));
  routes.announce(*fp, ChangeKind::Added, route("2001:db8:3::/48", 0, RouteType::Unicast, 100));
  routes.announce(*fp, ChangeKind::Added, route("2001:db8:4::/48", 9));  // unknown group
  auto totals_add_up = [](const FibOffloadStats& s) {
    EXPECT_EQ(s.routes_installed, s.routes_v4.installed + s.routes_v6.installed);
    EXPECT_EQ(s.routes_failed, s.routes_v4.failed + s.routes_v6.failed);
    EXPECT_EQ(s.routes_not_offloaded, s.routes_v4.not_offloaded + s.routes_v6.not_offloaded);
  };
  auto s = fp->stats();
  EXPECT_EQ(s.routes_v4.installed, 2u);
  EXPECT_EQ(s.routes_v4.failed, 0u);
  EXPECT_EQ(s.routes_v4.not_offloaded, 0u);
  EXPECT_EQ(s.routes_v6.installed, 1u);
  EXPECT_EQ(s.routes_v6.failed, 1u);
  EXPECT_EQ(s.routes_v6.not_offloaded, 2u);  // unreachable, other table
  totals_add_up(s);

  // A state change moves the route within its family; removals leave it.
  routes.announce(*fp, ChangeKind::Changed, route("2001:db8:1::/48", 0, RouteType::Prohibit));
  routes.announce(*fp, ChangeKind::Removed, route("10.2.0.0/16", 0, RouteType::Blackhole));
  routes.announce(*fp, ChangeKind::Removed, route("2001:db8:3::/48", 0, RouteType::Unicast, 100));
  s = fp->stats();
  EXPECT_EQ(s.routes_v4.installed, 1u);
  EXPECT_EQ(s.routes_v6.installed, 0u);
  EXPECT_EQ(s.routes_v6.failed, 1u);
  EXPECT_EQ(s.routes_v6.not_offloaded, 2u);  // unreachable, prohibit
  totals_add_up(s);
}

TEST_F(FibOffloadTest, NextHopTableFullFailsGroupThenRecovers) {
  make(SIZE_MAX, 8, 1);
  fp->group_changed(ChangeKind::Added, group(1, {via("10.0.1.1", kEth1)}));
  fp->group_changed(ChangeKind::Added, group(2, {via("10.0.2.1", kEth2)}));
  routes.announce(*fp, ChangeKind::Added, route("10.2.0.0/16", 2));
  EXPECT_EQ(fp->offload_state(254, P("10.2.0.0/16"))->reason, OffloadReason::NextHopFull);
  fp->group_changed(ChangeKind::Removed, group(1, {}));
  now += 2s;
  fp->poll();
  EXPECT_EQ(fp->offload_state(254, P("10.2.0.0/16"))->state, OffloadState::Installed);
  EXPECT_EQ(writer->routes[P("10.2.0.0/16")], forward(2));
}

TEST_F(FibOffloadTest, GroupTurningBlackholeRewritesItsRoutesThenFreesSlot) {
  fp->group_changed(ChangeKind::Added, group(1, {via("10.0.1.1", kEth1)}));
  routes.announce(*fp, ChangeKind::Added, route("10.1.0.0/16", 1));
  const uint32_t gi = *fp->group_index(1);
  fp->group_changed(ChangeKind::Changed, FibGroup{1, true, {}});
  EXPECT_EQ(writer->routes[P("10.1.0.0/16")], fpm_act_make(FPM_ACT_DROP, 0));
  EXPECT_EQ(writer->groups[gi].flags, 0u);
  fp->group_changed(ChangeKind::Changed, group(1, {via("10.0.1.1", kEth1)}));
  EXPECT_EQ(writer->routes[P("10.1.0.0/16")], forward(1));
}

TEST_F(FibOffloadTest, RouteMovesBetweenGroupsAndIsRemoved) {
  fp->group_changed(ChangeKind::Added, group(1, {via("10.0.1.1", kEth1)}));
  fp->group_changed(ChangeKind::Added, group(2, {via("10.0.2.1", kEth2)}));
  routes.announce(*fp, ChangeKind::Added, route("10.1.0.0/16", 1));
  routes.announce(*fp, ChangeKind::Changed, route("10.1.0.0/16", 2));
  EXPECT_EQ(writer->routes[P("10.1.0.0/16")], forward(2));
  routes.announce(*fp, ChangeKind::Removed, route("10.1.0.0/16", 2));
  EXPECT_EQ(writer->routes.count(P("10.1.0.0/16")), 0u);
  EXPECT_EQ(fp->offload_state(254, P("10.1.0.0/16")), std::nullopt);
  fp->group_changed(ChangeKind::Removed, group(1, {}));
  fp->group_changed(ChangeKind::Removed, group(2, {}));
  auto s = fp->stats();
  EXPECT_EQ(s.groups, 0u);
  EXPECT_EQ(s.routes_installed + s.routes_failed + s.routes_not_offloaded, 0u);
}

TEST_F(FibOffloadTest, WriteErrorIsRecordedAndRetried) {
  fp->group_changed(ChangeKind::Added, group(1, {via("10.0.1.1", kEth1)}));
  writer->fail_next_write = true;
  routes.announce(*fp, ChangeKind::Added, route("10.1.0.0/16", 1));
  EXPECT_EQ(fp->offload_state(254, P("10.1.0.0/16"))->reason, OffloadReason::WriteError);
  ASSERT_TRUE(fp->last_error());
  EXPECT_EQ(fp->last_error()->id, "bpf.map.update");
  EXPECT_EQ(fp->poll(), 1u);
  EXPECT_EQ(writer->routes[P("10.1.0.0/16")], forward(1));
}

TEST_F(FibOffloadTest, PortsGoToIfacesAndDevmap) {
  ASSERT_TRUE(fp->add_port(kEth1));
  ASSERT_TRUE(fp->add_port(kEth2, true, false));
  EXPECT_EQ(writer->tx_ports, (std::set<uint32_t>{kEth1, kEth2}));
  EXPECT_EQ(writer->ifaces[kEth1].flags, FPM_IFACE_F_V4 | FPM_IFACE_F_V6 | kFwd | kRedirects);
  EXPECT_EQ(writer->ifaces[kEth2].flags, FPM_IFACE_F_V4 | kFwd | kRedirects);
  EXPECT_NE(writer->ifaces[kEth1].slot, writer->ifaces[kEth2].slot);
  EXPECT_EQ(writer->ifaces[kEth2].mtu, 9000u);
  ASSERT_TRUE(fp->remove_port(kEth1));
  EXPECT_EQ(writer->tx_ports, (std::set<uint32_t>{kEth2}));
  EXPECT_EQ(writer->ifaces.count(kEth1), 0u);
}

// The XDP program routes only frames sent to the port's own MAC.
TEST_F(FibOffloadTest, PortEntryFollowsTheLinkMac) {
  ASSERT_TRUE(fp->add_port(kEth1));
  EXPECT_TRUE(std::equal(kMacEth1.begin(), kMacEth1.end(), writer->ifaces[kEth1].mac));
  const EthAddr moved{0x02, 0x42, 0, 0, 0, 0x77};
  kernel.set_link(kEth1, routed(moved, 1500, true));
  ASSERT_TRUE(fp->link_changed(kEth1));
  EXPECT_TRUE(std::equal(moved.begin(), moved.end(), writer->ifaces[kEth1].mac));
  EXPECT_EQ(writer->ifaces[kEth1].flags, FPM_IFACE_F_V4 | FPM_IFACE_F_V6 | kFwd | kRedirects);
  // Enslaved to a VRF / bridge / bond: every frame punts; released: routed again.
  LinkEntry enslaved = routed(moved, 1500, true);
  enslaved.master = 99;
  kernel.set_link(kEth1, enslaved);
  ASSERT_TRUE(fp->link_changed(kEth1));
  EXPECT_EQ(writer->ifaces[kEth1].flags,
            FPM_IFACE_F_V4 | FPM_IFACE_F_V6 | kFwd | kRedirects | FPM_IFACE_F_ENSLAVED);
  kernel.set_link(kEth1, routed(moved, 1500, true));
  ASSERT_TRUE(fp->link_changed(kEth1));
  EXPECT_EQ(writer->ifaces[kEth1].flags, FPM_IFACE_F_V4 | FPM_IFACE_F_V6 | kFwd | kRedirects);
  // A link that is not a port gets no entry.
  ASSERT_TRUE(fp->link_changed(kEth2));
  EXPECT_EQ(writer->ifaces.count(kEth2), 0u);
}

// net.ipv4/ipv6.conf.<port>.forwarding: each change is one fpm_ifaces write,
// the port's families and slot untouched; an unknown switch counts as off.
TEST_F(FibOffloadTest, PortEntryFollowsTheForwardingSwitches) {
  ASSERT_TRUE(fp->add_port(kEth1));
  const uint32_t slot = writer->ifaces[kEth1].slot;
  LinkEntry l = routed(kMacEth1, 1500, true);
  l.forward_v4 = false;
  kernel.set_link(kEth1, l);
  auto before = writer->writes;
  ASSERT_TRUE(fp->refresh_port(kEth1));
  EXPECT_EQ(writer->writes.total() - before.total(), 1u);
  EXPECT_EQ(writer->ifaces[kEth1].flags,
            FPM_IFACE_F_V4 | FPM_IFACE_F_V6 | FPM_IFACE_F_FWD6 | kRedirects);
  EXPECT_EQ(writer->ifaces[kEth1].slot, slot);
  before = writer->writes;
  ASSERT_TRUE(fp->refresh_port(kEth1));  // nothing changed: no write
  EXPECT_EQ(writer->writes.total() - before.total(), 0u);
  kernel.set_link(kEth1, routed(kMacEth1, 1500, true));
  ASSERT_TRUE(fp->refresh_port(kEth1));
  EXPECT_EQ(writer->ifaces[kEth1].flags, FPM_IFACE_F_V4 | FPM_IFACE_F_V6 | kFwd | kRedirects);
  kernel.set_link(kEth1, {kMacEth1, 1500, true});  // switches not reported
  ASSERT_TRUE(fp->refresh_port(kEth1));
  EXPECT_EQ(writer->ifaces[kEth1].flags, FPM_IFACE_F_V4 | FPM_IFACE_F_V6 | kRedirects);
  // Not a port: nothing to write.
  before = writer->writes;
  ASSERT_TRUE(fp->refresh_port(kEth2));
  EXPECT_EQ(writer->writes.total() - before.total(), 0u);
  EXPECT_EQ(writer->ifaces.count(kEth2), 0u);
}

TEST_F(FibOffloadTest, Ipv6RoutesUseTheSameGroups) {
  fp->group_changed(ChangeKind::Added, group(1, {via("fe80::1", kEth1)}));
  kernel.set_neighbour(A("fe80::1"), kEth1, {kMacGw1, true});
  ASSERT_TRUE(fp->neighbour_changed(A("fe80::1"), kEth1));
  routes.announce(*fp, ChangeKind::Added, route("2001:db8::/32", 1));
  EXPECT_EQ(writer->lookup(A("2001:db8::42")), forward(1));
  EXPECT_EQ(writer->nexthops.begin()->second.state, FPM_NH_VALID);
}

TEST_F(FibOffloadTest, WithheldRoutesPuntWhateverTheirTypeAndComeBackAsTheyAre) {
  fp->group_changed(ChangeKind::Added, group(7, {via("10.0.1.1", kEth1)}));
  routes.announce(*fp, ChangeKind::Added, route("192.0.2.0/24", 7));
  routes.announce(*fp, ChangeKind::Added, route("198.51.100.0/24", 0, RouteType::Blackhole));
  routes.announce(*fp, ChangeKind::Added, route("203.0.113.0/24", 7, RouteType::Unicast, 100));
  const uint32_t held = fpm_act_make(FPM_ACT_PUNT, FPM_REASON_OFFLOAD_FAILED);

  fp->set_withheld(true);
  for (const char* p : {"192.0.2.0/24", "198.51.100.0/24"}) {
    EXPECT_EQ(writer->routes.at(P(p)), held) << p;
    const auto st = fp->offload_state(254, P(p));
    EXPECT_EQ(st->state, OffloadState::NotOffloaded) << p;
    EXPECT_EQ(st->reason, OffloadReason::HoldExpired) << p;
    EXPECT_EQ(st->action, held) << p;
  }
  // A VRF table's routes are withheld too.
  EXPECT_EQ(fp->offload_state(100, P("203.0.113.0/24"))->reason, OffloadReason::HoldExpired);
  EXPECT_EQ(writer->vrf_lookup(1, A("203.0.113.1")), held);
  EXPECT_EQ(fp->stats().routes_installed, 0u);
  // A route zebra sends while withheld (a replay before it settles) punts too.
  routes.announce(*fp, ChangeKind::Added, route("192.0.2.128/25", 7));
  EXPECT_EQ(writer->routes.at(P("192.0.2.128/25")), held);

  fp->set_withheld(false);
  EXPECT_EQ(writer->routes.at(P("192.0.2.0/24")), forward(7));
  EXPECT_EQ(writer->routes.at(P("192.0.2.128/25")), forward(7));
  EXPECT_EQ(writer->routes.at(P("198.51.100.0/24")), fpm_act_make(FPM_ACT_DROP, 0));
  EXPECT_EQ(fp->offload_state(254, P("192.0.2.0/24"))->state, OffloadState::Installed);
  EXPECT_EQ(writer->vrf_lookup(1, A("203.0.113.1")), forward(7));
  EXPECT_EQ(fp->stats().routes_installed, 4u);  // table 100's route too
}

TEST_F(FibOffloadTest, RefusedRoutesMakeEveryRoutePuntUntilRestart) {
  // The RIB refused a more-specific (say 192.0.2.128/25): forwarding what it
  // did take would send that traffic along the covering /24.
  fp->group_changed(ChangeKind::Added, group(7, {via("10.0.1.1", kEth1)}));
  routes.announce(*fp, ChangeKind::Added, route("192.0.2.0/24", 7));
  routes.announce(*fp, ChangeKind::Added, route("198.51.100.0/24", 0, RouteType::Blackhole));
  ASSERT_EQ(writer->routes.at(P("192.0.2.0/24")), forward(7));
  const uint32_t punted = fpm_act_make(FPM_ACT_PUNT, FPM_REASON_OFFLOAD_FAILED);

  fp->routes_refused();
  EXPECT_TRUE(fp->incomplete());
  for (const char* p : {"192.0.2.0/24", "198.51.100.0/24"}) {
    EXPECT_EQ(writer->routes.at(P(p)), punted) << p;
    const auto st = fp->offload_state(254, P(p));
    EXPECT_EQ(st->state, OffloadState::Failed) << p;
    EXPECT_EQ(st->reason, OffloadReason::RouteLimit) << p;
  }
  EXPECT_EQ(writer->lookup(A("192.0.2.200")), punted);
  EXPECT_EQ(fp->stats().routes_installed, 0u);
  EXPECT_EQ(fp->stats().routes_failed, 2u);
  // Routes still taken later punt too, and the end of a hold does not undo it.
  routes.announce(*fp, ChangeKind::Added, route("203.0.113.0/24", 7));
  EXPECT_EQ(writer->routes.at(P("203.0.113.0/24")), punted);
  fp->set_withheld(true);
  fp->set_withheld(false);
  EXPECT_EQ(writer->routes.at(P("192.0.2.0/24")), punted);
  EXPECT_EQ(fp->offload_state(254, P("192.0.2.0/24"))->reason, OffloadReason::RouteLimit);
}

// ---- offload changes (the queue behind offload replies to zebra)

class OffloadChangesTest : public FibOffloadTest {
 protected:
  OffloadChangesTest() { fp->set_offload_changes(true); }
  // Everything queued, as (table prefix -> state handed out).
  std::map<std::string, OffloadState> take_all() {
    std::map<std::string, OffloadState> out;
    fp->take_offload_changes(SIZE_MAX, [&](const RouteKey& key, const RouteOffload& st) {
      const std::string name = std::to_string(key.table) + " " + key.prefix.to_string();
      EXPECT_FALSE(out.count(name)) << name << " handed out twice";
      EXPECT_EQ(st.reported, st.state);
      out[name] = st.state;
    });
    return out;
  }
};

TEST_F(OffloadChangesTest, EachRouteIsQueuedOnceWithItsStateWhenTaken) {
  fp->group_changed(ChangeKind::Added, group(1, {via("10.0.1.1", kEth1)}));
  fp->group_changed(ChangeKind::Added, FibGroup{2, true, {}});
  routes.announce(*fp, ChangeKind::Added, route("10.1.0.0/16", 1));
  routes.announce(*fp, ChangeKind::Changed, route("10.1.0.0/16", 2));  // coalesces
  routes.announce(*fp, ChangeKind::Added, route("10.9.0.0/16", 0, RouteType::Unreachable));
  routes.announce(*fp, ChangeKind::Added, route("10.7.0.0/16", 1, RouteType::Unicast, 100));
  EXPECT_EQ(fp->offload_changes_queued(), 3u);
  EXPECT_EQ(fp->offload_state(254, P("10.1.0.0/16"))->reported, std::nullopt);
  const std::map<std::string, OffloadState> want{{"254 10.1.0.0/16", OffloadState::Installed},
                                                 {"254 10.9.0.0/16", OffloadState::NotOffloaded},
                                                 // a VRF table's route: its own slot
                                                 {"100 10.7.0.0/16", OffloadState::Installed}};
  EXPECT_EQ(take_all(), want);
  EXPECT_EQ(fp->offload_changes_queued(), 0u);
  EXPECT_EQ(fp->offload_state(254, P("10.1.0.0/16"))->reported, OffloadState::Installed);
  EXPECT_TRUE(take_all().empty());
}

TEST_F(OffloadChangesTest, ConfirmedRouteIsQueuedAgainUnchanged) {
  fp->group_changed(ChangeKind::Added, group(1, {via("10.0.1.1", kEth1)}));
  routes.announce(*fp, ChangeKind::Added, route("10.1.0.0/16", 1));
  take_all();
  const uint64_t writes = writer->writes.total();
  routes.confirm(*fp, route("10.1.0.0/16", 1));
  EXPECT_EQ(writer->writes.total(), writes) << "a confirmation reprograms nothing";
  EXPECT_EQ(take_all(),
            (std::map<std::string, OffloadState>{{"254 10.1.0.0/16", OffloadState::Installed}}));
}

TEST_F(OffloadChangesTest, CapacityFailureAndRecoveryAreBothReported) {
  make(2);
  fp->set_offload_changes(true);
  fp->group_changed(ChangeKind::Added, group(1, {via("10.0.1.1", kEth1)}));
  routes.announce(*fp, ChangeKind::Added, route("10.1.0.0/16", 1));
  routes.announce(*fp, ChangeKind::Added, route("10.2.0.0/16", 1));
  routes.announce(*fp, ChangeKind::Added, route("10.3.0.0/16", 1));
  EXPECT_EQ(take_all()["254 10.3.0.0/16"], OffloadState::Failed);
  EXPECT_EQ(fp->poll(), 0u);
  EXPECT_TRUE(take_all().empty()) << "a retry that fails again tells zebra nothing new";
  routes.announce(*fp, ChangeKind::Removed, route("10.1.0.0/16", 1));
  EXPECT_TRUE(take_all().empty()) << "a removed route gets no reply";
  EXPECT_EQ(fp->poll(), 1u);
  EXPECT_EQ(take_all(),
            (std::map<std::string, OffloadState>{{"254 10.3.0.0/16", OffloadState::Installed}}));
}

// zebra never clears RTM_F_TRAP on a route entry it has set it on, so a route
// punted only until it settles must not be reported as trapped.
TEST_F(OffloadChangesTest, PuntsThatLastUntilTheRouteSettlesAreNotReported) {
  routes.announce(*fp, ChangeKind::Added, route("10.1.0.0/16", 0));  // waits for its group
  EXPECT_EQ(fp->offload_state(254, P("10.1.0.0/16"))->reason, OffloadReason::PendingGroup);
  EXPECT_TRUE(take_all().empty()) << "a route waiting for its group is not answered yet";
  EXPECT_EQ(fp->offload_state(254, P("10.1.0.0/16"))->reported, std::nullopt);
  fp->group_changed(ChangeKind::Added, group(1, {via("10.0.1.1", kEth1)}));
  routes.announce(*fp, ChangeKind::Changed, route("10.1.0.0/16", 1));
  EXPECT_EQ(take_all(),
            (std::map<std::string, OffloadState>{{"254 10.1.0.0/16", OffloadState::Installed}}));

  fp->set_withheld(true);
  EXPECT_EQ(fp->offload_state(254, P("10.1.0.0/16"))->reason, OffloadReason::HoldExpired);
  EXPECT_TRUE(take_all().empty()) << "the end of a hold is not a lasting punt";
  EXPECT_EQ(fp->offload_state(254, P("10.1.0.0/16"))->reported, OffloadState::Installed);
  fp->set_withheld(false);
  EXPECT_TRUE(take_all().empty()) << "zebra was last told offloaded, which is true again";

  // A punt by design (here connected) lasts, and is reported as trapped.
  ResolvedNextHop connected;
  connected.nh.ifindex = kEth1;
  fp->group_changed(ChangeKind::Added, group(2, {connected}));
  routes.announce(*fp, ChangeKind::Changed, route("10.1.0.0/16", 2));
  EXPECT_EQ(take_all(),
            (std::map<std::string, OffloadState>{{"254 10.1.0.0/16", OffloadState::NotOffloaded}}));
}

TEST_F(OffloadChangesTest, DroppedWithTheSessionAndOffCostsNothing) {
  fp->group_changed(ChangeKind::Added, group(1, {via("10.0.1.1", kEth1)}));
  routes.announce(*fp, ChangeKind::Added, route("10.1.0.0/16", 1));
  routes.announce(*fp, ChangeKind::Added, route("10.2.0.0/16", 1));
  fp->take_offload_changes(1, [](const RouteKey&, const RouteOffload&) {});
  fp->drop_offload_changes();
  EXPECT_EQ(fp->offload_changes_queued(), 0u);
  EXPECT_EQ(fp->offload_state(254, P("10.1.0.0/16"))->reported, std::nullopt);
  EXPECT_EQ(fp->offload_state(254, P("10.2.0.0/16"))->reported, std::nullopt);
  routes.confirm(*fp, route("10.1.0.0/16", 1));
  EXPECT_EQ(take_all().size(), 1u) << "queued again after the drop";

  fp->set_offload_changes(false);
  routes.announce(*fp, ChangeKind::Added, route("10.3.0.0/16", 1));
  routes.confirm(*fp, route("10.1.0.0/16", 1));
  EXPECT_EQ(fp->offload_changes_queued(), 0u);
}

// Churn while nobody takes (zebra not reading): the queue stays bounded by
// the routes held, not by the number of changes.
TEST_F(OffloadChangesTest, ChurnWithoutTakingStaysBounded) {
  fp->group_changed(ChangeKind::Added, group(1, {via("10.0.1.1", kEth1)}));
  routes.announce(*fp, ChangeKind::Added, route("10.1.0.0/16", 1));
  for (int i = 0; i < 100000; i++) {
    routes.announce(*fp, ChangeKind::Added, route("10.2.0.0/16", 1));
    routes.announce(*fp, ChangeKind::Removed, route("10.2.0.0/16", 1));
  }
  EXPECT_LE(fp->offload_changes_queued(), 2u * 1 + 4096 + 1);
  EXPECT_EQ(take_all(),
            (std::map<std::string, OffloadState>{{"254 10.1.0.0/16", OffloadState::Installed}}));
}

}  // namespace
}  // namespace fpm_sink
