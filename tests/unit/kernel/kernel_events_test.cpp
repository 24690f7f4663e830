#include "kernel/kernel_events.hpp"

#include <gtest/gtest.h>

#include "kernel/kernel_state.hpp"
#include "kernel/kernel_view.hpp"
#include "rtnl_builder.hpp"

namespace fpm_sink {
namespace {

using test::addr_msg;
using test::link_msg;
using test::neigh_msg;

const MacAddr kMac{0x02, 0x00, 0x00, 0x00, 0x00, 0x2a};

IpAddr ip(const char* s) {
  return *IpAddr::parse(s);
}

template <typename T>
T expect_event(const Result<std::optional<KernelEvent>>& r) {
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().to_string());
  EXPECT_TRUE(r->has_value());
  return std::get<T>(**r);
}

TEST(KernelEvents, LinkUp) {
  auto m = link_msg(RTM_NEWLINK, 7, "veth-a", kMac, 9000, true);
  const auto e = expect_event<Upsert<LinkInfo>>(parse_kernel_message(m.span()));
  EXPECT_EQ(e.value.ifindex, 7u);
  EXPECT_EQ(e.value.name, "veth-a");
  EXPECT_EQ(e.value.mac, kMac);
  EXPECT_EQ(e.value.mtu, 9000u);
  EXPECT_TRUE(e.value.up);
}

TEST(KernelEvents, LinkAdminUpWithoutCarrierIsDown) {
  auto m = link_msg(RTM_NEWLINK, 7, "veth-a", kMac, 1500, false);
  m.header();
  auto r = parse_kernel_message(m.span());
  EXPECT_FALSE(std::get<Upsert<LinkInfo>>(**r).value.up);
}

// This kernel has no VRF module: the messages a VRF and its port produce.
TEST(KernelEvents, VrfPortCarriesItsMasterAndTheMasterItsKind) {
  auto vrf = link_msg(RTM_NEWLINK, 20, "vrf-red", kMac, 65575, true);
  vrf.link_kind("vrf");
  auto port = link_msg(RTM_NEWLINK, 7, "eth1", kMac, 1500, true);
  port.u32(IFLA_MASTER, 20).link_kind("veth");
  const auto v = expect_event<Upsert<LinkInfo>>(parse_kernel_message(vrf.span()));
  EXPECT_EQ(v.value.kind, "vrf");
  EXPECT_EQ(v.value.master, 0u);
  const auto p = expect_event<Upsert<LinkInfo>>(parse_kernel_message(port.span()));
  EXPECT_EQ(p.value.master, 20u);
  EXPECT_EQ(p.value.kind, "veth");

  KernelState state;
  state.apply(v);
  state.apply(p);
  const auto entry = KernelView(state).link(7);
  ASSERT_TRUE(entry);
  EXPECT_EQ(entry->master, 20u);
  EXPECT_EQ(entry->master_kind, "vrf");

  // Released from the VRF (RTM_NEWLINK without IFLA_MASTER): routed in main again.
  auto freed = link_msg(RTM_NEWLINK, 7, "eth1", kMac, 1500, true);
  state.apply(expect_event<Upsert<LinkInfo>>(parse_kernel_message(freed.span())));
  EXPECT_EQ(KernelView(state).link(7)->master, 0u);
}

// The VRF tables issue: a VRF's table travels with the VRF device, and its
// ports pick it up through KernelView (LinkEntry::vrf_table), following
// enslaving, re-enslaving and the master's removal.
TEST(KernelEvents, VrfTableFollowsTheMaster) {
  KernelState state;
  auto apply = [&](test::RtnlMessage m) {
    auto r = parse_kernel_message(m.span());
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    ASSERT_TRUE(r->has_value());
    state.apply(**r);
  };
  auto red = link_msg(RTM_NEWLINK, 20, "vrf-red", kMac, 65575, true);
  red.vrf_kind(1001);
  const auto v = expect_event<Upsert<LinkInfo>>(parse_kernel_message(red.span()));
  EXPECT_EQ(v.value.kind, "vrf");
  EXPECT_EQ(v.value.vrf_table, 1001u);
  apply(std::move(red));
  auto blue = link_msg(RTM_NEWLINK, 21, "vrf-blue", kMac, 65575, true);
  apply(std::move(blue.vrf_kind(1002)));
  // A bridge has IFLA_INFO_DATA too, never a VRF table.
  auto br = link_msg(RTM_NEWLINK, 22, "br0", kMac, 1500, true);
  apply(std::move(br.link_kind("bridge")));
  EXPECT_EQ(state.link(22)->vrf_table, 0u);

  auto port = [&](uint32_t master) {
    auto m = link_msg(RTM_NEWLINK, 7, "eth1", kMac, 1500, true);
    if (master) m.u32(IFLA_MASTER, master);
    apply(std::move(m.link_kind("veth")));
  };
  port(20);
  EXPECT_EQ(KernelView(state).link(7)->vrf_table, 1001u);
  EXPECT_EQ(state.link(7)->vrf_table, 0u);  // the port's own: it is no VRF
  port(21);                                 // re-enslaved
  EXPECT_EQ(KernelView(state).link(7)->vrf_table, 1002u);
  port(22);  // into a bridge: no table
  EXPECT_EQ(KernelView(state).link(7)->master_kind, "bridge");
  EXPECT_EQ(KernelView(state).link(7)->vrf_table, 0u);
  port(21);
  // The master goes first (the kernel's release of the port may follow): no table.
  auto gone = link_msg(RTM_DELLINK, 21, "vrf-blue", kMac, 65575, true);
  apply(std::move(gone.vrf_kind(1002)));
  EXPECT_EQ(KernelView(state).link(7)->master, 21u);
  EXPECT_EQ(KernelView(state).link(7)->master_kind, "");
  EXPECT_EQ(KernelView(state).link(7)->vrf_table, 0u);
  port(0);
  EXPECT_EQ(KernelView(state).link(7)->master, 0u);
}

// A bridge reports its ports with ifi_family AF_BRIDGE, and RTM_DELLINK when it
// releases one: the port itself is still there.
TEST(KernelEvents, BridgePortMessagesAreNotTheLink) {
  for (uint16_t type : {RTM_NEWLINK, RTM_DELLINK}) {
    auto m = link_msg(type, 7, "eth1", kMac, 1500, true);
    reinterpret_cast<ifinfomsg*>(mnl_nlmsg_get_payload(m.header()))->ifi_family = AF_BRIDGE;
    auto r = parse_kernel_message(m.span());
    ASSERT_TRUE(r.ok());
    EXPECT_FALSE(r->has_value()) << "type " << type;
  }
}

TEST(KernelEvents, LinkDeleted) {
  auto m = link_msg(RTM_DELLINK, 9, "gone", kMac, 1500, false);
  const auto e = expect_event<Removal<LinkInfo>>(parse_kernel_message(m.span()));
  EXPECT_EQ(e.value.ifindex, 9u);
}

TEST(KernelEvents, NeighbourStatesClassified) {
  struct Case {
    uint16_t nud;
    NeighState want;
  } cases[] = {{NUD_REACHABLE, NeighState::Usable}, {NUD_STALE, NeighState::Usable},
               {NUD_DELAY, NeighState::Usable},     {NUD_PROBE, NeighState::Usable},
               {NUD_PERMANENT, NeighState::Usable}, {NUD_INCOMPLETE, NeighState::Unresolved},
               {NUD_NOARP, NeighState::Usable},     {NUD_FAILED, NeighState::Failed},
               {NUD_NONE, NeighState::Unresolved}};
  for (const auto& c : cases) {
    auto m = neigh_msg(RTM_NEWNEIGH, ip("10.0.0.2"), 3, c.nud, &kMac);
    const auto e = expect_event<Upsert<NeighInfo>>(parse_kernel_message(m.span()));
    EXPECT_EQ(e.value.state, c.want) << "nud " << c.nud;
    EXPECT_EQ(e.value.addr, ip("10.0.0.2"));
    EXPECT_EQ(e.value.ifindex, 3u);
  }
}

TEST(KernelEvents, UsableStateWithoutMacIsUnresolved) {
  auto m = neigh_msg(RTM_NEWNEIGH, ip("2001:db8::2"), 3, NUD_REACHABLE, nullptr);
  const auto e = expect_event<Upsert<NeighInfo>>(parse_kernel_message(m.span()));
  EXPECT_EQ(e.value.state, NeighState::Unresolved);
  EXPECT_EQ(e.value.addr.family, Family::V6);
}

TEST(KernelEvents, FailedWithoutMacIsFailed) {
  // The kernel sends FAILED entries without NDA_LLADDR.
  auto m = neigh_msg(RTM_NEWNEIGH, ip("10.0.0.2"), 3, NUD_FAILED, nullptr);
  const auto e = expect_event<Upsert<NeighInfo>>(parse_kernel_message(m.span()));
  EXPECT_EQ(e.value.state, NeighState::Failed);
}

TEST(KernelEvents, NeighbourWithoutDestinationIsMalformed) {
  test::RtnlMessage m(RTM_NEWNEIGH);
  m.extra<ndmsg>()->ndm_family = AF_INET;
  auto r = parse_kernel_message(m.span());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().id, "kernel.nl.malformed");
}

