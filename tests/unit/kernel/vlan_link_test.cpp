// VLAN subinterfaces as the mirror reads them: IFLA_LINKINFO { kind "vlan",
// IFLA_INFO_DATA { IFLA_VLAN_ID, IFLA_VLAN_PROTOCOL, IFLA_VLAN_EGRESS_QOS } }
// plus IFLA_LINK for the parent, as vlan_fill_info() / rtnl_fill_ifinfo()
// send them. This kernel has no 8021q module: the messages are built here.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <linux/if_link.h>

#include "kernel/kernel_events.hpp"
#include "kernel/kernel_state.hpp"
#include "kernel/kernel_view.hpp"
#include "rtnl_builder.hpp"

namespace fpm_sink {
namespace {

using test::link_msg;
using test::RtnlMessage;

const MacAddr kMac{0x02, 0x00, 0x00, 0x00, 0x00, 0x10};

struct VlanMsg {
  uint16_t id = 10;
  std::optional<uint16_t> protocol = 0x8100;  // host order; nullopt: attribute absent
  bool egress_qos = false;
};

RtnlMessage vlan_link(uint16_t type, int ifindex, const std::string& name, uint32_t parent,
                      const VlanMsg& v, bool up = true) {
  auto m = link_msg(type, ifindex, name, kMac, 1500, up);
  nlmsghdr* nlh = m.header();
  mnl_attr_put_u32(nlh, IFLA_LINK, parent);
  nlattr* info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
  mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "vlan");
  nlattr* data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
  mnl_attr_put_u16(nlh, IFLA_VLAN_ID, v.id);
  if (v.protocol) mnl_attr_put_u16(nlh, IFLA_VLAN_PROTOCOL, htons(*v.protocol));
  if (v.egress_qos) {
    nlattr* qos = mnl_attr_nest_start(nlh, IFLA_VLAN_EGRESS_QOS);
    const ifla_vlan_qos_mapping map{.from = 4, .to = 5};
    mnl_attr_put(nlh, IFLA_VLAN_QOS_MAPPING, sizeof map, &map);
    mnl_attr_nest_end(nlh, qos);
  }
  mnl_attr_nest_end(nlh, data);
  mnl_attr_nest_end(nlh, info);
  return m;
}

LinkInfo parsed(const RtnlMessage& m) {
  auto r = parse_kernel_message(m.span());
  EXPECT_TRUE(r.ok() && r->has_value());
  return std::get<Upsert<LinkInfo>>(**r).value;
}

TEST(VlanLink, ParentVidAndProtocol) {
  const LinkInfo l = parsed(vlan_link(RTM_NEWLINK, 12, "eth1.10", 3, {}));
  EXPECT_EQ(l.kind, "vlan");
  ASSERT_TRUE(l.vlan);
  EXPECT_EQ(l.vlan->parent, 3u);
  EXPECT_EQ(l.vlan->id, 10);
  EXPECT_EQ(l.vlan->protocol, 0x8100);
  EXPECT_FALSE(l.vlan->egress_qos);
}

TEST(VlanLink, ServiceTagProtocolIsKept) {
  const LinkInfo l = parsed(vlan_link(RTM_NEWLINK, 12, "eth1.10", 3, {.protocol = 0x88a8}));
  ASSERT_TRUE(l.vlan);
  EXPECT_EQ(l.vlan->protocol, 0x88a8) << "IFLA_VLAN_PROTOCOL is big endian on the wire";
}

TEST(VlanLink, MissingProtocolMeans8021Q) {
  const LinkInfo l = parsed(vlan_link(RTM_NEWLINK, 12, "eth1.10", 3, {.protocol = std::nullopt}));
  ASSERT_TRUE(l.vlan);
  EXPECT_EQ(l.vlan->protocol, 0x8100);
}

TEST(VlanLink, EgressQosMappingIsNoted) {
  const LinkInfo l = parsed(vlan_link(RTM_NEWLINK, 12, "eth1.10", 3, {.egress_qos = true}));
  ASSERT_TRUE(l.vlan);
  EXPECT_TRUE(l.vlan->egress_qos);
}

TEST(VlanLink, ParentInAnotherNamespaceIsUnknown) {
  auto m = vlan_link(RTM_NEWLINK, 12, "eth1.10", 3, {});
  mnl_attr_put_u32(m.header(), IFLA_LINK_NETNSID, 1);
  const LinkInfo l = parsed(m);
  ASSERT_TRUE(l.vlan);
  EXPECT_EQ(l.vlan->parent, 0u);
}

// IFLA_LINK is a veth's peer (maybe in another namespace): not a parent.
TEST(VlanLink, OtherKindsWithIflaLinkAreNotVlans) {
  auto m = link_msg(RTM_NEWLINK, 7, "veth-a", kMac, 1500, true);
  m.u32(IFLA_LINK, 8).link_kind("veth");
  EXPECT_FALSE(parsed(m).vlan);
}

TEST(VlanLink, VlanWithoutIdIsNotAVlan) {
  auto m = link_msg(RTM_NEWLINK, 12, "eth1.10", kMac, 1500, true);
  m.u32(IFLA_LINK, 3).link_kind("vlan");
  const LinkInfo l = parsed(m);
  EXPECT_EQ(l.kind, "vlan");
  EXPECT_FALSE(l.vlan) << "without IFLA_INFO_DATA nothing says which VID";
}

struct Changes : KernelListener {
  std::vector<uint32_t> links;
  void link_changed(uint32_t ifindex, const LinkInfo*) override { links.push_back(ifindex); }
  void neighbour_changed(const IpAddr&, uint32_t, const NeighInfo*) override {}
  void local_address_changed(const IpAddr&, bool) override {}
  void forwarding_changed(Family, int32_t) override {}
  void policy_rules_changed(Family) override {}
};

// What FibOffload reads through KernelView, across a change and a removal.
TEST(VlanLink, MirrorFollowsChangesAndRemoval) {
  KernelState state;
  Changes changes;
  state.add_listener(&changes);
  KernelView view(state);
  state.apply(Upsert<LinkInfo>{parsed(vlan_link(RTM_NEWLINK, 12, "eth1.10", 3, {}))});
  auto e = view.link(12);
  ASSERT_TRUE(e && e->vlan);
  EXPECT_EQ(e->vlan->parent, 3u);
  EXPECT_EQ(e->vlan->id, 10);
  EXPECT_EQ(e->vlan->protocol, 0x8100);

  // The same again is silent; a new egress map is a change.
  state.apply(Upsert<LinkInfo>{parsed(vlan_link(RTM_NEWLINK, 12, "eth1.10", 3, {}))});
  EXPECT_EQ(changes.links.size(), 1u);
  state.apply(
      Upsert<LinkInfo>{parsed(vlan_link(RTM_NEWLINK, 12, "eth1.10", 3, {.egress_qos = true}))});
  EXPECT_EQ(changes.links.size(), 2u);
  EXPECT_TRUE(view.link(12)->vlan->egress_qos);

  auto del = parse_kernel_message(vlan_link(RTM_DELLINK, 12, "eth1.10", 3, {}).span());
  ASSERT_TRUE(del.ok() && del->has_value());
  state.apply(**del);
  EXPECT_FALSE(view.link(12));
  EXPECT_EQ(changes.links.size(), 3u);
}

}  // namespace
}  // namespace fpm_sink
