// VRF tables in FibOffload (dataplane/fib_offload_vrf.cpp) against the fake map
// writer: which slot a table's routes land in, what the ports of a VRF read,
// and what happens at the limits.
#include <gtest/gtest.h>

#include <cstring>

#include "dataplane/fake_announced_routes.hpp"
#include "dataplane/fake_map_writer.hpp"
#include "dataplane/fib_offload.hpp"
#include "ip_literals.hpp"

namespace fpm_sink {
namespace {

using namespace std::chrono_literals;

using test::A;
using test::P;

constexpr uint32_t kEth1 = 11, kEth2 = 12, kEth3 = 13;
constexpr uint32_t kVrfRed = 30, kVrfBlue = 31, kBridge = 32;
constexpr uint32_t kRed = 1001, kBlue = 1002;
const EthAddr kMac{2, 0, 0, 0, 0, 1}, kMacGw{2, 0, 0, 0, 1, 1};

LinkEntry port_link(uint32_t master = 0, const char* kind = "", uint32_t table = 0) {
  LinkEntry l{kMac, 1500, true};
  l.forward_v4 = l.forward_v6 = true;
  l.master = master;
  l.master_kind = kind;
  l.vrf_table = table;
  return l;
}

class FibOffloadVrfTest : public ::testing::Test {
 protected:
  FibOffloadVrfTest() {
    kernel.set_link(kEth1, port_link(kVrfRed, "vrf", kRed));
    kernel.set_link(kEth2, port_link());
    kernel.set_link(kEth3, port_link(kVrfBlue, "vrf", kBlue));
    for (uint32_t i : {kEth1, kEth2, kEth3}) kernel.set_neighbour(A("10.0.0.1"), i, {kMacGw, true});
    make();
  }
  void make(uint32_t vrf_tables = 4, uint32_t vrf_routes = 100,
            std::map<uint32_t, uint32_t> by_table = {}) {
    fp.reset();
    writer = std::make_unique<FakeMapWriter>();
    FibOffloadLimits cfg;
    cfg.max_groups = 16;
    cfg.max_nexthops = 16;
    cfg.vrf_tables = vrf_tables;
    cfg.vrf_routes = vrf_routes;
    cfg.vrf_routes_by_table = std::move(by_table);
    cfg.index_grace = 1s;
    cfg.clock = [this] { return now; };
    fp = std::make_unique<FibOffload>(cfg, *writer, kernel, kernel, routes);
    // Group 1 leaves through eth1 (red), 2 through eth2 (main), 3 through eth3 (blue).
    for (uint32_t g : {1u, 2u, 3u}) {
      ResolvedNextHop nh;
      nh.nh.gateway = A("10.0.0.1");
      nh.nh.ifindex = g == 1 ? kEth1 : g == 2 ? kEth2 : kEth3;
      fp->group_changed(ChangeKind::Added, FibGroup{g, false, {nh}});
    }
  }
  void add(const char* prefix, uint32_t group, uint32_t table) {
    RouteView r;
    r.table = table;
    r.prefix = P(prefix);
    r.group_id = group;
    routes.announce(*fp, ChangeKind::Added, r);
  }
  void remove(const char* prefix, uint32_t table) {
    RouteView r;
    r.table = table;
    r.prefix = P(prefix);
    routes.announce(*fp, ChangeKind::Removed, r);
  }
  uint32_t forward(uint32_t group) {
    return fpm_act_make(FPM_ACT_FORWARD, *fp->group_index(group));
  }
  uint16_t slot_of(uint32_t table) {
    for (const auto& t : fp->vrf_tables())
      if (t.table == table) return t.slot ? *t.slot : FPM_TABLE_SLOT_NONE;
    return FPM_TABLE_SLOT_NONE;
  }
  OffloadState state(const char* prefix, uint32_t table) {
    return fp->offload_state(table, P(prefix))->state;
  }

