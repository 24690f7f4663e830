// FibOffload and 802.1Q subinterfaces (fib_offload_vlans.cpp), against the fake
// map writer: which VLAN links are routed, the entries they get, next hops
// and hosts through them, and how they follow their parent.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include "dataplane/fake_announced_routes.hpp"
#include "dataplane/fake_map_writer.hpp"
#include "dataplane/fib_offload.hpp"
#include "ip_literals.hpp"

namespace fpm_sink {
namespace {

using namespace std::chrono_literals;

using test::A;

constexpr uint32_t kEth1 = 11, kEth2 = 12, kEth1v10 = 21, kEth1v20 = 22;
const EthAddr kMacEth1{2, 0, 0, 0, 0, 1}, kMacEth2{2, 0, 0, 0, 0, 2};
const EthAddr kMacSub{2, 0, 0, 0, 0x10, 1};
const EthAddr kMacGw{2, 0, 0, 0, 1, 1};
// A routed entry's flags by default: both families forwarded, and IPv4
// redirects counted as sent until the daemon reads send_redirects.
constexpr uint16_t kAll =
    FPM_IFACE_F_V4 | FPM_IFACE_F_V6 | FPM_IFACE_F_FWD4 | FPM_IFACE_F_FWD6 | FPM_IFACE_F_REDIRECTS4;

LinkEntry routed(EthAddr mac, uint32_t mtu, bool up = true) {
  LinkEntry l{mac, mtu, up};
  l.forward_v4 = l.forward_v6 = true;
  return l;
}

LinkEntry vlan(uint32_t parent, uint16_t vid, uint32_t mtu = 1500, uint16_t protocol = 0x8100) {
  LinkEntry l = routed(kMacSub, mtu);
  l.vlan = VlanEntry{parent, vid, protocol, false};
  return l;
}

class FibOffloadVlan : public ::testing::Test {
 protected:
  FibOffloadVlan() {
    kernel.set_link(kEth1, routed(kMacEth1, 1500));
    kernel.set_link(kEth2, routed(kMacEth2, 9000));
    kernel.set_link(kEth1v10, vlan(kEth1, 10));
    FibOffloadLimits cfg;
    cfg.max_groups = 16;
    cfg.max_nexthops = 16;
    cfg.clock = [this] { return now; };
    fp = std::make_unique<FibOffload>(cfg, writer, kernel, kernel, routes);
  }
  // Next hop via gw on ifindex, programmed through a one-member group.
  fpm_nexthop nexthop_via(const char* gw, uint32_t ifindex) {
    ResolvedNextHop r;
    r.nh.gateway = A(gw);
    r.nh.ifindex = ifindex;
    r.weight = 1;
    fp->group_changed(ChangeKind::Added, FibGroup{next_group_, false, {r}});
    ++next_group_;
    for (const auto& [index, nh] : writer.nexthops)
      if (nh.ifindex == ifindex) return nh;
    ADD_FAILURE() << "no next hop on " << ifindex;
    return {};
  }

