// Connected hosts: which mirrored neighbours become fpm_hosts entries, through
// FibOffload (routes, ports) and the fake writer (what XDP would read, and how
// many writes it took).
#include <gtest/gtest.h>

#include <cstring>

#include "dataplane/fake_announced_routes.hpp"
#include "dataplane/fake_map_writer.hpp"
#include "dataplane/fib_offload.hpp"
#include "ip_literals.hpp"

namespace fpm_sink {
namespace {

using test::A;
using test::P;

constexpr uint32_t kEth1 = 11, kEth2 = 12, kEth3 = 13, kEth4 = 14, kEth5 = 15;
constexpr uint32_t kVrfRed = 30, kVrfBlue = 31;
constexpr uint32_t kRed = 1001, kBlue = 1002;
const EthAddr kMacEth1{2, 0, 0, 0, 0, 1}, kMacEth2{2, 0, 0, 0, 0, 2}, kMacEth3{2, 0, 0, 0, 0, 3};
const EthAddr kMacEth4{2, 0, 0, 0, 0, 4}, kMacEth5{2, 0, 0, 0, 0, 5};
const EthAddr kMacH1{2, 0, 0, 0, 1, 1}, kMacH2{2, 0, 0, 0, 1, 2}, kMacH3{2, 0, 0, 0, 1, 3};

LinkEntry routed(EthAddr mac, uint32_t mtu = 1500) {
  LinkEntry l{mac, mtu, true};
  l.forward_v4 = l.forward_v6 = true;
  return l;
}

LinkEntry in_vrf(EthAddr mac, uint32_t vrf, uint32_t table) {
  LinkEntry l = routed(mac);
  l.master = vrf;
  l.master_kind = "vrf";
  l.vrf_table = table;
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

RouteView route(const char* prefix, uint32_t group_id, uint32_t table = kMainTable) {
  RouteView r;
  r.table = table;
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
  // eth4 in VRF red (table 1001), eth5 in VRF blue (1002), both fast-path ports;
  // groups 4 and 5 connected on them, 6 a gateway on eth4, 7 connected on eth1.
  void vrf_ports() {
    kernel.set_link(kEth4, in_vrf(kMacEth4, kVrfRed, kRed));
    kernel.set_link(kEth5, in_vrf(kMacEth5, kVrfBlue, kBlue));
    ASSERT_TRUE(fp->add_port(kEth4));
    ASSERT_TRUE(fp->add_port(kEth5));
    fp->group_changed(ChangeKind::Added, FibGroup{4, false, {on_link(kEth4)}});
    fp->group_changed(ChangeKind::Added, FibGroup{5, false, {on_link(kEth5)}});
    fp->group_changed(ChangeKind::Added, FibGroup{6, false, {via("10.0.4.1", kEth4)}});
    fp->group_changed(ChangeKind::Added, FibGroup{7, false, {on_link(kEth1)}});
  }
  uint16_t slot_of(uint32_t table) {
    for (const auto& t : fp->vrf_tables())
      if (t.table == table && t.slot) return *t.slot;
    return FPM_TABLE_SLOT_NONE;
  }
  size_t hosts_under(uint16_t slot) {
    size_t n = 0;
    for (const auto& [key, _] : writer->hosts) n += key.first == slot;
    return n;
  }
  const fpm_nexthop* host(const char* addr, uint16_t slot = FPM_TABLE_SLOT_MAIN) {
    auto it = writer->hosts.find({slot, A(addr)});
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

// VRF tables: a neighbour on a VRF's port is a host of that VRF's table,
// written under the table's slot, which only that VRF's ports read.
TEST_F(HostTableTest, AVrfsConnectedNeighbourIsAnEntryUnderItsTablesSlot) {
  vrf_ports();
  routes.announce(*fp, ChangeKind::Added, route("10.0.4.0/24", 4, kRed));
  routes.announce(*fp, ChangeKind::Added, route("2001:db8:4::/64", 4, kRed));
  neighbour("10.0.4.5", kEth4, kMacH1);
  neighbour("2001:db8:4::5", kEth4, kMacH2);
  const uint16_t red = slot_of(kRed);
  ASSERT_NE(red, FPM_TABLE_SLOT_NONE);
  ASSERT_NE(red, FPM_TABLE_SLOT_MAIN);
  const fpm_nexthop* h = host("10.0.4.5", red);
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(h->state, FPM_NH_VALID);
  EXPECT_EQ(h->ifindex, kEth4);
  EXPECT_TRUE(mac_is(h->dst_mac, kMacH1));
  EXPECT_TRUE(mac_is(h->src_mac, kMacEth4));
  ASSERT_NE(host("2001:db8:4::5", red), nullptr);
  EXPECT_TRUE(mac_is(host("2001:db8:4::5", red)->dst_mac, kMacH2));
  EXPECT_EQ(host("10.0.4.5"), nullptr);  // never under main's slot
  EXPECT_EQ(writer->hosts.size(), 2u);
  // The route stays a connected punt in red's trie: XDP looks the host up behind it.
  EXPECT_EQ(writer->vrf_lookup(red, A("10.0.4.5")),
            fpm_act_make(FPM_ACT_PUNT, FPM_REASON_CONNECTED));
  // Withdrawn: its hosts go.
  routes.announce(*fp, ChangeKind::Removed, route("2001:db8:4::/64", 4, kRed));
  EXPECT_EQ(host("2001:db8:4::5", red), nullptr);
  EXPECT_NE(host("10.0.4.5", red), nullptr);
}

TEST_F(HostTableTest, TheSameAddressInTwoVrfsAndMainIsThreeEntries) {
  vrf_ports();
  connect_subnets();  // main: 10.0.1.0/24 on eth1
  routes.announce(*fp, ChangeKind::Added, route("10.0.1.0/24", 4, kRed));
  routes.announce(*fp, ChangeKind::Added, route("10.0.1.0/24", 5, kBlue));
  neighbour("10.0.1.5", kEth1, kMacH1);
  neighbour("10.0.1.5", kEth4, kMacH2);
  neighbour("10.0.1.5", kEth5, kMacH3);
  const uint16_t red = slot_of(kRed), blue = slot_of(kBlue);
  ASSERT_NE(red, blue);
  ASSERT_NE(host("10.0.1.5"), nullptr);
  ASSERT_NE(host("10.0.1.5", red), nullptr);
  ASSERT_NE(host("10.0.1.5", blue), nullptr);
  EXPECT_EQ(host("10.0.1.5")->ifindex, kEth1);
  EXPECT_TRUE(mac_is(host("10.0.1.5", red)->dst_mac, kMacH2));
  EXPECT_EQ(host("10.0.1.5", red)->ifindex, kEth4);
  EXPECT_TRUE(mac_is(host("10.0.1.5", blue)->dst_mac, kMacH3));
  EXPECT_EQ(fp->hosts().stats().v4, 3u);
  // One VRF's neighbour leaving touches only its own entry.
  kernel.erase_neighbour(A("10.0.1.5"), kEth4);
  ASSERT_TRUE(fp->neighbour_changed(A("10.0.1.5"), kEth4));
  EXPECT_EQ(host("10.0.1.5", red), nullptr);
  EXPECT_NE(host("10.0.1.5"), nullptr);
  EXPECT_NE(host("10.0.1.5", blue), nullptr);
}

// A connected route leaked into a table over another table's port: the kernel
// would send those packets out of it, but its neighbours belong to the port's
// own table. Punting them is always safe; an entry could serve the wrong VRF.
TEST_F(HostTableTest, ANeighbourOnAPortOfAnotherTableGetsNoEntry) {
  vrf_ports();
  routes.announce(*fp, ChangeKind::Added, route("10.0.9.0/24", 7, kRed));  // red -> eth1 (main)
  routes.announce(*fp, ChangeKind::Added, route("10.0.8.0/24", 4, kMainTable));  // main -> eth4
  routes.announce(*fp, ChangeKind::Added, route("10.0.7.0/24", 5, kRed));  // red -> eth5 (blue)
  neighbour("10.0.9.5", kEth1, kMacH1);
  neighbour("10.0.8.5", kEth4, kMacH2);
  neighbour("10.0.7.5", kEth5, kMacH3);
  EXPECT_TRUE(writer->hosts.empty());
  // The port moves into red: now its neighbour is red's host.
  kernel.set_link(kEth1, in_vrf(kMacEth1, kVrfRed, kRed));
  ASSERT_TRUE(fp->link_changed(kEth1));
  ASSERT_NE(host("10.0.9.5", slot_of(kRed)), nullptr);
  // And back out: gone again.
  kernel.set_link(kEth1, routed(kMacEth1));
  ASSERT_TRUE(fp->link_changed(kEth1));
  EXPECT_TRUE(writer->hosts.empty());
}

TEST_F(HostTableTest, AVrfsHostsGoBeforeItsSlotIsFreedAndComeBackWithANewOne) {
  vrf_ports();
  routes.announce(*fp, ChangeKind::Added, route("10.0.4.0/24", 4, kRed));
  routes.announce(*fp, ChangeKind::Added, route("10.4.0.0/16", 6, kRed));  // not connected
  neighbour("10.0.4.5", kEth4, kMacH1);
  const uint16_t red = slot_of(kRed);
  ASSERT_NE(host("10.0.4.5", red), nullptr);
  // The connected route leaves first: its host goes with it, the slot stays.
  routes.announce(*fp, ChangeKind::Removed, route("10.0.4.0/24", 4, kRed));
  EXPECT_EQ(hosts_under(red), 0u);
  routes.announce(*fp, ChangeKind::Added, route("10.0.4.0/24", 4, kRed));
  ASSERT_NE(host("10.0.4.5", red), nullptr);
  // A group change that makes the connected route a gateway route: no entry.
  fp->group_changed(ChangeKind::Added, FibGroup{4, false, {via("10.0.4.1", kEth4)}});
  EXPECT_EQ(hosts_under(red), 0u);
  fp->group_changed(ChangeKind::Added, FibGroup{4, false, {on_link(kEth4)}});
  ASSERT_NE(host("10.0.4.5", red), nullptr);
  // The VRF device loses its table (IFLA_VRF_TABLE unknown): its ports punt, hosts go.
  kernel.set_link(kEth4, in_vrf(kMacEth4, kVrfRed, 0));
  ASSERT_TRUE(fp->link_changed(kVrfRed));
  EXPECT_EQ(hosts_under(red), 0u);
  kernel.set_link(kEth4, in_vrf(kMacEth4, kVrfRed, kRed));
  ASSERT_TRUE(fp->link_changed(kVrfRed));
  ASSERT_NE(host("10.0.4.5", red), nullptr);
  // Session hold: every route punts as offload-failed, VRF routes too.
  fp->set_withheld(true);
  EXPECT_EQ(hosts_under(red), 0u);
  fp->set_withheld(false);
  ASSERT_NE(host("10.0.4.5", red), nullptr);
  // The table's last route goes while the host is in: no entry is left under
  // the slot when it is detached (it may name another table next).
  routes.announce(*fp, ChangeKind::Removed, route("10.4.0.0/16", 6, kRed));
  ASSERT_NE(host("10.0.4.5", red), nullptr);
  routes.announce(*fp, ChangeKind::Removed, route("10.0.4.0/24", 4, kRed));
  EXPECT_EQ(slot_of(kRed), FPM_TABLE_SLOT_NONE);
  EXPECT_TRUE(writer->hosts.empty());
  EXPECT_EQ(writer->hosts_at_detach, 0u);
  EXPECT_EQ(fp->hosts().stats().v4, 0u);
}

TEST_F(HostTableTest, ATableThatOutgrowsItsTriesHasNoHostsUntilItFitsAgain) {
  fp.reset();
  writer = std::make_unique<FakeMapWriter>();
  FibOffloadLimits cfg;
  cfg.vrf_routes = 2;
  fp = std::make_unique<FibOffload>(cfg, *writer, kernel, kernel, routes);
  vrf_ports();
  routes.announce(*fp, ChangeKind::Added, route("10.0.4.0/24", 4, kRed));
  neighbour("10.0.4.5", kEth4, kMacH1);
  const uint16_t red = slot_of(kRed);
  ASSERT_NE(host("10.0.4.5", red), nullptr);
  routes.announce(*fp, ChangeKind::Added, route("10.4.0.0/16", 4, kRed));
  routes.announce(*fp, ChangeKind::Added, route("10.5.0.0/16", 4, kRed));  // a third: overflow
  EXPECT_EQ(writer->ifaces.at(kEth4).table_slot, FPM_TABLE_SLOT_NONE);
  EXPECT_EQ(hosts_under(red), 0u);
  neighbour("10.0.4.6", kEth4, kMacH2);  // learnt meanwhile: none either
  EXPECT_EQ(hosts_under(red), 0u);
  routes.announce(*fp, ChangeKind::Removed, route("10.5.0.0/16", 4, kRed));
  fp->poll();
  EXPECT_EQ(writer->ifaces.at(kEth4).table_slot, red);
  EXPECT_NE(host("10.0.4.5", red), nullptr);
  EXPECT_NE(host("10.0.4.6", red), nullptr);
}

TEST_F(HostTableTest, CapacityIsCountedOverEveryTable) {
  make(2);
  vrf_ports();
  connect_subnets();
  routes.announce(*fp, ChangeKind::Added, route("10.0.1.0/24", 4, kRed));
  routes.announce(*fp, ChangeKind::Added, route("10.0.1.0/24", 5, kBlue));
  neighbour("10.0.1.5", kEth1, kMacH1);
  neighbour("10.0.1.5", kEth4, kMacH2);
  neighbour("10.0.1.5", kEth5, kMacH3);  // a third v4 entry: refused, punts
  EXPECT_EQ(writer->hosts.size(), 2u);
  EXPECT_EQ(host("10.0.1.5", slot_of(kBlue)), nullptr);
  EXPECT_EQ(fp->hosts().stats().refused, 1u);
  // Red's table goes: its entry's room goes to blue's neighbour.
  routes.announce(*fp, ChangeKind::Removed, route("10.0.1.0/24", 4, kRed));
  EXPECT_NE(host("10.0.1.5", slot_of(kBlue)), nullptr);
  EXPECT_NE(host("10.0.1.5"), nullptr);
  EXPECT_EQ(fp->hosts().stats().refused, 0u);
  EXPECT_EQ(fp->hosts().stats().v4, 2u);
}

// HostTable alone: a slot names one table. Handing it to another table
// takes the first one's entries out before the new ones go in, whoever forgot
// to say the first one lost it.
TEST(HostTableSlots, ASlotGivenToAnotherTableDropsTheFormerTablesEntriesFirst) {
  FakeMapWriter writer;
  StaticKernelView kernel;
  kernel.set_link(kEth4, in_vrf(kMacEth4, kVrfRed, kRed));
  kernel.set_link(kEth5, in_vrf(kMacEth5, kVrfBlue, kBlue));
  kernel.set_neighbour(A("10.0.1.5"), kEth4, {kMacH1, true});
  kernel.set_neighbour(A("10.0.1.5"), kEth5, {kMacH2, true});
  HostTable hosts(writer, kernel, kernel, 64);
  ASSERT_TRUE(hosts.set_port(kEth4, true));
  ASSERT_TRUE(hosts.set_port(kEth5, true));
  ASSERT_TRUE(hosts.set_connected(kRed, P("10.0.1.0/24"), kEth4));
  ASSERT_TRUE(hosts.set_connected(kBlue, P("10.0.1.0/24"), kEth5));
  EXPECT_TRUE(writer.hosts.empty());  // neither table has a slot yet
  ASSERT_TRUE(hosts.set_table_slot(kRed, 3));
  ASSERT_EQ(writer.hosts.size(), 1u);
  EXPECT_EQ(writer.hosts.at({3, A("10.0.1.5")}).ifindex, kEth4);
  ASSERT_TRUE(hosts.set_table_slot(kBlue, 3));
  ASSERT_EQ(writer.hosts.size(), 1u);
  EXPECT_EQ(writer.hosts.at({3, A("10.0.1.5")}).ifindex, kEth5);
  EXPECT_TRUE(mac_is(writer.hosts.at({3, A("10.0.1.5")}).dst_mac, kMacH2));
  EXPECT_EQ(hosts.stats().v4, 1u);
  ASSERT_TRUE(hosts.set_table_slot(kRed, 4));
  EXPECT_EQ(writer.hosts.at({4, A("10.0.1.5")}).ifindex, kEth4);
  EXPECT_EQ(hosts.stats().v4, 2u);
  // Main's slot is main's from the start.
  EXPECT_EQ(hosts.connected_port(kRed, A("10.0.1.9")), kEth4);
  EXPECT_EQ(hosts.connected_port(kMainTable, A("10.0.1.9")), std::nullopt);
}

}  // namespace
}  // namespace fpm_sink