  StaticKernelView kernel;
  std::unique_ptr<FakeMapWriter> writer;
  FakeAnnouncedRoutes routes;  // before fp: it holds the routes fp reads
  std::unique_ptr<FibOffload> fp;
  std::chrono::steady_clock::time_point now{};
};

TEST_F(FibOffloadVrfTest, RoutesOfAVrfTableGoIntoThatTablesOwnTries) {
  add("10.5.0.0/16", 1, kRed);
  add("2001:db8:5::/48", 1, kRed);
  const uint16_t red = slot_of(kRed);
  ASSERT_NE(red, FPM_TABLE_SLOT_NONE);
  ASSERT_NE(red, FPM_TABLE_SLOT_MAIN);
  EXPECT_EQ(writer->vrf.at(red).max_routes, 100u);
  EXPECT_EQ(writer->vrf_lookup(red, A("10.5.1.1")), forward(1));
  EXPECT_EQ(writer->vrf_lookup(red, A("2001:db8:5::1")), forward(1));
  EXPECT_EQ(writer->lookup(A("10.5.1.1")), 0u);  // never in main
  EXPECT_EQ(state("10.5.0.0/16", kRed), OffloadState::Installed);
  EXPECT_EQ(state("2001:db8:5::/48", kRed), OffloadState::Installed);
  EXPECT_EQ(fp->stats().routes_installed, 2u);
}

TEST_F(FibOffloadVrfTest, OverlappingPrefixesInTwoTablesGoTheirOwnWays) {
  add("10.5.0.0/16", 2, 254);
  add("10.5.0.0/16", 1, kRed);
  add("10.5.0.0/16", 3, kBlue);
  add("10.5.7.0/24", 2, kBlue);  // a more specific in blue only
  const uint16_t red = slot_of(kRed), blue = slot_of(kBlue);
  ASSERT_NE(red, blue);
  EXPECT_EQ(writer->lookup(A("10.5.7.1")), forward(2));
  EXPECT_EQ(writer->vrf_lookup(red, A("10.5.7.1")), forward(1));
  EXPECT_EQ(writer->vrf_lookup(blue, A("10.5.7.1")), forward(2));  // leaked to eth2's next hop
  EXPECT_EQ(writer->vrf_lookup(blue, A("10.5.8.1")), forward(3));
  // Removing one table's route leaves the others alone.
  remove("10.5.0.0/16", kBlue);
  EXPECT_EQ(writer->vrf_lookup(blue, A("10.5.8.1")), 0u);
  EXPECT_EQ(writer->vrf_lookup(red, A("10.5.8.1")), forward(1));
  EXPECT_EQ(writer->lookup(A("10.5.8.1")), forward(2));
  EXPECT_FALSE(fp->offload_state(kBlue, P("10.5.0.0/16")));
}

TEST_F(FibOffloadVrfTest, PortsOfAVrfReadItsSlotOnceItHasRoutes) {
  ASSERT_TRUE(fp->add_port(kEth1));
  ASSERT_TRUE(fp->add_port(kEth2));
  // No route in red yet: no slot, the port punts (NO_TABLE) rather than use main.
  EXPECT_EQ(writer->ifaces.at(kEth1).table_slot, FPM_TABLE_SLOT_NONE);
  EXPECT_EQ(writer->ifaces.at(kEth1).flags & FPM_IFACE_F_ENSLAVED, 0u);
  EXPECT_EQ(writer->ifaces.at(kEth2).table_slot, FPM_TABLE_SLOT_MAIN);
  add("10.5.0.0/16", 1, kRed);
  EXPECT_EQ(writer->ifaces.at(kEth1).table_slot, slot_of(kRed));
  EXPECT_EQ(fp->port_entry_now(kEth1)->table_slot, slot_of(kRed));

  // Re-enslaved to blue (no routes): no slot again.
  kernel.set_link(kEth1, port_link(kVrfBlue, "vrf", kBlue));
  ASSERT_TRUE(fp->link_changed(kEth1));
  EXPECT_EQ(writer->ifaces.at(kEth1).table_slot, FPM_TABLE_SLOT_NONE);
  // Into a bridge: every frame punts, as before VRF tables.
  kernel.set_link(kEth1, port_link(kBridge, "bridge"));
  ASSERT_TRUE(fp->link_changed(kEth1));
  EXPECT_EQ(writer->ifaces.at(kEth1).flags & FPM_IFACE_F_ENSLAVED, FPM_IFACE_F_ENSLAVED);
  // A master of unknown kind (not mirrored yet) punts too.
  kernel.set_link(kEth1, port_link(kVrfRed, "", 0));
  ASSERT_TRUE(fp->link_changed(kEth1));
  EXPECT_EQ(writer->ifaces.at(kEth1).flags & FPM_IFACE_F_ENSLAVED, FPM_IFACE_F_ENSLAVED);
  // The master's own change (its table learnt) rewrites its ports.
  kernel.set_link(kEth1, port_link(kVrfRed, "vrf", kRed));
  ASSERT_TRUE(fp->link_changed(kVrfRed));
  EXPECT_EQ(writer->ifaces.at(kEth1).flags & FPM_IFACE_F_ENSLAVED, 0u);
  EXPECT_EQ(writer->ifaces.at(kEth1).table_slot, slot_of(kRed));
  // Released: routed in main.
  kernel.set_link(kEth1, port_link());
  ASSERT_TRUE(fp->link_changed(kEth1));
  EXPECT_EQ(writer->ifaces.at(kEth1).table_slot, FPM_TABLE_SLOT_MAIN);
}

TEST_F(FibOffloadVrfTest, TablesBeyondTheLimitStayWithTheKernelUntilASlotFrees) {
  make(/*vrf_tables=*/1);
  ASSERT_TRUE(fp->add_port(kEth1));
  ASSERT_TRUE(fp->add_port(kEth3));
  add("10.5.0.0/16", 1, kRed);
  add("10.6.0.0/16", 3, kBlue);
  EXPECT_EQ(slot_of(kRed), 1u);
  EXPECT_EQ(slot_of(kBlue), FPM_TABLE_SLOT_NONE);
  EXPECT_EQ(writer->vrf.size(), 1u);
  auto blue = fp->offload_state(kBlue, P("10.6.0.0/16"));
  EXPECT_EQ(blue->state, OffloadState::Failed);
  EXPECT_EQ(blue->reason, OffloadReason::NoTableSlot);
  EXPECT_EQ(writer->ifaces.at(kEth3).table_slot, FPM_TABLE_SLOT_NONE);

  // Red's last route goes: its port stops naming the slot, which is freed...
  remove("10.5.0.0/16", kRed);
  EXPECT_EQ(writer->ifaces.at(kEth1).table_slot, FPM_TABLE_SLOT_NONE);
  EXPECT_TRUE(writer->vrf.empty());
  // ...but not reused within the grace period (an XDP run may still hold it).
  fp->poll();
  EXPECT_EQ(slot_of(kBlue), FPM_TABLE_SLOT_NONE);
  now += 2s;
  fp->poll();
  EXPECT_EQ(slot_of(kBlue), 1u);
  EXPECT_EQ(writer->vrf_lookup(1, A("10.6.0.1")), forward(3));
  EXPECT_EQ(state("10.6.0.0/16", kBlue), OffloadState::Installed);
  EXPECT_EQ(writer->ifaces.at(kEth3).table_slot, 1u);
  EXPECT_EQ(writer->ifaces.at(kEth1).table_slot, FPM_TABLE_SLOT_NONE);
}

// A VLAN subinterface in a VRF has an fpm_ifaces entry of its own: it must
// stop naming a slot before the slot goes to another table, like a port.
TEST_F(FibOffloadVrfTest, SubinterfacesFollowTheirTablesSlot) {
  constexpr uint32_t kEth2v10 = 40;
  make(/*vrf_tables=*/1);
  LinkEntry sub = port_link(kVrfRed, "vrf", kRed);
  sub.vlan = VlanEntry{kEth2, 10, 0x8100, false};
  kernel.set_link(kEth2v10, sub);
  ASSERT_TRUE(fp->add_port(kEth2));
  ASSERT_TRUE(fp->sync_subinterface(kEth2v10));
  add("10.5.0.0/16", 1, kRed);
  add("10.6.0.0/16", 3, kBlue);
  EXPECT_EQ(writer->ifaces.at(kEth2v10).table_slot, 1u);

  remove("10.5.0.0/16", kRed);
  EXPECT_EQ(writer->ifaces.at(kEth2v10).table_slot, FPM_TABLE_SLOT_NONE)
      << "red's slot is freed: its subinterface must not keep naming it";
  now += 2s;
  fp->poll();
  EXPECT_EQ(slot_of(kBlue), 1u);
  EXPECT_EQ(writer->ifaces.at(kEth2v10).table_slot, FPM_TABLE_SLOT_NONE)
      << "blue's routes must never serve red's subinterface";
}

// The master's own change reaches routed subinterfaces enslaved to it too,
// not only ports: one of them would otherwise keep routing in the table the
// VRF had before (or in none it could learn).
TEST_F(FibOffloadVrfTest, SubinterfacesFollowTheirVrfsOwnChanges) {
  constexpr uint32_t kEth2v10 = 40;
  LinkEntry sub = port_link(kVrfRed, "", 0);  // the master is not mirrored yet
  sub.vlan = VlanEntry{kEth2, 10, 0x8100, false};
  kernel.set_link(kEth2v10, sub);
  ASSERT_TRUE(fp->add_port(kEth2));
  ASSERT_TRUE(fp->sync_subinterface(kEth2v10));
  add("10.5.0.0/16", 1, kRed);
  add("10.6.0.0/16", 3, kBlue);
  EXPECT_EQ(writer->ifaces.at(kEth2v10).flags & FPM_IFACE_F_ENSLAVED, FPM_IFACE_F_ENSLAVED);
  sub.master_kind = "vrf";
  sub.vrf_table = kRed;
  kernel.set_link(kEth2v10, sub);
  ASSERT_TRUE(fp->link_changed(kVrfRed));
  EXPECT_EQ(writer->ifaces.at(kEth2v10).flags & FPM_IFACE_F_ENSLAVED, 0u);
  EXPECT_EQ(writer->ifaces.at(kEth2v10).table_slot, slot_of(kRed));
  // The VRF moves to blue's table.
  sub.vrf_table = kBlue;
  kernel.set_link(kEth2v10, sub);
  ASSERT_TRUE(fp->link_changed(kVrfRed));
  EXPECT_EQ(writer->ifaces.at(kEth2v10).table_slot, slot_of(kBlue));
}

TEST_F(FibOffloadVrfTest, ATableThatOutgrowsItsTriesGoesToTheKernelWhole) {
  make(4, /*vrf_routes=*/2);
  ASSERT_TRUE(fp->add_port(kEth1));
  add("10.5.0.0/16", 1, kRed);
  add("10.5.1.0/24", 1, kRed);
  add("2001:db8::/32", 1, kRed);  // the other family has its own room
  const uint16_t red = slot_of(kRed);
  ASSERT_EQ(writer->ifaces.at(kEth1).table_slot, red);
  // A third IPv4 route cannot be punted alone (the /16 would take its packets).
  add("10.5.2.0/24", 1, kRed);
  EXPECT_EQ(writer->ifaces.at(kEth1).table_slot, FPM_TABLE_SLOT_NONE);
  for (const char* p : {"10.5.0.0/16", "10.5.1.0/24", "10.5.2.0/24", "2001:db8::/32"}) {
    EXPECT_EQ(state(p, kRed), OffloadState::Failed) << p;
    EXPECT_EQ(fp->offload_state(kRed, P(p))->reason, OffloadReason::LpmFull) << p;
  }
  EXPECT_EQ(fp->vrf_tables().at(0).overflowed, true);
  fp->poll();  // still too big
  EXPECT_EQ(writer->ifaces.at(kEth1).table_slot, FPM_TABLE_SLOT_NONE);
  remove("10.5.1.0/24", kRed);
  fp->poll();
  EXPECT_EQ(writer->ifaces.at(kEth1).table_slot, red);
  EXPECT_EQ(writer->vrf_lookup(red, A("10.5.2.1")), forward(1));
  for (const char* p : {"10.5.0.0/16", "10.5.2.0/24", "2001:db8::/32"})
    EXPECT_EQ(state(p, kRed), OffloadState::Installed) << p;
}

TEST_F(FibOffloadVrfTest, ATableCanHaveItsOwnSize) {
  make(4, 100, {{kBlue, 7}});
  add("10.5.0.0/16", 1, kRed);
  add("10.6.0.0/16", 3, kBlue);
  EXPECT_EQ(writer->vrf.at(slot_of(kRed)).max_routes, 100u);
  EXPECT_EQ(writer->vrf.at(slot_of(kBlue)).max_routes, 7u);
}

TEST_F(FibOffloadVrfTest, GroupChangesFollowIntoVrfTables) {
  add("10.5.0.0/16", 1, kRed);
  const uint16_t red = slot_of(kRed);
  // The group becomes a blackhole: the VRF route drops, as a main route would.
  fp->group_changed(ChangeKind::Added, FibGroup{1, true, {}});
  EXPECT_EQ(writer->vrf_lookup(red, A("10.5.0.1")), fpm_act_make(FPM_ACT_DROP, 0));
  // Connected (no gateway): punted as connected in red's trie.
  ResolvedNextHop onlink;
  onlink.nh.ifindex = kEth1;
  fp->group_changed(ChangeKind::Added, FibGroup{1, false, {onlink}});
  EXPECT_EQ(writer->vrf_lookup(red, A("10.5.0.1")),
            fpm_act_make(FPM_ACT_PUNT, FPM_REASON_CONNECTED));
  EXPECT_TRUE(writer->hosts.empty());
}

// Connected hosts of a VRF are keyed by its slot. A slot goes to another
// table once freed: none of the old table's host entries may be under it by
// then, or blue's ports would send red's neighbour's MAC traffic meant for
// blue's host of the same address.
TEST_F(FibOffloadVrfTest, AFreedSlotNeverServesTheHostsOfItsFormerTable) {
  const EthAddr kRedHost{2, 0, 0, 0, 2, 1}, kBlueHost{2, 0, 0, 0, 2, 3};
  make(/*vrf_tables=*/1);
  ASSERT_TRUE(fp->add_port(kEth1));
  ASSERT_TRUE(fp->add_port(kEth3));
  ResolvedNextHop on_eth1, on_eth3;
  on_eth1.nh.ifindex = kEth1;
  on_eth3.nh.ifindex = kEth3;
  fp->group_changed(ChangeKind::Added, FibGroup{4, false, {on_eth1}});
  fp->group_changed(ChangeKind::Added, FibGroup{5, false, {on_eth3}});
  // 10.7.0.5 is a neighbour in both VRFs, on their own segments.
  kernel.set_neighbour(A("10.7.0.5"), kEth1, {kRedHost, true});
  kernel.set_neighbour(A("10.7.0.5"), kEth3, {kBlueHost, true});
  kernel.set_neighbour(A("10.7.0.6"), kEth3, {kBlueHost, true});
  add("10.7.0.0/24", 4, kRed);
  add("10.7.0.0/24", 5, kBlue);  // no slot left: blue stays with the kernel
  ASSERT_EQ(slot_of(kRed), 1u);
  ASSERT_EQ(slot_of(kBlue), FPM_TABLE_SLOT_NONE);
  ASSERT_EQ(writer->hosts.size(), 1u);
  ASSERT_TRUE(writer->hosts.contains({1, A("10.7.0.5")}));
  EXPECT_EQ(writer->hosts.at({1, A("10.7.0.5")}).ifindex, kEth1);

  // Red's last route goes: its slot is freed with nothing of red under it.
  remove("10.7.0.0/24", kRed);
  EXPECT_TRUE(writer->hosts.empty());
  EXPECT_EQ(writer->hosts_at_detach, 0u);
  now += 2s;
  fp->poll();
  ASSERT_EQ(slot_of(kBlue), 1u);
  // Slot 1 is blue's now: blue's hosts, and none of red's.
  ASSERT_EQ(writer->hosts.size(), 2u);
  const fpm_nexthop& h = writer->hosts.at({1, A("10.7.0.5")});
  EXPECT_EQ(h.ifindex, kEth3);
  EXPECT_EQ(std::memcmp(h.dst_mac, kBlueHost.data(), 6), 0);
  EXPECT_TRUE(writer->hosts.contains({1, A("10.7.0.6")}));
  // Red's neighbour changing, or red's route coming back without a slot, changes nothing there.
  ASSERT_TRUE(fp->neighbour_changed(A("10.7.0.5"), kEth1));
  add("10.7.0.0/24", 4, kRed);
  EXPECT_EQ(slot_of(kRed), FPM_TABLE_SLOT_NONE);
  EXPECT_EQ(writer->hosts.size(), 2u);
  EXPECT_EQ(writer->hosts.at({1, A("10.7.0.5")}).ifindex, kEth3);
}

// Overflow keeps the slot but the table's ports stop reading it: its host
// entries go, and come back once the table fits again.
TEST_F(FibOffloadVrfTest, AnOverflowedTableHasNoHostEntries) {
  make(4, /*vrf_routes=*/2);
  ASSERT_TRUE(fp->add_port(kEth1));
  ResolvedNextHop on_eth1;
  on_eth1.nh.ifindex = kEth1;
  fp->group_changed(ChangeKind::Added, FibGroup{4, false, {on_eth1}});
  kernel.set_neighbour(A("10.7.0.5"), kEth1, {kMacGw, true});
  add("10.7.0.0/24", 4, kRed);
  const uint16_t red = slot_of(kRed);
  ASSERT_TRUE(writer->hosts.contains({red, A("10.7.0.5")}));
  add("10.5.0.0/16", 1, kRed);
  add("10.6.0.0/16", 1, kRed);  // overflow
  EXPECT_EQ(writer->ifaces.at(kEth1).table_slot, FPM_TABLE_SLOT_NONE);
  EXPECT_TRUE(writer->hosts.empty());
  remove("10.6.0.0/16", kRed);
  fp->poll();
  EXPECT_EQ(writer->ifaces.at(kEth1).table_slot, red);
  EXPECT_TRUE(writer->hosts.contains({red, A("10.7.0.5")}));
}

}  // namespace
}  // namespace fpm_sink
