// Forwarding switches from synthetic RTM_NEWNETCONF / RTM_DELNETCONF messages,
// through the parser, KernelState and KernelView to what the fast path sees.
#include <gtest/gtest.h>

#include "kernel/kernel_events.hpp"
#include "kernel/kernel_state.hpp"
#include "kernel/kernel_view.hpp"
#include "rtnl_builder.hpp"

namespace fpm_sink {
namespace {

using test::link_msg;
using test::netconf_msg;

const MacAddr kMac{0x02, 0x00, 0x00, 0x00, 0x00, 0x2a};

Result<std::optional<KernelEvent>> parse(const test::RtnlMessage& m) {
  return parse_kernel_message(m.span());
}

bool ignored(const Result<std::optional<KernelEvent>>& r) {
  return r.ok() && !r->has_value();
}

TEST(NetconfEvents, PortSwitchOnAndOff) {
  auto on = parse(netconf_msg(RTM_NEWNETCONF, AF_INET, 7, 1));
  ASSERT_TRUE(on.ok() && on->has_value());
  EXPECT_EQ(std::get<Upsert<ForwardingInfo>>(**on).value, (ForwardingInfo{Family::V4, 7, true}));
  auto off = parse(netconf_msg(RTM_NEWNETCONF, AF_INET6, 7, 0));
  ASSERT_TRUE(off.ok() && off->has_value());
  EXPECT_EQ(std::get<Upsert<ForwardingInfo>>(**off).value, (ForwardingInfo{Family::V6, 7, false}));
}

TEST(NetconfEvents, DelNetconfRemovesTheSwitch) {
  // Sent when the port (or its inet6_dev) goes: only the ifindex.
  auto r = parse(netconf_msg(RTM_DELNETCONF, AF_INET, 7, std::nullopt));
  ASSERT_TRUE(r.ok() && r->has_value());
  EXPECT_EQ(std::get<Removal<ForwardingInfo>>(**r).value.ifindex, 7);
}

TEST(NetconfEvents, AllAndDefaultEntries) {
  // IPv6's "all" switch is what ip6_forward() consults: kept.
  auto all6 = parse(netconf_msg(RTM_NEWNETCONF, AF_INET6, NETCONFA_IFINDEX_ALL, 1));
  ASSERT_TRUE(all6.ok() && all6->has_value());
  EXPECT_EQ(std::get<Upsert<ForwardingInfo>>(**all6).value,
            (ForwardingInfo{Family::V6, kNetconfIfindexAll, true}));
  // IPv4 checks the ingress port only; "default" is a template for new ports.
  EXPECT_TRUE(ignored(parse(netconf_msg(RTM_NEWNETCONF, AF_INET, NETCONFA_IFINDEX_ALL, 0))));
  EXPECT_TRUE(ignored(parse(netconf_msg(RTM_NEWNETCONF, AF_INET, NETCONFA_IFINDEX_DEFAULT, 0))));
  EXPECT_TRUE(ignored(parse(netconf_msg(RTM_NEWNETCONF, AF_INET6, NETCONFA_IFINDEX_DEFAULT, 0))));
}

TEST(NetconfEvents, OtherSettingsAndFamiliesAreIgnored) {
  // An rp_filter change names only NETCONFA_RP_FILTER: forwarding did not change.
  EXPECT_TRUE(ignored(parse(netconf_msg(RTM_NEWNETCONF, AF_INET, 7, std::nullopt, 2))));
  EXPECT_TRUE(ignored(parse(netconf_msg(RTM_NEWNETCONF, AF_MPLS, 7, 1))));
}

TEST(NetconfEvents, MalformedMessages) {
  test::RtnlMessage no_index(RTM_NEWNETCONF);
  no_index.extra<netconfmsg>()->ncm_family = AF_INET;
  no_index.u32(NETCONFA_FORWARDING, 1);
  auto r = parse(no_index);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().id, "kernel.nl.malformed");

  test::RtnlMessage short_value(RTM_NEWNETCONF);
  short_value.extra<netconfmsg>()->ncm_family = AF_INET;
  short_value.u32(NETCONFA_IFINDEX, 7).u8(NETCONFA_FORWARDING, 1);
  EXPECT_FALSE(parse(short_value).ok());

  test::RtnlMessage empty(RTM_NEWNETCONF);  // no netconfmsg at all
  EXPECT_FALSE(parse(empty).ok());
}

// What FibOffload reads: IPv4 from the port's switch alone, IPv6 from the port's
// switch and "all"; unknown is off.
TEST(NetconfEvents, KernelViewCombinesTheSwitches) {
  KernelState state;
  KernelView view(state);
  auto apply = [&](const test::RtnlMessage& m) {
    auto r = parse(m);
    ASSERT_TRUE(r.ok() && r->has_value());
    state.apply(**r);
  };
  apply(link_msg(RTM_NEWLINK, 7, "eth1", kMac, 1500, true));
  EXPECT_FALSE(view.link(7)->forward_v4);
  EXPECT_FALSE(view.link(7)->forward_v6);

  apply(netconf_msg(RTM_NEWNETCONF, AF_INET, 7, 1));
  apply(netconf_msg(RTM_NEWNETCONF, AF_INET6, 7, 1));
  EXPECT_TRUE(view.link(7)->forward_v4);
  EXPECT_FALSE(view.link(7)->forward_v6) << "IPv6 'all' not reported yet";
  apply(netconf_msg(RTM_NEWNETCONF, AF_INET6, NETCONFA_IFINDEX_ALL, 1));
  EXPECT_TRUE(view.link(7)->forward_v6);

  apply(netconf_msg(RTM_NEWNETCONF, AF_INET, 7, 0));  // sysctl -w net.ipv4.conf.eth1.forwarding=0
  EXPECT_FALSE(view.link(7)->forward_v4);
  EXPECT_TRUE(view.link(7)->forward_v6);
  apply(netconf_msg(RTM_NEWNETCONF, AF_INET6, NETCONFA_IFINDEX_ALL, 0));
  EXPECT_FALSE(view.link(7)->forward_v6);
  apply(netconf_msg(RTM_NEWNETCONF, AF_INET6, NETCONFA_IFINDEX_ALL, 1));
  apply(netconf_msg(RTM_DELNETCONF, AF_INET6, 7, std::nullopt));
  EXPECT_FALSE(view.link(7)->forward_v6);
}

}  // namespace
}  // namespace fpm_sink
