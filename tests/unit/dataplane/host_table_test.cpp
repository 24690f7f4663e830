// Connected hosts: which mirrored neighbours become fpm_hosts entries, through
// FibOffload (routes, ports) and the fake writer (what XDP would read, and how
// many writes it took).
#include <gtest/gtest.h>

#include <cstring>

#include "dataplane/fake_announced_routes.hpp"
#include "dataplane/fake_map_writer.hpp"
#include "dataplane/fib_offload.hpp"

namespace fpm_sink {
namespace {

Prefix P(const char* s) {
  return *Prefix::parse(s);
}
IpAddr A(const char* s) {
  return *IpAddr::parse(s);
}

constexpr uint32_t kEth1 = 11, kEth2 = 12, kEth3 = 13;
const EthAddr kMacEth1{2, 0, 0, 0, 0, 1}, kMacEth2{2, 0, 0, 0, 0, 2}, kMacEth3{2, 0, 0, 0, 0, 3};
const EthAddr kMacH1{2, 0, 0, 0, 1, 1}, kMacH2{2, 0, 0, 0, 1, 2}, kMacH3{2, 0, 0, 0, 1, 3};

LinkEntry routed(EthAddr mac, uint32_t mtu = 1500) {
  LinkEntry l{mac, mtu, true};
  l.forward_v4 = l.forward_v6 = true;
  return l;
}

ResolvedNextHop on_link(uint32_t ifindex) {
  ResolvedNextHop r;
  r.nh.ifindex = ifindex;
  return r;
}

ResolvedNextHop via(const char* gw, uint32_t ifindex) {
  ResolvedNextHop r;
  r.nh.gateway = A(gw);
  r.nh.ifindex = ifindex;
  return r;
}

RouteView route(const char* prefix, uint32_t group_id) {
  RouteView r;
  r.prefix = P(prefix);
  r.group_id = group_id;
  return r;
}

bool mac_is(const uint8_t* got, const EthAddr& want) {
  return std::memcmp(got, want.data(), 6) == 0;
}

class HostTableTest : public ::testing::Test {
 protected:
  HostTableTest() {
    kernel.set_link(kEth1, routed(kMacEth1));
    kernel.set_link(kEth2, routed(kMacEth2, 9000));
    kernel.set_link(kEth3, routed(kMacEth3));
    make();
  }
  void make(uint32_t max_hosts = 64) {
    fp.reset();
    writer = std::make_unique<FakeMapWriter>();
    FibOffloadLimits cfg;
    cfg.max_hosts = max_hosts;
    fp = std::make_unique<FibOffload>(cfg, *writer, kernel, kernel, routes);
    ASSERT_TRUE(fp->add_port(kEth1));
    ASSERT_TRUE(fp->add_port(kEth2));
  }
  // 10.0.1.0/24 and 2001:db8:1::/64 on eth1, 10.0.2.0/24 on eth2.
  void connect_subnets() {
    fp->group_changed(ChangeKind::Added, FibGroup{1, false, {on_link(kEth1)}});
    fp->group_changed(ChangeKind::Added, FibGroup{2, false, {on_link(kEth2)}});
    routes.announce(*fp, ChangeKind::Added, route("10.0.1.0/24", 1));
    routes.announce(*fp, ChangeKind::Added, route("2001:db8:1::/64", 1));
    routes.announce(*fp, ChangeKind::Added, route("10.0.2.0/24", 2));
  }
  void neighbour(const char* addr, uint32_t ifindex, EthAddr mac, bool usable = true,
                 bool failed = false) {
    kernel.set_neighbour(A(addr), ifindex, {mac, usable, failed});
    ASSERT_TRUE(fp->neighbour_changed(A(addr), ifindex));
  }
  const fpm_nexthop* host(const char* addr) {
    auto it = writer->hosts.find(A(addr));
    return it == writer->hosts.end() ? nullptr : &it->second;
  }

