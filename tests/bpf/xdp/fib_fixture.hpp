// A small FIB shared by the XDP tests: one prefix per outcome, v4 and v6.
//
//   10.N.0.0/16 and 2001:db8:N::/48 for N =
//     1 forward (group 1 -> nh 1, egress 0)   7 blackhole
//     2 unresolved neighbour                   8 unreachable    9 prohibit
//     3 failed neighbour                      10 connected     11 offload failed
//     4 egress MTU 1000                       12 group index out of range
//     5 egress port missing from the devmap   13 unknown action kind
//     6 group not valid                       14 punt with an out-of-range reason
//   10.1.2.128/25 and 2001:db8:1:2::/64 -> group 7 (nh 6, egress 1), more specific.
//   10.1.0.1 and 2001:db8:1::1 are local. Anything else has no route.
#pragma once

#include <bpf/bpf.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "xdp_harness.hpp"

namespace fpm_test {

inline constexpr uint32_t kIngressSlot = 3;
inline const Mac kClientMac{0x02, 0xcc, 0, 0, 0, 0x01};
inline const Mac kNeighbour1{0x02, 0xaa, 0, 0, 0, 0x01};
inline const Mac kNeighbour6{0x02, 0xaa, 0, 0, 0, 0x06};

inline uint32_t forward(uint32_t group) {
  return fpm_act_make(FPM_ACT_FORWARD, group);
}
inline uint32_t punt(uint32_t reason) {
  return fpm_act_make(FPM_ACT_PUNT, reason);
}

inline fpm_nexthop make_nh(const Port& port, const Mac& dst, uint8_t state, uint32_t mtu = 1500) {
  fpm_nexthop nh{};
  nh.ifindex = port.ifindex;
  nh.mtu = mtu;
  std::copy(dst.begin(), dst.end(), nh.dst_mac);
  std::copy(port.mac.begin(), port.mac.end(), nh.src_mac);
  nh.state = state;
  return nh;
}

inline fpm_iface make_iface(const Port& port, uint32_t slot, uint16_t flags,
                            uint16_t table_slot = 0) {
  fpm_iface i{};
  std::copy(port.mac.begin(), port.mac.end(), i.mac);
  i.slot = slot;
  i.table_slot = table_slot;
  i.flags = flags;
  i.mtu = 1500;
  return i;
}

// A port that takes both families and whose forwarding switches are on.
constexpr uint16_t kRoutesBoth =
    FPM_IFACE_F_V4 | FPM_IFACE_F_V6 | FPM_IFACE_F_FWD4 | FPM_IFACE_F_FWD6;

class FibFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    FPM_REQUIRE_ROOT();
    h_ = &XdpHarness::get();
    h_->reset();
    XdpHarness& h = *h_;
    h.set_iface(h.ingress().ifindex, make_iface(h.ingress(), kIngressSlot, kRoutesBoth));
    h.add_tx_port(h.egress(0).ifindex);
    h.add_tx_port(h.egress(1).ifindex);

    h.set_nexthop(1, make_nh(h.egress(0), kNeighbour1, FPM_NH_VALID));
    h.set_nexthop(2, make_nh(h.egress(0), {}, FPM_NH_UNRESOLVED));
    h.set_nexthop(3, make_nh(h.egress(0), kNeighbour1, FPM_NH_FAILED));
    h.set_nexthop(4, make_nh(h.egress(1), kNeighbour1, FPM_NH_VALID, 1000));
    h.set_nexthop(5, make_nh(h.spare(), kNeighbour1, FPM_NH_VALID));
    h.set_nexthop(6, make_nh(h.egress(1), kNeighbour6, FPM_NH_VALID));
    for (uint32_t g = 1; g <= 5; g++) h.set_group(g, {g}, FPM_NHG_F_VALID);
    h.set_group(6, {1}, 0);
    h.set_group(7, {6}, FPM_NHG_F_VALID);

    const uint32_t actions[] = {
        0,
        forward(1),
        forward(2),
        forward(3),
        forward(4),
        forward(5),
        forward(6),
        fpm_act_make(FPM_ACT_DROP, 0),
        punt(FPM_REASON_UNREACHABLE),
        punt(FPM_REASON_PROHIBIT),
        punt(FPM_REASON_CONNECTED),
        punt(FPM_REASON_OFFLOAD_FAILED),
        forward(FPM_ACT_ARG_MASK),  // far beyond fpm_nhg's size
        (5u << FPM_ACT_KIND_SHIFT) | 1,
        punt(1000),
    };
    for (uint32_t n = 1; n < std::size(actions); n++) {
      h.route4(ip4("10." + std::to_string(n) + ".0.0"), 16, actions[n]);
      h.route6(ip6("2001:db8:" + std::to_string(n) + "::"), 48, actions[n]);
    }
    h.route4(ip4("10.1.2.128"), 25, forward(7));
    h.route6(ip6("2001:db8:1:2::"), 64, forward(7));
    h.add_local4(ip4("10.1.0.1"));
    h.add_local6(ip6("2001:db8:1::1"));
  }

  // A routable UDP packet from a client on the ingress port.
  PacketBuilder v4(const std::string& dst) const {
    PacketBuilder b;
    b.eth(h_->ingress().mac, kClientMac)
        .ipv4(ip4("192.0.2.10"), ip4(dst))
        .udp(4321, 53)
        .payload(48);
    return b;
  }
  PacketBuilder v6(const std::string& dst) const {
    PacketBuilder b;
    b.eth(h_->ingress().mac, kClientMac)
        .ipv6(ip6("2001:db8:ffff::10"), ip6(dst))
        .udp(4321, 53)
        .payload(48);
    return b;
  }

  XdpHarness* h_ = nullptr;
};

// The frame the fast path should emit for `in` through next hop nh: MACs
// rewritten, TTL / hop limit minus one, IPv4 checksum recomputed from scratch.
inline Bytes expected_forward(const Bytes& in, const fpm_nexthop& nh) {
  Bytes out = in;
  std::copy(nh.dst_mac, nh.dst_mac + 6, out.begin());
  std::copy(nh.src_mac, nh.src_mac + 6, out.begin() + 6);
  if (out[12] == 0x08 && out[13] == 0x00) {
    out[14 + 8]--;
    uint16_t c = ipv4_header_checksum(&out[14], (out[14] & 0xf) * 4);
    out[14 + 10] = static_cast<uint8_t>(c >> 8);
    out[14 + 11] = static_cast<uint8_t>(c);
  } else {
    out[14 + 7]--;
  }
  return out;
}

}  // namespace fpm_test