TEST(KernelEvents, NeighbourWithWrongSizedAddressIsMalformed) {
  test::RtnlMessage m(RTM_NEWNEIGH);
  m.extra<ndmsg>()->ndm_family = AF_INET;
  const uint8_t three[3] = {1, 2, 3};
  m.bytes(NDA_DST, three);
  EXPECT_FALSE(parse_kernel_message(m.span()).ok());
}

TEST(KernelEvents, BridgeFdbEntriesIgnored) {
  test::RtnlMessage m(RTM_NEWNEIGH);
  m.extra<ndmsg>()->ndm_family = AF_BRIDGE;
  auto r = parse_kernel_message(m.span());
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->has_value());
}

TEST(KernelEvents, Addresses) {
  auto m = addr_msg(RTM_NEWADDR, ip("192.0.2.1"), 4, 24);
  const auto e = expect_event<Upsert<AddrInfo>>(parse_kernel_message(m.span()));
  EXPECT_EQ(e.value.addr, ip("192.0.2.1"));
  EXPECT_EQ(e.value.prefix_len, 24);
  auto d = addr_msg(RTM_DELADDR, ip("2001:db8::1"), 4, 64);
  expect_event<Removal<AddrInfo>>(parse_kernel_message(d.span()));
}

TEST(KernelEvents, LengthsThatLieAreRejected) {
  auto m = link_msg(RTM_NEWLINK, 7, "veth-a", kMac, 1500, true);
  auto bytes = std::vector<uint8_t>(m.span().begin(), m.span().end());
  EXPECT_FALSE(parse_kernel_message(std::span(bytes).first(bytes.size() - 4)).ok());
  EXPECT_FALSE(parse_kernel_message(std::span(bytes).first(8)).ok());
  // Claimed header shorter than an ifinfomsg.
  reinterpret_cast<nlmsghdr*>(bytes.data())->nlmsg_len = sizeof(nlmsghdr) + 2;
  EXPECT_FALSE(parse_kernel_message(bytes).ok());
}

TEST(KernelEvents, OtherMessagesIgnored) {
  test::RtnlMessage m(RTM_NEWROUTE);
  m.extra<rtmsg>();
  auto r = parse_kernel_message(m.span());
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->has_value());
}

}  // namespace
}  // namespace fpm_sink