  StaticKernelView kernel;
  std::unique_ptr<FakeMapWriter> writer;
  FakeAnnouncedRoutes routes;  // before fp: it holds the routes fp reads
  std::unique_ptr<FibOffload> fp;
};

TEST_F(HostTableTest, ResolvedNeighbourOnConnectedSubnetBecomesAHostEntry) {
  connect_subnets();
  neighbour("10.0.1.5", kEth1, kMacH1);
  neighbour("10.0.2.7", kEth2, kMacH2);
  neighbour("2001:db8:1::5", kEth1, kMacH3);
  const fpm_nexthop* h = host("10.0.1.5");
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(h->state, FPM_NH_VALID);
  EXPECT_EQ(h->ifindex, kEth1);
  EXPECT_EQ(h->mtu, 1500u);
  EXPECT_TRUE(mac_is(h->dst_mac, kMacH1));
  EXPECT_TRUE(mac_is(h->src_mac, kMacEth1));
  h = host("10.0.2.7");
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(h->ifindex, kEth2);
  EXPECT_EQ(h->mtu, 9000u);
  EXPECT_TRUE(mac_is(h->src_mac, kMacEth2));
  ASSERT_NE(host("2001:db8:1::5"), nullptr);
  EXPECT_TRUE(mac_is(host("2001:db8:1::5")->dst_mac, kMacH3));
  EXPECT_EQ(fp->hosts().stats().v4, 2u);
  EXPECT_EQ(fp->hosts().stats().v6, 1u);
  // The routes stay connected punts: XDP looks the host up behind them.
  EXPECT_EQ(writer->lookup(A("10.0.1.5")), fpm_act_make(FPM_ACT_PUNT, FPM_REASON_CONNECTED));
}

TEST_F(HostTableTest, NeighboursKnownBeforeTheRouteAreAddedWithIt) {
  kernel.set_neighbour(A("10.0.1.5"), kEth1, {kMacH1, true});
  kernel.set_neighbour(A("10.0.1.6"), kEth1, {kMacH2, true});
  kernel.set_neighbour(A("10.9.9.9"), kEth1, {kMacH3, true});  // outside every subnet
  connect_subnets();
  EXPECT_NE(host("10.0.1.5"), nullptr);
  EXPECT_NE(host("10.0.1.6"), nullptr);
  EXPECT_EQ(host("10.9.9.9"), nullptr);
  // Route withdrawn: its hosts go, each one delete.
  const auto before = writer->writes.host;
  routes.announce(*fp, ChangeKind::Removed, route("10.0.1.0/24", 1));
  EXPECT_EQ(host("10.0.1.5"), nullptr);
  EXPECT_EQ(host("10.0.1.6"), nullptr);
  EXPECT_EQ(writer->writes.host - before, 2u);
}

TEST_F(HostTableTest, UnusableNeighboursHaveNoEntry) {
  connect_subnets();
  neighbour("10.0.1.5", kEth1, {}, false, false);  // INCOMPLETE
  neighbour("10.0.1.6", kEth1, {}, false, true);   // FAILED
  EXPECT_EQ(host("10.0.1.5"), nullptr);
  EXPECT_EQ(host("10.0.1.6"), nullptr);
  EXPECT_EQ(writer->writes.host, 0u);
}

TEST_F(HostTableTest, EachNeighbourChangeIsOneWrite) {
  connect_subnets();
  auto writes = writer->writes.total();
  neighbour("10.0.1.5", kEth1, kMacH1);  // resolved: add
  EXPECT_EQ(writer->writes.total() - writes, 1u);
  writes = writer->writes.total();
  neighbour("10.0.1.5", kEth1, kMacH2);  // moved to another MAC: replace
  EXPECT_EQ(writer->writes.total() - writes, 1u);
  EXPECT_TRUE(mac_is(host("10.0.1.5")->dst_mac, kMacH2));
  writes = writer->writes.total();
  neighbour("10.0.1.5", kEth1, kMacH2, false, true);  // FAILED: delete, punts again
  EXPECT_EQ(writer->writes.total() - writes, 1u);
  EXPECT_EQ(host("10.0.1.5"), nullptr);
  neighbour("10.0.1.5", kEth1, kMacH2);
  writes = writer->writes.total();
  kernel.erase_neighbour(A("10.0.1.5"), kEth1);  // deleted
  ASSERT_TRUE(fp->neighbour_changed(A("10.0.1.5"), kEth1));
  EXPECT_EQ(writer->writes.total() - writes, 1u);
  EXPECT_EQ(host("10.0.1.5"), nullptr);
}

TEST_F(HostTableTest, OnlyThePortOfTheLongestConnectedRouteQualifies) {
  connect_subnets();
  // 10.0.1.128/25 is connected on eth2: a neighbour there on eth1 is not the
  // kernel's choice, the one on eth2 is.
  fp->group_changed(ChangeKind::Added, FibGroup{3, false, {on_link(kEth2)}});
  routes.announce(*fp, ChangeKind::Added, route("10.0.1.128/25", 3));
  neighbour("10.0.1.200", kEth1, kMacH1);
  EXPECT_EQ(host("10.0.1.200"), nullptr);
  neighbour("10.0.1.201", kEth2, kMacH2);
  ASSERT_NE(host("10.0.1.201"), nullptr);
  EXPECT_EQ(host("10.0.1.201")->ifindex, kEth2);
  // The /25 goes: the /24 on eth1 covers them now.
  routes.announce(*fp, ChangeKind::Removed, route("10.0.1.128/25", 3));
  ASSERT_NE(host("10.0.1.200"), nullptr);
  EXPECT_EQ(host("10.0.1.200")->ifindex, kEth1);
  EXPECT_EQ(host("10.0.1.201"), nullptr);
}

TEST_F(HostTableTest, RoutedSubnetsAndBroadcastsGetNoEntry) {
  fp->group_changed(ChangeKind::Added, FibGroup{5, false, {via("10.0.2.1", kEth2)}});
  routes.announce(*fp, ChangeKind::Added, route("10.0.5.0/24", 5));
  connect_subnets();
  neighbour("10.0.5.9", kEth2, kMacH1);    // behind a gateway: routed, not connected
  neighbour("10.0.1.255", kEth1, kMacH2);  // the subnet's broadcast address
  EXPECT_EQ(host("10.0.5.9"), nullptr);
  EXPECT_EQ(host("10.0.1.255"), nullptr);
  // zebra sends fe80::/64 as connected: its neighbours punt as link-local anyway.
  routes.announce(*fp, ChangeKind::Added, route("fe80::/64", 1));
  neighbour("fe80::5", kEth1, kMacH1);
  EXPECT_EQ(host("fe80::5"), nullptr);
  neighbour("2001:db8:1::7", kEth1, kMacH1);
  EXPECT_NE(host("2001:db8:1::7"), nullptr);
}

TEST_F(HostTableTest, PortsOnlyWhileAttachedAndUpAndWithoutMaster) {
  fp->group_changed(ChangeKind::Added, FibGroup{4, false, {on_link(kEth3)}});
  routes.announce(*fp, ChangeKind::Added, route("10.0.3.0/24", 4));
  neighbour("10.0.3.5", kEth3, kMacH1);
  EXPECT_EQ(host("10.0.3.5"), nullptr);  // eth3 is not a fast-path port
  ASSERT_TRUE(fp->add_port(kEth3));
  EXPECT_NE(host("10.0.3.5"), nullptr);
  // Carrier lost: the entry goes (the kernel decides), and comes back with it.
  LinkEntry down = routed(kMacEth3);
  down.up = false;
  kernel.set_link(kEth3, down);
  ASSERT_TRUE(fp->link_changed(kEth3));
  EXPECT_EQ(host("10.0.3.5"), nullptr);
  kernel.set_link(kEth3, routed(kMacEth3, 1400));
  ASSERT_TRUE(fp->link_changed(kEth3));
  ASSERT_NE(host("10.0.3.5"), nullptr);
  EXPECT_EQ(host("10.0.3.5")->mtu, 1400u);
  LinkEntry enslaved = routed(kMacEth3);
  enslaved.master = 99;
  kernel.set_link(kEth3, enslaved);
  ASSERT_TRUE(fp->link_changed(kEth3));
  EXPECT_EQ(host("10.0.3.5"), nullptr);
  kernel.set_link(kEth3, routed(kMacEth3));
  ASSERT_TRUE(fp->link_changed(kEth3));
  ASSERT_NE(host("10.0.3.5"), nullptr);
  ASSERT_TRUE(fp->remove_port(kEth3));
  EXPECT_EQ(host("10.0.3.5"), nullptr);
}

TEST_F(HostTableTest, LocalAddressesAreNeverHosts) {
  connect_subnets();
  kernel.set_local(A("10.0.1.1"), true);
  neighbour("10.0.1.1", kEth1, kMacH1);
  EXPECT_EQ(host("10.0.1.1"), nullptr);
  kernel.set_local(A("10.0.1.1"), false);
  ASSERT_TRUE(fp->local_address_changed(A("10.0.1.1")));
  EXPECT_NE(host("10.0.1.1"), nullptr);
  kernel.set_local(A("10.0.1.1"), true);
  ASSERT_TRUE(fp->local_address_changed(A("10.0.1.1")));
  EXPECT_EQ(host("10.0.1.1"), nullptr);
}

TEST_F(HostTableTest, ConnectedRouteThatStopsPuntingAsConnectedTakesItsHosts) {
  connect_subnets();
  neighbour("10.0.1.5", kEth1, kMacH1);
  ASSERT_NE(host("10.0.1.5"), nullptr);
  // Session hold expired: every route punts as offload-failed, not connected.
  fp->set_withheld(true);
  EXPECT_EQ(host("10.0.1.5"), nullptr);
  fp->set_withheld(false);
  EXPECT_NE(host("10.0.1.5"), nullptr);
  // The connected group moves to eth2: hosts on eth1 no longer qualify.
  fp->group_changed(ChangeKind::Added, FibGroup{1, false, {on_link(kEth2)}});
  EXPECT_EQ(host("10.0.1.5"), nullptr);
  neighbour("10.0.1.6", kEth2, kMacH2);
  EXPECT_NE(host("10.0.1.6"), nullptr);
  // A group over two ports: the kernel picks, not us.
  fp->group_changed(ChangeKind::Added, FibGroup{1, false, {on_link(kEth1), on_link(kEth2)}});
  EXPECT_EQ(host("10.0.1.6"), nullptr);
}

TEST_F(HostTableTest, FullTableRefusesCountsAndAdmitsWhenRoomFrees) {
  make(2);
  connect_subnets();
  neighbour("10.0.1.5", kEth1, kMacH1);
  neighbour("10.0.1.6", kEth1, kMacH2);
  neighbour("10.0.1.7", kEth1, kMacH3);
  neighbour("2001:db8:1::5", kEth1, kMacH3);  // the other family has its own room
  EXPECT_NE(host("10.0.1.5"), nullptr);
  EXPECT_NE(host("10.0.1.6"), nullptr);
  EXPECT_EQ(host("10.0.1.7"), nullptr);  // punts: never a wrong entry
  EXPECT_NE(host("2001:db8:1::5"), nullptr);
  auto st = fp->hosts().stats();
  EXPECT_EQ(st.v4, 2u);
  EXPECT_EQ(st.refused, 1u);
  EXPECT_EQ(st.full_events, 1u);
  kernel.erase_neighbour(A("10.0.1.5"), kEth1);
  ASSERT_TRUE(fp->neighbour_changed(A("10.0.1.5"), kEth1));
  EXPECT_EQ(host("10.0.1.5"), nullptr);
  ASSERT_NE(host("10.0.1.7"), nullptr);
  EXPECT_TRUE(mac_is(host("10.0.1.7")->dst_mac, kMacH3));
  EXPECT_EQ(fp->hosts().stats().refused, 0u);
}

TEST_F(HostTableTest, AMapFullerThanCountedRefusesInsteadOfFailing) {
  connect_subnets();
  writer->host_capacity = 0;  // leftovers we do not know of fill the map
  neighbour("10.0.1.5", kEth1, kMacH1);
  EXPECT_EQ(host("10.0.1.5"), nullptr);
  EXPECT_EQ(fp->hosts().stats().refused, 1u);
  EXPECT_FALSE(fp->last_error().has_value());
}

}  // namespace
}  // namespace fpm_sink