  StaticKernelView kernel;
  FakeMapWriter writer;
  FakeAnnouncedRoutes routes;  // before fp: it holds the routes fp reads
  std::unique_ptr<FibOffload> fp;
  SteadyClock::result_type now{};
  uint32_t next_group_ = 1;
};

TEST_F(FibOffloadVlan, SubinterfaceOfAPortGetsItsEntries) {
  ASSERT_TRUE(fp->add_port(kEth1));
  ASSERT_TRUE(fp->sync_subinterface(kEth1v10));
  ASSERT_TRUE(fp->subinterfaces().contains(kEth1v10));
  // Ingress: its own entry (its MAC, switches, a slot of its own) and the (port, VID) key.
  const fpm_iface& e = writer.ifaces.at(kEth1v10);
  EXPECT_TRUE(std::equal(kMacSub.begin(), kMacSub.end(), e.mac));
  EXPECT_EQ(e.flags, kAll);
  EXPECT_NE(e.slot, writer.ifaces.at(kEth1).slot);
  EXPECT_EQ(fp->subinterfaces().at(kEth1v10).slot, e.slot);
  EXPECT_EQ(writer.vlans.at({kEth1, 10}), kEth1v10);
  // Egress: redirected through the parent; never attached itself.
  EXPECT_EQ(writer.tx_via.at(kEth1v10), kEth1);
  EXPECT_FALSE(writer.tx_ports.contains(kEth1v10));
  EXPECT_FALSE(fp->ports().contains(kEth1v10));
}

TEST_F(FibOffloadVlan, NotRoutedUntilTheParentIsAPort) {
  ASSERT_TRUE(fp->sync_subinterface(kEth1v10));
  EXPECT_FALSE(fp->subinterfaces().contains(kEth1v10));
  EXPECT_TRUE(writer.ifaces.empty());
  EXPECT_TRUE(writer.vlans.empty());
  EXPECT_TRUE(writer.tx_via.empty());
}

TEST_F(FibOffloadVlan, RoutedOnlyWhileUp) {
  ASSERT_TRUE(fp->add_port(kEth1));
  LinkEntry down = vlan(kEth1, 10);
  down.up = false;
  kernel.set_link(kEth1v10, down);
  ASSERT_TRUE(fp->sync_subinterface(kEth1v10));
  EXPECT_FALSE(writer.vlans.contains({kEth1, 10}));
  kernel.set_link(kEth1v10, vlan(kEth1, 10));
  ASSERT_TRUE(fp->sync_subinterface(kEth1v10));
  EXPECT_TRUE(writer.vlans.contains({kEth1, 10}));
  kernel.set_link(kEth1v10, down);
  ASSERT_TRUE(fp->sync_subinterface(kEth1v10));
  EXPECT_FALSE(writer.vlans.contains({kEth1, 10}));
  EXPECT_FALSE(writer.ifaces.contains(kEth1v10));
}

TEST_F(FibOffloadVlan, RefusedKinds) {
  ASSERT_TRUE(fp->add_port(kEth1));
  kernel.set_link(30, vlan(kEth1, 30, 1500, 0x88a8));  // 802.1ad
  kernel.set_link(31, vlan(kEth1, 0));                 // priority tags only
  kernel.set_link(32, vlan(kEth1v10, 32));             // QinQ: stacked on a VLAN
  kernel.set_link(33, vlan(0, 33));                    // parent in another namespace
  for (uint32_t ifindex : {30u, 31u, 32u, 33u}) {
    ASSERT_TRUE(fp->sync_subinterface(ifindex));
    EXPECT_FALSE(fp->subinterfaces().contains(ifindex)) << ifindex;
    EXPECT_TRUE(subinterface_refusal(kernel, *kernel.link(ifindex)->vlan)) << ifindex;
  }
  EXPECT_FALSE(subinterface_refusal(kernel, *kernel.link(kEth1v10)->vlan));
  EXPECT_TRUE(writer.vlans.empty());
  EXPECT_EQ(writer.ifaces.size(), 1u);  // the port only
}

TEST_F(FibOffloadVlan, EgressQosMapKeepsIngressOnly) {
  ASSERT_TRUE(fp->add_port(kEth1));
  LinkEntry l = vlan(kEth1, 10);
  l.vlan->egress_qos = true;
  kernel.set_link(kEth1v10, l);
  ASSERT_TRUE(fp->sync_subinterface(kEth1v10));
  EXPECT_TRUE(writer.ifaces.contains(kEth1v10));
  EXPECT_TRUE(writer.vlans.contains({kEth1, 10}));
  EXPECT_FALSE(writer.tx_via.contains(kEth1v10)) << "PCP would differ from the kernel's";
  // The map is cleared: egress too now.
  kernel.set_link(kEth1v10, vlan(kEth1, 10));
  ASSERT_TRUE(fp->sync_subinterface(kEth1v10));
  EXPECT_EQ(writer.tx_via.at(kEth1v10), kEth1);
}

TEST_F(FibOffloadVlan, NextHopThroughASubinterfaceCarriesItsTag) {
  ASSERT_TRUE(fp->add_port(kEth1));
  ASSERT_TRUE(fp->sync_subinterface(kEth1v10));
  kernel.set_neighbour(A("10.10.0.1"), kEth1v10, {kMacGw, true});
  const fpm_nexthop nh = nexthop_via("10.10.0.1", kEth1v10);
  EXPECT_EQ(nh.state, FPM_NH_VALID);
  EXPECT_EQ(nh.ifindex, kEth1v10) << "the devmap key; its entry targets the parent";
  EXPECT_EQ(nh.flags, FPM_NH_F_VLAN);
  EXPECT_EQ(nh.vlan_tci, htons(10));
  EXPECT_TRUE(std::equal(kMacSub.begin(), kMacSub.end(), nh.src_mac));
  EXPECT_TRUE(std::equal(kMacGw.begin(), kMacGw.end(), nh.dst_mac));
  EXPECT_EQ(nh.mtu, 1500u);
}

TEST_F(FibOffloadVlan, UntaggedNextHopHasNoTag) {
  ASSERT_TRUE(fp->add_port(kEth2));
  kernel.set_neighbour(A("10.0.2.1"), kEth2, {kMacGw, true});
  const fpm_nexthop nh = nexthop_via("10.0.2.1", kEth2);
  EXPECT_EQ(nh.flags, 0);
  EXPECT_EQ(nh.vlan_tci, 0);
}

TEST_F(FibOffloadVlan, ParentMtuAndCarrierApplyToTheSubinterface) {
  ASSERT_TRUE(fp->add_port(kEth1));
  ASSERT_TRUE(fp->sync_subinterface(kEth1v10));
  kernel.set_neighbour(A("10.10.0.1"), kEth1v10, {kMacGw, true});
  nexthop_via("10.10.0.1", kEth1v10);
  auto current = [&] {
    for (const auto& [i, nh] : writer.nexthops)
      if (nh.ifindex == kEth1v10) return nh;
    return fpm_nexthop{};
  };
  // The parent shrinks before the kernel's event for the VLAN arrives.
  kernel.set_link(kEth1, routed(kMacEth1, 1400));
  ASSERT_TRUE(fp->link_changed(kEth1));
  EXPECT_EQ(current().mtu, 1400u);
  EXPECT_EQ(current().state, FPM_NH_VALID);
  // The parent loses carrier: the subinterface's next hops fail with it.
  kernel.set_link(kEth1, routed(kMacEth1, 1400, false));
  ASSERT_TRUE(fp->link_changed(kEth1));
  EXPECT_EQ(current().state, FPM_NH_FAILED);
}

TEST_F(FibOffloadVlan, VidChangeRekeysAndRemovalCleansUp) {
  ASSERT_TRUE(fp->add_port(kEth1));
  ASSERT_TRUE(fp->sync_subinterface(kEth1v10));
  kernel.set_link(kEth1v10, vlan(kEth1, 11));
  ASSERT_TRUE(fp->sync_subinterface(kEth1v10));
  EXPECT_FALSE(writer.vlans.contains({kEth1, 10}));
  EXPECT_EQ(writer.vlans.at({kEth1, 11}), kEth1v10);
  // Its MAC changes: one rewrite of its entry, nothing else.
  LinkEntry moved = vlan(kEth1, 11);
  moved.mac = {2, 0, 0, 0, 0x10, 0x77};
  kernel.set_link(kEth1v10, moved);
  const auto before = writer.writes.total();
  ASSERT_TRUE(fp->sync_subinterface(kEth1v10));
  EXPECT_EQ(writer.writes.total(), before + 1);
  EXPECT_EQ(writer.ifaces.at(kEth1v10).mac[5], 0x77);
  kernel.erase_link(kEth1v10);
  ASSERT_TRUE(fp->sync_subinterface(kEth1v10));
  EXPECT_FALSE(fp->subinterfaces().contains(kEth1v10));
  EXPECT_TRUE(writer.vlans.empty());
  EXPECT_FALSE(writer.ifaces.contains(kEth1v10));
  EXPECT_FALSE(writer.tx_via.contains(kEth1v10));
}

TEST_F(FibOffloadVlan, RemovingThePortDropsItsSubinterfaces) {
  ASSERT_TRUE(fp->add_port(kEth1));
  kernel.set_link(kEth1v20, vlan(kEth1, 20));
  ASSERT_TRUE(fp->sync_subinterface(kEth1v10));
  ASSERT_TRUE(fp->sync_subinterface(kEth1v20));
  EXPECT_EQ(writer.vlans.size(), 2u);
  ASSERT_TRUE(fp->remove_port(kEth1));
  EXPECT_TRUE(fp->subinterfaces().empty());
  EXPECT_TRUE(writer.vlans.empty());
  EXPECT_TRUE(writer.ifaces.empty());
  EXPECT_TRUE(writer.tx_via.empty());
}

TEST_F(FibOffloadVlan, EnslavedSubinterfaceIsMarked) {
  ASSERT_TRUE(fp->add_port(kEth1));
  LinkEntry l = vlan(kEth1, 10);
  l.master = 99;
  kernel.set_link(kEth1v10, l);
  ASSERT_TRUE(fp->sync_subinterface(kEth1v10));
  EXPECT_EQ(writer.ifaces.at(kEth1v10).flags, kAll | FPM_IFACE_F_ENSLAVED);
}

// A NIC that strips tags hides which device a frame arrived on: the port
// punts everything while that lasts, its subinterfaces keep their entries.
TEST_F(FibOffloadVlan, StrippedTagsMakeThePortPuntEverything) {
  ASSERT_TRUE(fp->add_port(kEth1));
  ASSERT_TRUE(fp->sync_subinterface(kEth1v10));
  const uint64_t writes = writer.writes.total();
  ASSERT_TRUE(fp->set_tags_stripped(kEth1, true));
  EXPECT_EQ(writer.ifaces.at(kEth1).flags, kAll | FPM_IFACE_F_TAGS_STRIPPED);
  EXPECT_EQ(writer.ifaces.at(kEth1v10).flags, kAll) << "only the port that receives is marked";
  EXPECT_EQ(writer.writes.total(), writes + 1);
  ASSERT_TRUE(fp->set_tags_stripped(kEth1, true));
  EXPECT_EQ(writer.writes.total(), writes + 1) << "no change, no write";
  ASSERT_TRUE(fp->refresh_port(kEth1));
  EXPECT_EQ(writer.ifaces.at(kEth1).flags, kAll | FPM_IFACE_F_TAGS_STRIPPED) << "kept on refresh";
  ASSERT_TRUE(fp->set_tags_stripped(kEth1, false));
  EXPECT_EQ(writer.ifaces.at(kEth1).flags, kAll);
}

// send_redirects is per device: a subinterface's switch is its own, not its
// parent's. What the daemon read before a port exists is its first entry;
// removing the port forgets it.
TEST_F(FibOffloadVlan, RedirectsFlagFollowsEachEntry) {
  constexpr uint16_t kQuiet = kAll & ~FPM_IFACE_F_REDIRECTS4;
  ASSERT_TRUE(fp->add_port(kEth1));
  ASSERT_TRUE(fp->sync_subinterface(kEth1v10));
  const uint64_t writes = writer.writes.total();
  ASSERT_TRUE(fp->set_sends_redirects(kEth1v10, false));
  EXPECT_FALSE(fp->sends_redirects(kEth1v10));
  EXPECT_EQ(writer.ifaces.at(kEth1v10).flags, kQuiet);
  EXPECT_EQ(writer.ifaces.at(kEth1).flags, kAll) << "the parent keeps its own";
  EXPECT_EQ(writer.writes.total(), writes + 1);
  ASSERT_TRUE(fp->set_sends_redirects(kEth1v10, false));
  EXPECT_EQ(writer.writes.total(), writes + 1) << "no change, no write";
  kernel.set_link(kEth1, routed(kMacEth1, 1400));
  ASSERT_TRUE(fp->refresh_port(kEth1v10));
  EXPECT_EQ(writer.ifaces.at(kEth1v10).flags, kQuiet) << "kept on refresh";
  ASSERT_TRUE(fp->set_sends_redirects(kEth1v10, true));
  EXPECT_EQ(writer.ifaces.at(kEth1v10).flags, kAll);

  ASSERT_TRUE(fp->set_sends_redirects(kEth2, false));
  EXPECT_FALSE(writer.ifaces.contains(kEth2)) << "not a port yet: nothing written";
  ASSERT_TRUE(fp->add_port(kEth2));
  EXPECT_EQ(writer.ifaces.at(kEth2).flags, kQuiet);
  ASSERT_TRUE(fp->remove_port(kEth2));
  EXPECT_TRUE(fp->sends_redirects(kEth2));
  ASSERT_TRUE(fp->add_port(kEth2));
  EXPECT_EQ(writer.ifaces.at(kEth2).flags, kAll);
}

// XDP applies no policy routing rule: while the kernel has one for a family,
// every entry a frame can be checked against punts that family, ports and
// routed subinterfaces alike, including those routed later.
TEST_F(FibOffloadVlan, PolicyRulesMarkPortsAndSubinterfaces) {
  ASSERT_TRUE(fp->add_port(kEth1));
  ASSERT_TRUE(fp->sync_subinterface(kEth1v10));
  const uint64_t writes = writer.writes.total();
  ASSERT_TRUE(fp->set_policy_rules(Family::V4, true));
  EXPECT_TRUE(fp->policy_rules(Family::V4));
  EXPECT_FALSE(fp->policy_rules(Family::V6));
  EXPECT_EQ(writer.ifaces.at(kEth1).flags, kAll | FPM_IFACE_F_RULES4);
  EXPECT_EQ(writer.ifaces.at(kEth1v10).flags, kAll | FPM_IFACE_F_RULES4);
  EXPECT_EQ(writer.writes.total(), writes + 2);
  ASSERT_TRUE(fp->set_policy_rules(Family::V4, true));
  EXPECT_EQ(writer.writes.total(), writes + 2) << "no change, no write";

  // Kept on a refresh (MTU change), and given to what is routed later.
  kernel.set_link(kEth1, routed(kMacEth1, 1400));
  ASSERT_TRUE(fp->refresh_port(kEth1));
  EXPECT_EQ(writer.ifaces.at(kEth1).flags, kAll | FPM_IFACE_F_RULES4);
  ASSERT_TRUE(fp->add_port(kEth2));
  kernel.set_link(kEth1v20, vlan(kEth1, 20));
  ASSERT_TRUE(fp->sync_subinterface(kEth1v20));
  EXPECT_EQ(writer.ifaces.at(kEth2).flags, kAll | FPM_IFACE_F_RULES4);
  EXPECT_EQ(writer.ifaces.at(kEth1v20).flags, kAll | FPM_IFACE_F_RULES4);

  ASSERT_TRUE(fp->set_policy_rules(Family::V6, true));
  for (uint32_t e : {kEth1, kEth2, kEth1v10, kEth1v20})
    EXPECT_EQ(writer.ifaces.at(e).flags, kAll | FPM_IFACE_F_RULES4 | FPM_IFACE_F_RULES6) << e;
  ASSERT_TRUE(fp->set_policy_rules(Family::V4, false));
  for (uint32_t e : {kEth1, kEth2, kEth1v10, kEth1v20})
    EXPECT_EQ(writer.ifaces.at(e).flags, kAll | FPM_IFACE_F_RULES6) << e;
  ASSERT_TRUE(fp->set_policy_rules(Family::V6, false));
  for (uint32_t e : {kEth1, kEth2, kEth1v10, kEth1v20}) EXPECT_EQ(writer.ifaces.at(e).flags, kAll);
}

// A rule that names an interface (iif) marks that entry only, port or subinterface.
TEST_F(FibOffloadVlan, PolicyRulePortsMarkOnlyThoseEntries) {
  ASSERT_TRUE(fp->add_port(kEth1));
  ASSERT_TRUE(fp->add_port(kEth2));
  ASSERT_TRUE(fp->sync_subinterface(kEth1v10));
  ASSERT_TRUE(fp->set_policy_rule_ports(Family::V6, {kEth1v10, 999}));
  EXPECT_EQ(writer.ifaces.at(kEth1v10).flags, kAll | FPM_IFACE_F_RULES6);
  EXPECT_EQ(writer.ifaces.at(kEth1).flags, kAll) << "the parent is not named";
  EXPECT_EQ(writer.ifaces.at(kEth2).flags, kAll);
  EXPECT_FALSE(writer.ifaces.contains(999)) << "not routed: no entry written";
  ASSERT_TRUE(fp->set_policy_rule_ports(Family::V6, {kEth2}));
  EXPECT_EQ(writer.ifaces.at(kEth1v10).flags, kAll);
  EXPECT_EQ(writer.ifaces.at(kEth2).flags, kAll | FPM_IFACE_F_RULES6);
  // Routed later: marked when it gets its entry.
  kernel.set_link(kEth1v20, vlan(kEth1, 20));
  ASSERT_TRUE(fp->set_policy_rule_ports(Family::V4, {kEth1v20}));
  ASSERT_TRUE(fp->sync_subinterface(kEth1v20));
  EXPECT_EQ(writer.ifaces.at(kEth1v20).flags, kAll | FPM_IFACE_F_RULES4);
  ASSERT_TRUE(fp->set_policy_rule_ports(Family::V4, {}));
  ASSERT_TRUE(fp->set_policy_rule_ports(Family::V6, {}));
  for (uint32_t e : {kEth1, kEth2, kEth1v10, kEth1v20}) EXPECT_EQ(writer.ifaces.at(e).flags, kAll);
}

TEST_F(FibOffloadVlan, ConnectedHostsOnASubinterface) {
  ASSERT_TRUE(fp->add_port(kEth1));
  ASSERT_TRUE(fp->sync_subinterface(kEth1v10));
  kernel.set_neighbour(A("10.10.0.7"), kEth1v10, {kMacGw, true});
  RouteView r;
  r.table = 254;
  r.prefix = *Prefix::parse("10.10.0.0/24");
  r.type = RouteType::Unicast;
  ResolvedNextHop on_link;
  on_link.nh.ifindex = kEth1v10;
  on_link.weight = 1;
  fp->group_changed(ChangeKind::Added, FibGroup{50, false, {on_link}});
  r.group_id = 50;
  routes.announce(*fp, ChangeKind::Added, r);
  ASSERT_TRUE(fp->neighbour_changed(A("10.10.0.7"), kEth1v10));
  ASSERT_TRUE(writer.hosts.contains({FPM_TABLE_SLOT_MAIN, A("10.10.0.7")}));
  const fpm_nexthop& h = writer.hosts.at({FPM_TABLE_SLOT_MAIN, A("10.10.0.7")});
  EXPECT_EQ(h.ifindex, kEth1v10);
  EXPECT_EQ(h.flags, FPM_NH_F_VLAN);
  EXPECT_EQ(h.vlan_tci, htons(10));
  // Not routed any more: its hosts go.
  ASSERT_TRUE(fp->remove_port(kEth1));
  EXPECT_FALSE(writer.hosts.contains({FPM_TABLE_SLOT_MAIN, A("10.10.0.7")}));
}

}  // namespace
}  // namespace fpm_sink
