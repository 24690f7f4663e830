// The daemon side of fpm-sinkctl's newer views, without a loaded program:
// clear counters' baseline, neighbours and their fast-path next hops,
// next-hop users, and the flow path's inputs and failover walk.
#include <gtest/gtest.h>
#include <linux/neighbour.h>

#include "app/counter_baseline.hpp"
#include "app/fast_path_views.hpp"
#include "app/flow_path_view.hpp"
#include "app/kernel_views.hpp"
#include "dataplane/fake_announced_routes.hpp"
#include "dataplane/fake_map_writer.hpp"
#include "dataplane/flow_hash.hpp"
#include "ip_literals.hpp"

namespace fpm_sink {
namespace {

using namespace std::chrono_literals;

using test::A;

void add(google::protobuf::RepeatedPtrField<control::Counter>* list, const char* name,
         uint64_t packets, uint64_t bytes) {
  auto* c = list->Add();
  c->set_name(name);
  c->set_packets(packets);
  c->set_bytes(bytes);
}

control::CountersReply counters(uint64_t redirect, uint64_t port3, uint64_t port4) {
  control::CountersReply r;
  r.set_fast_path(true);
  add(r.mutable_verdicts(), "redirect", redirect, redirect * 100);
  add(r.mutable_reasons(), "no_route", redirect / 2, redirect * 50);
  auto* p3 = r.add_interfaces();
  p3->set_ifindex(3);
  add(p3->mutable_verdicts(), "redirect", port3, port3 * 100);
  add(p3->mutable_reasons(), "ttl", port3 / 2, port3 * 50);
  auto* p4 = r.add_interfaces();
  p4->set_ifindex(4);
  add(p4->mutable_verdicts(), "redirect", port4, port4 * 100);
  return r;
}

const CounterSlots kSlots{{3, 0}, {4, 1}};

TEST(CounterBaseline, ShowSubtractsWhatClearSaw) {
  CounterBaseline base;
  auto raw = counters(10, 6, 4);
  base.apply(&raw, kSlots);  // never cleared: untouched
  EXPECT_EQ(raw.verdicts(0).packets(), 10u);
  EXPECT_EQ(raw.cleared_at(), 0u);

  base.set(counters(10, 6, 4), kSlots, 1000);
  auto now = counters(25, 16, 9);
  base.apply(&now, kSlots);
  EXPECT_EQ(now.cleared_at(), 1000u);
  EXPECT_EQ(now.verdicts(0).packets(), 15u);
  EXPECT_EQ(now.verdicts(0).bytes(), 1500u);
  EXPECT_EQ(now.reasons(0).packets(), 7u);  // 12 - 5
  EXPECT_EQ(now.interfaces(0).verdicts(0).packets(), 10u);
  EXPECT_EQ(now.interfaces(1).verdicts(0).packets(), 5u);
  EXPECT_EQ(now.interfaces(0).reasons(0).packets(), 5u);  // 8 - 3
  EXPECT_EQ(now.interfaces(0).reasons(0).bytes(), 500u);
}

// Port 4 was removed and re-added: its slot counts from zero again, below
// the baseline. It is shown as it is, never as a huge wrapped number.
TEST(CounterBaseline, ACounterThatStartedAgainIsShownAsItIs) {
  CounterBaseline base;
  base.set(counters(10, 6, 40), kSlots, 1);
  auto now = counters(12, 7, 3);
  base.apply(&now, kSlots);
  EXPECT_EQ(now.interfaces(0).verdicts(0).packets(), 1u);
  EXPECT_EQ(now.interfaces(1).verdicts(0).packets(), 3u);
}

TEST(KernelViews, NeighboursWithTheirInterfaceAndFastPathNexthops) {
  KernelState kernel;
  kernel.apply(Upsert<LinkInfo>{LinkInfo{.ifindex = 3, .name = "eth3", .up = true}});
  const MacAddr mac{0x02, 0, 0, 0, 0x22, 0x02};
  kernel.apply(
      Upsert<NeighInfo>{NeighInfo{A("10.0.22.2"), 3, mac, NeighState::Usable, NUD_REACHABLE}});
  kernel.apply(Upsert<NeighInfo>{NeighInfo{A("10.0.22.9"), 3, {}, NeighState::Failed, NUD_FAILED}});
  kernel.apply(Upsert<NeighInfo>{NeighInfo{A("10.0.23.2"), 7, mac, NeighState::Usable, NUD_STALE}});
  StaticKernelView view;
  view.set_link(3, LinkEntry{.mac = {0x02, 0, 0, 0, 0x22, 0x01}, .up = true});
  view.set_neighbour(A("10.0.22.2"), 3, NeighbourEntry{.mac = mac, .usable = true});
  FakeMapWriter writer;
  NextHopTable table(writer, view, view, IndexAllocator(1, 16, 1s));
  auto index = table.acquire({A("10.0.22.2"), 3});
  ASSERT_TRUE(index.ok());

  control::NeighborsReply reply;
  fill_neighbor_entries(kernel, table, &reply);
  ASSERT_EQ(reply.neighbors_size(), 3);
  const auto& used = reply.neighbors(0);
  EXPECT_EQ(used.address(), "10.0.22.2");
  EXPECT_EQ(used.mac(), "02:00:00:00:22:02");
  EXPECT_EQ(used.state(), "reachable");
  EXPECT_EQ(used.ifname(), "eth3");
  ASSERT_EQ(used.nexthop_indices_size(), 1);
  EXPECT_EQ(used.nexthop_indices(0), *index);
  EXPECT_EQ(reply.neighbors(1).state(), "failed");
  EXPECT_EQ(reply.neighbors(1).mac(), "");
  EXPECT_EQ(reply.neighbors(1).nexthop_indices_size(), 0);
  EXPECT_EQ(reply.neighbors(2).ifindex(), 7u);
  EXPECT_EQ(reply.neighbors(2).ifname(), "");  // link unknown to the mirror

  control::NeighborsReply off;
  fill_neighbors(nullptr, &off);
  EXPECT_FALSE(off.fast_path());
  control::InterfacesReply no_ports;
  ASSERT_TRUE(fill_interfaces(nullptr, &no_ports).ok());
  EXPECT_FALSE(no_ports.fast_path());
}

// Users of a next hop: the groups that have it and the routes through them.
TEST(KernelViews, NexthopUsersCountGroupsAndRoutes) {
  StaticKernelView view;
  LinkEntry link{{2, 0, 0, 0, 0, 1}, 1500, true};
  link.forward_v4 = link.forward_v6 = true;
  view.set_link(11, link);
  view.set_link(12, link);
  view.set_neighbour(A("10.0.1.1"), 11, {{2, 0, 0, 0, 1, 1}, true});
  view.set_neighbour(A("10.0.2.1"), 12, {{2, 0, 0, 0, 1, 2}, true});
  FakeMapWriter writer;
  FakeAnnouncedRoutes routes;
  FibOffload fp(FibOffloadLimits{}, writer, view, view, routes);
  auto via = [](const char* gw, uint32_t ifindex) {
    ResolvedNextHop r;
    r.nh.gateway = A(gw);
    r.nh.ifindex = ifindex;
    r.weight = 1;
    return r;
  };
  fp.group_changed(ChangeKind::Added, FibGroup{1, false, {via("10.0.1.1", 11)}});
  fp.group_changed(ChangeKind::Added,
                   FibGroup{2, false, {via("10.0.1.1", 11), via("10.0.2.1", 12)}});
  auto route = [](const char* prefix, uint32_t group) {
    RouteView r;
    r.prefix = *Prefix::parse(prefix);
    r.group_id = group;
    return r;
  };
  routes.announce(fp, ChangeKind::Added, route("192.0.2.0/24", 1));
  routes.announce(fp, ChangeKind::Added, route("198.51.100.0/24", 2));
  routes.announce(fp, ChangeKind::Added, route("203.0.113.0/24", 2));

  KernelState kernel;
  control::NexthopsReply reply;
  fill_nexthop_entries(fp.nexthops(), kernel, &reply);
  count_nexthop_users(fp, &reply);
  ASSERT_EQ(reply.nexthops_size(), 2);
  for (const auto& e : reply.nexthops()) {
    if (e.gateway() == "10.0.1.1") {
      EXPECT_EQ(e.groups(), 2u);
      EXPECT_EQ(e.routes(), 3u);
    } else {
      EXPECT_EQ(e.groups(), 1u);
      EXPECT_EQ(e.routes(), 2u);
    }
  }
}

TEST(FlowPath, FlowKeyChecksWhatTheDaemonIsGiven) {
  control::Flow flow;
  flow.set_source("10.0.1.2");
  flow.set_protocol(17);
  flow.set_source_port(1234);
  flow.set_destination_port(80);
  auto key = flow_key("198.51.100.7", flow);
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(key->dst, A("198.51.100.7"));
  EXPECT_EQ(key->sport, 1234);
  EXPECT_FALSE(flow_key("198.51.100.0/24", flow).ok());
  EXPECT_EQ(flow_key("2001:db8::1", flow).error().id, "control.bad_flow");
  flow.set_destination_port(70000);
  EXPECT_FALSE(flow_key("198.51.100.7", flow).ok());
}

// The hash ignores ports of protocols without them, as the XDP program does.
TEST(FlowPath, PortsCountOnlyForPortProtocols) {
  FlowKey a{A("10.0.0.1"), A("10.0.0.2"), 1, 1, 2}, b{A("10.0.0.1"), A("10.0.0.2"), 1, 7, 9};
  EXPECT_EQ(flow_hash(a, 5), flow_hash(b, 5));
  a.protocol = b.protocol = 17;
  EXPECT_NE(flow_hash(a, 5), flow_hash(b, 5));
  EXPECT_NE(flow_hash(a, 5), flow_hash(a, 6));  // the seed matters
}

TEST(FlowPath, FailedMemberFailsOverToAValidOne) {
  std::array<uint32_t, FPM_NHG_BUCKETS> buckets;
  for (uint32_t b = 0; b < FPM_NHG_BUCKETS; b++) buckets[b] = b < 128 ? 1 : 2;
  auto both = [](uint32_t) { return FPM_NH_VALID; };
  auto one_failed = [](uint32_t nh) { return nh == 1 ? FPM_NH_FAILED : FPM_NH_VALID; };
  auto all_failed = [](uint32_t) { return FPM_NH_FAILED; };
  for (uint32_t hash : {0u, 5u, 127u, 0x12345678u}) {
    auto c = pick_member(buckets, hash, both);
    EXPECT_EQ(c.nexthop, buckets[hash & 255]);
    EXPECT_FALSE(c.failover);
    c = pick_member(buckets, hash, one_failed);
    EXPECT_EQ(c.nexthop, 2u);
    EXPECT_EQ(c.failover, buckets[hash & 255] == 1);
    c = pick_member(buckets, hash, all_failed);
    EXPECT_EQ(c.nexthop, buckets[hash & 255]);
    EXPECT_FALSE(c.failover);
  }
}

}  // namespace
}  // namespace fpm_sink
