// One case per verdict and reason, IPv4 and IPv6: the XDP action, the frame
// that comes out (byte by byte) and the counters that moved.
#include <gtest/gtest.h>

#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "fib_fixture.hpp"

namespace fpm_test {
namespace {

struct Case {
  std::string name;
  std::function<PacketBuilder(const FibFixture&)> packet;
  uint32_t action;  // XDP_*
  uint32_t reason;  // FPM_REASON_*
  uint32_t nh = 0;  // next hop expected for XDP_REDIRECT
  std::function<void(XdpHarness&)> tweak = {};
  bool unconfigured_port = false;  // sent on the spare port, no per-port counters
};

// gtest prints a failing case by name, not as a byte dump.
void PrintTo(const Case& c, std::ostream* os) {
  *os << c.name;
}

class Verdicts : public FibFixture, public ::testing::WithParamInterface<Case> {
 public:
  // FibFixture's builders, reachable from the case table's lambdas.
  PacketBuilder b4(const std::string& dst) const { return v4(dst); }
  PacketBuilder b6(const std::string& dst) const { return v6(dst); }
  // The ingress port's MAC but for one bit of its last byte.
  Mac near_miss_mac() const {
    Mac m = h_->ingress().mac;
    m[5] ^= 1;
    return m;
  }
};

using F = const FibFixture&;
#define V4(dst) [](F f) { return static_cast<const Verdicts&>(f).b4(dst); }
#define V6(dst) [](F f) { return static_cast<const Verdicts&>(f).b6(dst); }
#define V4X(dst, ...) [](F f) { return static_cast<const Verdicts&>(f).b4(dst) __VA_ARGS__; }
#define V6X(dst, ...) [](F f) { return static_cast<const Verdicts&>(f).b6(dst) __VA_ARGS__; }

const Mac kBroadcast{0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
const Mac kMcast4{0x01, 0x00, 0x5e, 0x00, 0x00, 0x05};
const Mac kMcast6{0x33, 0x33, 0x00, 0x00, 0x00, 0x01};

std::vector<Case> cases() {
  const uint32_t R = XDP_REDIRECT, P = XDP_PASS, D = XDP_DROP;
  auto only_v4 = [](XdpHarness& h) {
    h.set_iface(h.ingress().ifindex,
                make_iface(h.ingress(), kIngressSlot, FPM_IFACE_F_V4 | FPM_IFACE_F_FWD4));
  };
  auto only_v6 = [](XdpHarness& h) {
    h.set_iface(h.ingress().ifindex,
                make_iface(h.ingress(), kIngressSlot, FPM_IFACE_F_V6 | FPM_IFACE_F_FWD6));
  };
  auto other_table = [](XdpHarness& h) {
    h.set_iface(h.ingress().ifindex, make_iface(h.ingress(), kIngressSlot, kRoutesBoth, 1));
  };
  auto enslaved = [](XdpHarness& h) {
    h.set_iface(h.ingress().ifindex,
                make_iface(h.ingress(), kIngressSlot, kRoutesBoth | FPM_IFACE_F_ENSLAVED));
  };
  auto tags_stripped = [](XdpHarness& h) {
    h.set_iface(h.ingress().ifindex,
                make_iface(h.ingress(), kIngressSlot, kRoutesBoth | FPM_IFACE_F_TAGS_STRIPPED));
  };
  // net.ipv4.conf.<port>.forwarding off (FWD4 clear), IPv6's switches on; and the reverse.
  auto v4_fwd_off = [](XdpHarness& h) {
    h.set_iface(h.ingress().ifindex,
                make_iface(h.ingress(), kIngressSlot, kRoutesBoth & ~FPM_IFACE_F_FWD4));
  };
  auto v6_fwd_off = [](XdpHarness& h) {
    h.set_iface(h.ingress().ifindex,
                make_iface(h.ingress(), kIngressSlot, kRoutesBoth & ~FPM_IFACE_F_FWD6));
  };
  // The kernel holds a non-standard IPv4 policy rule: IPv4 goes to it, IPv6 is still routed.
  auto rules4 = [](XdpHarness& h) {
    h.set_iface(h.ingress().ifindex,
                make_iface(h.ingress(), kIngressSlot, kRoutesBoth | FPM_IFACE_F_RULES4));
  };
  auto rules6 = [](XdpHarness& h) {
    h.set_iface(h.ingress().ifindex,
                make_iface(h.ingress(), kIngressSlot, kRoutesBoth | FPM_IFACE_F_RULES6));
  };
  // Next hop 1 (10.1/16, 2001:db8:1::/48) leaves by the ingress port itself:
  // a hairpin, whose IPv4 punts only while the port sends redirects.
  auto hairpin = [](uint16_t flags) {
    return [flags](XdpHarness& h) {
      h.add_tx_port(h.ingress().ifindex);
      h.set_nexthop(1, make_nh(h.ingress(), kNeighbour1, FPM_NH_VALID));
      h.set_iface(h.ingress().ifindex, make_iface(h.ingress(), kIngressSlot, flags));
    };
  };
  auto redirects4 = [](XdpHarness& h) {
    h.set_iface(h.ingress().ifindex,
                make_iface(h.ingress(), kIngressSlot, kRoutesBoth | FPM_IFACE_F_REDIRECTS4));
  };
  return {
      // forwarded
      {"v4_udp", V4("10.1.7.7"), R, FPM_REASON_NONE, 1},
      {"v4_tcp", V4X("10.1.7.7", .tcp(40000, 443)), R, FPM_REASON_NONE, 1},
      {"v4_icmp", V4X("10.1.7.7", .icmp(8, 0)), R, FPM_REASON_NONE, 1},
      {"v4_ttl2", V4X("10.1.7.7", .ttl(2)), R, FPM_REASON_NONE, 1},
      {"v4_tbl8_more_specific", V4("10.1.2.200"), R, FPM_REASON_NONE, 6},
      {"v4_tbl8_outside_more_specific", V4("10.1.2.100"), R, FPM_REASON_NONE, 1},
      {"v4_fragment", V4X("10.1.7.7", .ipv4_fragment(0, true)), R, FPM_REASON_NONE, 1},
      {"v4_min_frame_padding", V4X("10.1.7.7", .payload(0).trailer(60 - 42)), R, FPM_REASON_NONE,
       1},
      {"v6_min_frame_padding", V6X("2001:db8:1::9", .raw_l4(59).payload(0).trailer(6)), R,
       FPM_REASON_NONE, 1},
      {"v4_at_mtu", V4X("10.4.0.9", .payload(1000 - 28)), R, FPM_REASON_NONE, 4},
      {"v6_udp", V6("2001:db8:1::9"), R, FPM_REASON_NONE, 1},
      {"v6_tcp", V6X("2001:db8:1::9", .tcp(40000, 443)), R, FPM_REASON_NONE, 1},
      {"v6_icmp", V6X("2001:db8:1::9", .icmp(128, 0)), R, FPM_REASON_NONE, 1},
      {"v6_hop_limit2", V6X("2001:db8:1::9", .ttl(2)), R, FPM_REASON_NONE, 1},
      {"v6_trie_more_specific", V6("2001:db8:1:2::9"), R, FPM_REASON_NONE, 6},
      {"v6_fragment", V6X("2001:db8:1::9", .ipv6_fragment(0, true, 7)), R, FPM_REASON_NONE, 1},
      {"v6_routing_header", V6X("2001:db8:1::9", .ipv6_routing()), R, FPM_REASON_NONE, 1},
      {"v6_at_mtu", V6X("2001:db8:4::9", .payload(1000 - 48)), R, FPM_REASON_NONE, 4},
      // interface
      {"v4_port_not_configured", V4("10.1.7.7"), P, FPM_REASON_NO_IFACE, 0, {}, true},
      {"v6_port_not_configured", V6("2001:db8:1::9"), P, FPM_REASON_NO_IFACE, 0, {}, true},
      {"v4_on_v6_only_port", V4("10.1.7.7"), P, FPM_REASON_NO_IFACE, 0, only_v6},
      {"v6_on_v4_only_port", V6("2001:db8:1::9"), P, FPM_REASON_NO_IFACE, 0, only_v4},
      // The kernel would not route what a port's forwarding switch keeps out; the other
      // family is unaffected. A family the port does not take stays no_iface.
      {"v4_fwd_disabled", V4("10.1.7.7"), P, FPM_REASON_FWD_DISABLED, 0, v4_fwd_off},
      {"v6_fwd_disabled", V6("2001:db8:1::9"), P, FPM_REASON_FWD_DISABLED, 0, v6_fwd_off},
      {"v4_fwd_on_v6_fwd_off", V4("10.1.7.7"), R, FPM_REASON_NONE, 1, v6_fwd_off},
      {"v6_fwd_on_v4_fwd_off", V6("2001:db8:1::9"), R, FPM_REASON_NONE, 1, v4_fwd_off},
      {"v4_fwd_disabled_local", V4("10.1.0.1"), P, FPM_REASON_FWD_DISABLED, 0, v4_fwd_off},
      {"v6_off_family_before_switch", V6("2001:db8:1::9"), P, FPM_REASON_NO_IFACE, 0,
       [](XdpHarness& h) {
         h.set_iface(h.ingress().ifindex,
                     make_iface(h.ingress(), kIngressSlot,
                                FPM_IFACE_F_V4 | FPM_IFACE_F_FWD4 | FPM_IFACE_F_FWD6));
       }},
      // Policy routing rules could pick another table than the one XDP looks up.
      {"v4_policy_rules", V4("10.1.7.7"), P, FPM_REASON_POLICY_RULES, 0, rules4},
      {"v6_policy_rules", V6("2001:db8:1::9"), P, FPM_REASON_POLICY_RULES, 0, rules6},
      {"v6_other_family_rules", V6("2001:db8:1::9"), R, FPM_REASON_NONE, 1, rules4},
      {"v4_other_family_rules", V4("10.1.7.7"), R, FPM_REASON_NONE, 1, rules6},
      // The forwarding switch is checked first: the kernel would not route it either.
      {"v4_fwd_disabled_before_rules", V4("10.1.7.7"), P, FPM_REASON_FWD_DISABLED, 0,
       [](XdpHarness& h) {
         h.set_iface(h.ingress().ifindex,
                     make_iface(h.ingress(), kIngressSlot,
                                (kRoutesBoth & ~FPM_IFACE_F_FWD4) | FPM_IFACE_F_RULES4));
       }},
      // Routed back out of the ingress port: the kernel sends the redirect.
      {"v4_hairpin", V4("10.1.7.7"), P, FPM_REASON_HAIRPIN, 0,
       hairpin(kRoutesBoth | FPM_IFACE_F_REDIRECTS4)},
      {"v4_hairpin_without_redirects", V4("10.1.7.7"), R, FPM_REASON_NONE, 1, hairpin(kRoutesBoth)},
      {"v6_hairpin", V6("2001:db8:1::9"), P, FPM_REASON_HAIRPIN, 0,
       hairpin(kRoutesBoth | FPM_IFACE_F_REDIRECTS4)},
      // IPv6 has no send_redirects switch: the IPv4 one does not matter.
      {"v6_hairpin_without_v4_redirects", V6("2001:db8:1::9"), P, FPM_REASON_HAIRPIN, 0,
       hairpin(kRoutesBoth)},
      {"v4_redirects_other_port", V4("10.1.7.7"), R, FPM_REASON_NONE, 1, redirects4},
      {"v6_redirects_other_port", V6("2001:db8:1::9"), R, FPM_REASON_NONE, 1, redirects4},
      {"v4_no_table", V4("10.1.7.7"), P, FPM_REASON_NO_TABLE, 0, other_table},
      {"v6_no_table", V6("2001:db8:1::9"), P, FPM_REASON_NO_TABLE, 0, other_table},
      // L2
      // A promiscuous port sees unicast frames for other hosts: never routed.
      {"v4_other_host", V4X("10.1.7.7", .eth(kNeighbour1, kClientMac)), P, FPM_REASON_OTHER_HOST},
      {"v6_other_host", V6X("2001:db8:1::9", .eth(kNeighbour1, kClientMac)), P,
       FPM_REASON_OTHER_HOST},
      {"v4_mac_differs_in_last_byte",
       V4X("10.1.7.7", .eth(static_cast<const Verdicts&>(f).near_miss_mac(), kClientMac)), P,
       FPM_REASON_OTHER_HOST},
      // A port with a master other than a VRF (bridge, bond) punts everything.
      {"v4_enslaved_port", V4("10.1.7.7"), P, FPM_REASON_ENSLAVED, 0, enslaved},
      {"v6_enslaved_port", V6("2001:db8:1::9"), P, FPM_REASON_ENSLAVED, 0, enslaved},
      {"arp_enslaved_port", V4X("10.1.7.7", .ethertype(0x0806)), P, FPM_REASON_ENSLAVED, 0,
       enslaved},
      // The NIC strips tags and the port has subinterfaces: whose frame is it?
      {"v4_tags_stripped", V4("10.1.7.7"), P, FPM_REASON_TAGS_STRIPPED, 0, tags_stripped},
      {"v6_tags_stripped", V6("2001:db8:1::9"), P, FPM_REASON_TAGS_STRIPPED, 0, tags_stripped},
      {"arp", V4X("10.1.7.7", .ethertype(0x0806)), P, FPM_REASON_NON_IP},
      {"lldp", V4X("10.1.7.7", .ethertype(0x88cc)), P, FPM_REASON_NON_IP},
      // No subinterface on the port (vlan_test.cpp has them): an unknown VID.
      {"v4_vlan", V4X("10.1.7.7", .vlan(0x8100, 10)), P, FPM_REASON_VLAN_UNKNOWN},
      {"v4_qinq", V4X("10.1.7.7", .vlan(0x88a8, 100).vlan(0x8100, 10)), P, FPM_REASON_VLAN},
      {"v4_8021ad", V4X("10.1.7.7", .vlan(0x88a8, 10)), P, FPM_REASON_VLAN},
      {"v4_priority_tag", V4X("10.1.7.7", .vlan(0x8100, 0)), P, FPM_REASON_VLAN},
      {"v6_vlan", V6X("2001:db8:1::9", .vlan(0x8100, 10)), P, FPM_REASON_VLAN_UNKNOWN},
      {"v6_qinq", V6X("2001:db8:1::9", .vlan(0x88a8, 1).vlan(0x8100, 2)), P, FPM_REASON_VLAN},
      {"v4_l2_broadcast", V4X("10.1.7.7", .eth(kBroadcast, kClientMac)), P, FPM_REASON_MULTICAST},
      {"v4_l2_multicast", V4X("10.1.7.7", .eth(kMcast4, kClientMac)), P, FPM_REASON_MULTICAST},
      {"v6_l2_multicast", V6X("2001:db8:1::9", .eth(kMcast6, kClientMac)), P, FPM_REASON_MULTICAST},
      // L3 addresses
      {"v4_l3_multicast", V4("224.0.0.5"), P, FPM_REASON_MULTICAST},
      {"v4_l3_broadcast", V4("255.255.255.255"), P, FPM_REASON_MULTICAST},
      {"v6_l3_multicast", V6("ff02::5"), P, FPM_REASON_MULTICAST},
      {"v4_link_local", V4("169.254.1.1"), P, FPM_REASON_LINK_LOCAL},
      {"v6_link_local", V6("fe80::1"), P, FPM_REASON_LINK_LOCAL},
      {"v4_martian_loopback", V4("127.0.0.1"), P, FPM_REASON_MARTIAN},
      {"v4_martian_zero", V4("0.1.2.3"), P, FPM_REASON_MARTIAN},
      {"v6_martian_loopback", V6("::1"), P, FPM_REASON_MARTIAN},
      {"v4_local", V4("10.1.0.1"), P, FPM_REASON_LOCAL},
      {"v6_local", V6("2001:db8:1::1"), P, FPM_REASON_LOCAL},
      // header contents
      {"v4_ttl1", V4X("10.1.7.7", .ttl(1)), P, FPM_REASON_TTL},
      {"v4_ttl0", V4X("10.1.7.7", .ttl(0)), P, FPM_REASON_TTL},
      {"v6_hop_limit1", V6X("2001:db8:1::9", .ttl(1)), P, FPM_REASON_TTL},
      {"v6_hop_limit0", V6X("2001:db8:1::9", .ttl(0)), P, FPM_REASON_TTL},
      {"v4_options", V4X("10.1.7.7", .ipv4_options({0x94, 0x04, 0, 0})), P, FPM_REASON_IP_OPTIONS},
      {"v6_hop_by_hop", V6X("2001:db8:1::9", .ipv6_hop_by_hop()), P, FPM_REASON_IPV6_HBH},
      {"v4_bad_checksum", V4X("10.1.7.7", .ipv4_bad_checksum()), P, FPM_REASON_BAD_CSUM},
      {"v4_bad_version", V4X("10.1.7.7", .ipv4_version_ihl(6, 5)), P, FPM_REASON_MALFORMED},
      {"v4_bad_ihl", V4X("10.1.7.7", .ipv4_version_ihl(4, 4)), P, FPM_REASON_MALFORMED},
      {"v4_total_length_too_long", V4X("10.1.7.7", .ipv4_total_length(1400)), P,
       FPM_REASON_MALFORMED},
      {"v4_total_length_below_header", V4X("10.1.7.7", .ipv4_total_length(19)), P,
       FPM_REASON_MALFORMED},
      {"v4_trailing_garbage", V4X("10.1.7.7", .trailer(1)), P, FPM_REASON_MALFORMED},
      {"v6_trailing_garbage", V6X("2001:db8:1::9", .trailer(1)), P, FPM_REASON_MALFORMED},
      {"v6_bad_version", V6X("2001:db8:1::9", .ipv6_version(4)), P, FPM_REASON_MALFORMED},
      {"v6_payload_length_too_long", V6X("2001:db8:1::9", .ipv6_payload_length(1400)), P,
       FPM_REASON_MALFORMED},
      // routes
      {"v4_no_route", V4("192.0.2.99"), P, FPM_REASON_NO_ROUTE},
      {"v6_no_route", V6("2001:db8:ff::1"), P, FPM_REASON_NO_ROUTE},
      {"v4_blackhole", V4("10.7.0.9"), D, FPM_REASON_BLACKHOLE},
      {"v6_blackhole", V6("2001:db8:7::9"), D, FPM_REASON_BLACKHOLE},
      {"v4_unreachable", V4("10.8.0.9"), P, FPM_REASON_UNREACHABLE},
      {"v6_unreachable", V6("2001:db8:8::9"), P, FPM_REASON_UNREACHABLE},
      {"v4_prohibit", V4("10.9.0.9"), P, FPM_REASON_PROHIBIT},
      {"v6_prohibit", V6("2001:db8:9::9"), P, FPM_REASON_PROHIBIT},
      {"v4_connected", V4("10.10.0.9"), P, FPM_REASON_CONNECTED},
      {"v6_connected", V6("2001:db8:10::9"), P, FPM_REASON_CONNECTED},
      {"v4_offload_failed", V4("10.11.0.9"), P, FPM_REASON_OFFLOAD_FAILED},
      {"v6_offload_failed", V6("2001:db8:11::9"), P, FPM_REASON_OFFLOAD_FAILED},
      {"v4_unknown_kind", V4("10.13.0.9"), P, FPM_REASON_NO_ROUTE},
      {"v6_bad_punt_reason", V6("2001:db8:14::9"), P, FPM_REASON_OFFLOAD_FAILED},
      // groups and next hops
      {"v4_group_invalid", V4("10.6.0.9"), P, FPM_REASON_NO_GROUP},
      {"v6_group_invalid", V6("2001:db8:6::9"), P, FPM_REASON_NO_GROUP},
      {"v4_group_out_of_range", V4("10.12.0.9"), P, FPM_REASON_NO_GROUP},
      {"v6_group_out_of_range", V6("2001:db8:12::9"), P, FPM_REASON_NO_GROUP},
      {"v4_unresolved", V4("10.2.0.9"), P, FPM_REASON_UNRESOLVED},
      {"v6_unresolved", V6("2001:db8:2::9"), P, FPM_REASON_UNRESOLVED},
      {"v4_nh_failed", V4("10.3.0.9"), P, FPM_REASON_NH_FAILED},
      {"v6_nh_failed", V6("2001:db8:3::9"), P, FPM_REASON_NH_FAILED},
      {"v4_over_mtu", V4X("10.4.0.9", .payload(1000 - 28 + 1)), P, FPM_REASON_MTU},
      {"v6_over_mtu", V6X("2001:db8:4::9", .payload(1000 - 48 + 1)), P, FPM_REASON_MTU},
      {"v4_no_tx_port", V4("10.5.0.9"), P, FPM_REASON_NO_TX_PORT},
      {"v6_no_tx_port", V6("2001:db8:5::9"), P, FPM_REASON_NO_TX_PORT},
  };
}

TEST_P(Verdicts, ActionFrameAndCounters) {
  const Case& c = GetParam();
  XdpHarness& h = *h_;
  if (c.tweak) c.tweak(h);
  const Bytes in = c.packet(*this).build();
  const uint32_t ingress = c.unconfigured_port ? h.spare().ifindex : h.ingress().ifindex;

  const RunResult r = h.run(in, ingress);
  ASSERT_EQ(r.err, 0) << strerror(-r.err);
  EXPECT_EQ(r.action, c.action);

  if (c.action == XDP_REDIRECT) {
    fpm_nexthop nh{};
    ASSERT_EQ(bpf_map_lookup_elem(bpf_map__fd(h.skel()->maps.fpm_nexthops), &c.nh, &nh), 0);
    const Bytes want = expected_forward(in, nh);
    ASSERT_EQ(r.out.size(), want.size());
    for (size_t i = 0; i < want.size(); i++) ASSERT_EQ(r.out[i], want[i]) << "byte " << i;
    if (in[12] == 0x08) {  // the incremental checksum is the from-scratch one
      EXPECT_EQ(ones_sum(&r.out[14], 20), 0xffff);
      EXPECT_EQ(r.out[14 + 8], in[14 + 8] - 1);
    } else {
      EXPECT_EQ(r.out[14 + 7], in[14 + 7] - 1);
    }
  } else {
    EXPECT_EQ(r.out, in) << "a frame not forwarded must reach the kernel untouched";
  }

  const Counters n = h.counters();
  const uint32_t verdict = c.action == XDP_REDIRECT ? FPM_VERDICT_REDIRECT
                           : c.action == XDP_DROP   ? FPM_VERDICT_DROP
                                                    : FPM_VERDICT_PASS;
  for (uint32_t v = 0; v < FPM_VERDICT_MAX; v++)
    EXPECT_EQ(n.verdict(v), v == verdict ? 1u : 0u) << "verdict " << v;
  for (uint32_t rs = 0; rs < FPM_REASON_MAX; rs++)
    EXPECT_EQ(n.reason(rs), rs == c.reason ? 1u : 0u) << "reason " << rs;
  EXPECT_EQ(n.global[FPM_CNT_VERDICT + verdict].bytes, in.size());
  EXPECT_EQ(n.global[FPM_CNT_REASON + c.reason].bytes, in.size());
  for (uint32_t s = 0; s < FPM_MAX_IFACES; s++)
    for (uint32_t v = 0; v < FPM_VERDICT_MAX; v++) {
      const bool hit = !c.unconfigured_port && s == kIngressSlot && v == verdict;
      EXPECT_EQ(n.iface[s].verdict[v].packets, hit ? 1u : 0u) << "slot " << s << " v " << v;
    }
  // The port's reason counter: every packet not redirected, on its slot only.
  const bool port_reason = !c.unconfigured_port && verdict != FPM_VERDICT_REDIRECT;
  for (uint32_t rs = 0; rs < FPM_REASON_MAX; rs++) {
    const fpm_counter pr = h.port_reason(kIngressSlot, rs);
    const bool hit = port_reason && rs == c.reason;
    EXPECT_EQ(pr.packets, hit ? 1u : 0u) << "port reason " << rs;
    EXPECT_EQ(pr.bytes, hit ? in.size() : 0u) << "port reason " << rs;
  }
  EXPECT_EQ(h.port_reason_packets_all(), port_reason ? 1u : 0u) << "another slot counted it";
}

// Two configured ports: each punts for two reasons, and a blackhole drops on
// one. Every packet lands in its own port's reason counter, never the other's.
class PortReasons : public FibFixture {};

TEST_F(PortReasons, CountedOnTheIngressPortOnly) {
  XdpHarness& h = *h_;
  constexpr uint32_t kSpareSlot = 7;
  h.set_iface(h.spare().ifindex, make_iface(h.spare(), kSpareSlot, kRoutesBoth));
  const Bytes no_route = v4("192.0.2.99").build();
  const Bytes ttl_expired = v4("10.1.7.7").ttl(1).build();
  const Bytes unreachable = v6("2001:db8:8::9").eth(h.spare().mac, kClientMac).build();
  const Bytes blackhole = v4("10.7.0.9").eth(h.spare().mac, kClientMac).build();
  const Bytes forwarded = v4("10.1.7.7").build();

  auto run = [&](const Bytes& frame, uint32_t ifindex, uint32_t action) {
    const RunResult r = h.run(frame, ifindex);
    ASSERT_EQ(r.err, 0) << strerror(-r.err);
    EXPECT_EQ(r.action, action);
  };
  for (int i = 0; i < 2; i++) run(no_route, h.ingress().ifindex, XDP_PASS);
  run(ttl_expired, h.ingress().ifindex, XDP_PASS);
  run(forwarded, h.ingress().ifindex, XDP_REDIRECT);
  run(unreachable, h.spare().ifindex, XDP_PASS);
  for (int i = 0; i < 3; i++) run(blackhole, h.spare().ifindex, XDP_DROP);

  struct Want {
    uint32_t slot, reason;
    uint64_t packets, bytes;
  };
  const Want want[] = {
      {kIngressSlot, FPM_REASON_NO_ROUTE, 2, 2 * no_route.size()},
      {kIngressSlot, FPM_REASON_TTL, 1, ttl_expired.size()},
      {kSpareSlot, FPM_REASON_UNREACHABLE, 1, unreachable.size()},
      {kSpareSlot, FPM_REASON_BLACKHOLE, 3, 3 * blackhole.size()},
  };
  uint64_t packets = 0;
  for (const Want& w : want) {
    const fpm_counter got = h.port_reason(w.slot, w.reason);
    EXPECT_EQ(got.packets, w.packets) << "slot " << w.slot << " reason " << w.reason;
    EXPECT_EQ(got.bytes, w.bytes) << "slot " << w.slot << " reason " << w.reason;
    // The same reason on the other port stays zero.
    const uint32_t other = w.slot == kIngressSlot ? kSpareSlot : kIngressSlot;
    EXPECT_EQ(h.port_reason(other, w.reason).packets, 0u)
        << "slot " << other << " reason " << w.reason;
    packets += w.packets;
  }
  // Nothing else anywhere: the forwarded packet has no reason entry (not even NONE).
  EXPECT_EQ(h.port_reason_packets_all(), packets);
  EXPECT_EQ(h.port_reason(kIngressSlot, FPM_REASON_NONE).packets, 0u);
  // The global reason counters still count every packet.
  const Counters n = h.counters();
  EXPECT_EQ(n.reason(FPM_REASON_NO_ROUTE), 2u);
  EXPECT_EQ(n.reason(FPM_REASON_BLACKHOLE), 3u);
  EXPECT_EQ(n.reason(FPM_REASON_NONE), 1u);
}

INSTANTIATE_TEST_SUITE_P(Xdp, Verdicts, ::testing::ValuesIn(cases()),
                         [](const auto& info) { return info.param.name; });

// Every reason in the ABI has at least one case above (MARTIAN etc. included).
TEST(VerdictCoverage, EveryReasonHasACase) {
  std::vector<bool> seen(FPM_REASON_MAX);
  for (const Case& c : cases()) seen[c.reason] = true;
  for (uint32_t r = 0; r <= FPM_REASON_LAST; r++) EXPECT_TRUE(seen[r]) << "reason " << r;
}

}  // namespace
}  // namespace fpm_test
