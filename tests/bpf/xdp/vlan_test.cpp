// 802.1Q subinterfaces in the XDP program (bpf/lib/vlan.h): a tagged frame
// with a known VID is checked and counted as the subinterface's, the tag is
// popped towards an untagged next hop, pushed (or rewritten) towards a next
// hop through a subinterface, and every other tagging punts with its reason.
//
// Subinterfaces here are ifindexes no device has (fpm_ifaces and fpm_vlans
// take any key); their fpm_tx_ports entries target the harness's real ports.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <string>

#include "fib_fixture.hpp"

namespace fpm_test {
namespace {

constexpr uint32_t kSubIn = 100000;   // ingress.10: on the ingress port, VID 10
constexpr uint32_t kSubOut = 100001;  // egress0.20: on egress port 0, VID 20
constexpr uint32_t kSubInSlot = 5;
constexpr uint16_t kVidIn = 10, kVidOut = 20;
// A subinterface may carry its own MAC (ip link add ... address ...).
const Mac kSubInMac{0x02, 0x5b, 0, 0, 0, 0x10};
const Mac kSubOutMac{0x02, 0x5b, 0, 0, 0, 0x20};
const Mac kNeighbour20{0x02, 0xaa, 0, 0, 0, 0x20};
constexpr uint32_t kNhVlan = 20;     // through kSubOut
constexpr uint32_t kNhNoTx = 21;     // through a subinterface without fpm_tx_ports entry
constexpr uint32_t kNhVlanMtu = 22;  // through kSubOut, MTU 1000

fpm_nexthop vlan_nh(uint32_t ifindex, uint16_t vid, uint32_t mtu = 1500) {
  fpm_nexthop nh{};
  nh.ifindex = ifindex;
  nh.mtu = mtu;
  std::copy(kNeighbour20.begin(), kNeighbour20.end(), nh.dst_mac);
  std::copy(kSubOutMac.begin(), kSubOutMac.end(), nh.src_mac);
  nh.state = FPM_NH_VALID;
  nh.flags = FPM_NH_F_VLAN;
  nh.vlan_tci = htons(vid);
  return nh;
}

class Vlan : public FibFixture {
 protected:
  void SetUp() override {
    FibFixture::SetUp();
    if (IsSkipped()) return;
    XdpHarness& h = *h_;
    fpm_iface sub = make_iface(h.ingress(), kSubInSlot, kRoutesBoth);
    std::copy(kSubInMac.begin(), kSubInMac.end(), sub.mac);
    h.set_iface(kSubIn, sub);
    h.set_vlan(h.ingress().ifindex, kVidIn, kSubIn);
    h.add_tx_via(kSubOut, h.egress(0).ifindex);
    h.set_nexthop(kNhVlan, vlan_nh(kSubOut, kVidOut));
    h.set_nexthop(kNhNoTx, vlan_nh(kSubOut + 1, kVidOut));
    h.set_nexthop(kNhVlanMtu, vlan_nh(kSubOut, kVidOut, 1000));
    h.set_group(20, {kNhVlan}, FPM_NHG_F_VALID);
    h.set_group(21, {kNhNoTx}, FPM_NHG_F_VALID);
    h.set_group(22, {kNhVlanMtu}, FPM_NHG_F_VALID);
    h.route4(ip4("10.20.0.0"), 16, forward(20));
    h.route6(ip6("2001:db8:20::"), 48, forward(20));
    h.route4(ip4("10.21.0.0"), 16, forward(21));
    h.route4(ip4("10.22.0.0"), 16, forward(22));
  }

  // A frame for the subinterface: tagged with its VID, sent to its MAC.
  PacketBuilder tagged4(const std::string& dst, uint16_t vid = kVidIn) const {
    return v4(dst).eth(kSubInMac, kClientMac).vlan(0x8100, vid);
  }
  PacketBuilder tagged6(const std::string& dst, uint16_t vid = kVidIn) const {
    return v6(dst).eth(kSubInMac, kClientMac).vlan(0x8100, vid);
  }

  void expect(const Bytes& in, uint32_t action, uint32_t reason, uint32_t counted_slot) {
    const RunResult r = h_->run(in);
    ASSERT_EQ(r.err, 0) << strerror(-r.err);
    EXPECT_EQ(r.action, action);
    const Counters n = h_->counters();
    EXPECT_EQ(n.reason(reason), 1u) << "reason " << reason;
    const uint32_t verdict = action == XDP_REDIRECT ? FPM_VERDICT_REDIRECT : FPM_VERDICT_PASS;
    // Counted on one slot only: the subinterface's once it is known, else the port's.
    for (uint32_t slot : {kIngressSlot, kSubInSlot})
      EXPECT_EQ(n.iface[slot].verdict[verdict].packets, slot == counted_slot ? 1u : 0u)
          << "slot " << slot;
    if (action != XDP_REDIRECT) {
      EXPECT_EQ(h_->port_reason(counted_slot, reason).packets, 1u);
      EXPECT_EQ(r.out, in) << "a punted frame leaves as it came";
    }
  }
};

// A rewritten untagged frame with an 802.1Q tag for `vid` inserted after the MACs.
Bytes with_tag(Bytes frame, uint16_t vid) {
  const uint8_t tag[4] = {0x81, 0x00, static_cast<uint8_t>(vid >> 8), static_cast<uint8_t>(vid)};
  frame.insert(frame.begin() + 12, tag, tag + 4);
  return frame;
}

TEST_F(Vlan, TaggedFrameIsRoutedAsTheSubinterfaceAndLosesItsTag) {
  const Bytes in = tagged4("10.1.7.7").build();
  const RunResult r = h_->run(in);
  ASSERT_EQ(r.err, 0);
  ASSERT_EQ(r.action, XDP_REDIRECT);
  // The same packet untagged, rewritten for next hop 1 (egress port 0, untagged).
  fpm_nexthop nh1 = make_nh(h_->egress(0), kNeighbour1, FPM_NH_VALID);
  const Bytes want = expected_forward(v4("10.1.7.7").eth(kSubInMac, kClientMac).build(), nh1);
  EXPECT_EQ(r.out, want);
  EXPECT_EQ(r.out.size() + 4, in.size());
  const Counters n = h_->counters();
  EXPECT_EQ(n.iface[kSubInSlot].verdict[FPM_VERDICT_REDIRECT].packets, 1u);
  EXPECT_EQ(n.iface[kSubInSlot].verdict[FPM_VERDICT_REDIRECT].bytes, in.size());
  EXPECT_EQ(n.iface[kIngressSlot].verdict[FPM_VERDICT_REDIRECT].packets, 0u);
}

TEST_F(Vlan, Ipv6TaggedFrameLosesItsTag) {
  const RunResult r = h_->run(tagged6("2001:db8:1::9").build());
  ASSERT_EQ(r.action, XDP_REDIRECT);
  fpm_nexthop nh1 = make_nh(h_->egress(0), kNeighbour1, FPM_NH_VALID);
  EXPECT_EQ(r.out, expected_forward(v6("2001:db8:1::9").eth(kSubInMac, kClientMac).build(), nh1));
}

TEST_F(Vlan, UntaggedFrameGetsTheTagOfItsSubinterfaceNextHop) {
  const Bytes in = v4("10.20.1.1").build();
  const RunResult r = h_->run(in);
  ASSERT_EQ(r.err, 0);
  ASSERT_EQ(r.action, XDP_REDIRECT);
  const Bytes want = with_tag(expected_forward(in, vlan_nh(kSubOut, kVidOut)), kVidOut);
  EXPECT_EQ(r.out, want);
  // Spelled out: MACs, the tag, the inner type, TTL 63 and a checksum that verifies.
  ASSERT_EQ(r.out.size(), in.size() + 4);
  EXPECT_TRUE(std::equal(kNeighbour20.begin(), kNeighbour20.end(), r.out.begin()));
  EXPECT_TRUE(std::equal(kSubOutMac.begin(), kSubOutMac.end(), r.out.begin() + 6));
  EXPECT_EQ(r.out[12], 0x81);
  EXPECT_EQ(r.out[13], 0x00);
  EXPECT_EQ((r.out[14] << 8 | r.out[15]), kVidOut);
  EXPECT_EQ(r.out[16], 0x08);
  EXPECT_EQ(r.out[17], 0x00);
  EXPECT_EQ(r.out[18 + 8], 63);
  EXPECT_EQ(ipv4_header_checksum(&r.out[18], 20), (r.out[18 + 10] << 8 | r.out[18 + 11]))
      << "the incrementally updated checksum equals one computed from scratch";
}

TEST_F(Vlan, Ipv6UntaggedFrameGetsTheTag) {
  const Bytes in = v6("2001:db8:20::1").build();
  const RunResult r = h_->run(in);
  ASSERT_EQ(r.action, XDP_REDIRECT);
  EXPECT_EQ(r.out, with_tag(expected_forward(in, vlan_nh(kSubOut, kVidOut)), kVidOut));
  EXPECT_EQ(r.out[18 + 7], 63) << "hop limit";
}

TEST_F(Vlan, TaggedToSubinterfaceRewritesTheTagInPlace) {
  const Bytes in = tagged4("10.20.1.1").build();
  const RunResult r = h_->run(in);
  ASSERT_EQ(r.action, XDP_REDIRECT);
  const Bytes plain = v4("10.20.1.1").eth(kSubInMac, kClientMac).build();
  EXPECT_EQ(r.out, with_tag(expected_forward(plain, vlan_nh(kSubOut, kVidOut)), kVidOut));
  EXPECT_EQ(r.out.size(), in.size());
}

TEST_F(Vlan, PriorityBitsOfTheReceivedTagDoNotMatterAndAreNotCopied) {
  // PCP 5 on VID 10: still the subinterface; the kernel's default egress map writes PCP 0.
  const RunResult r = h_->run(tagged4("10.20.1.1", 0xa000 | kVidIn).build());
  ASSERT_EQ(r.action, XDP_REDIRECT);
  EXPECT_EQ((r.out[14] << 8 | r.out[15]), kVidOut);
}

TEST_F(Vlan, SubinterfaceChecksRunAgainstItsOwnEntry) {
  // The port's MAC is not the subinterface's: another host's frame, on the subinterface.
  expect(v4("10.1.7.7").eth(h_->ingress().mac, kClientMac).vlan(0x8100, kVidIn).build(), XDP_PASS,
         FPM_REASON_OTHER_HOST, kSubInSlot);
}

TEST_F(Vlan, SubinterfaceForwardingSwitchOff) {
  fpm_iface sub = make_iface(h_->ingress(), kSubInSlot, kRoutesBoth & ~FPM_IFACE_F_FWD4);
  std::copy(kSubInMac.begin(), kSubInMac.end(), sub.mac);
  h_->set_iface(kSubIn, sub);
  expect(tagged4("10.1.7.7").build(), XDP_PASS, FPM_REASON_FWD_DISABLED, kSubInSlot);
}

TEST_F(Vlan, EnslavedSubinterfacePunts) {
  fpm_iface sub = make_iface(h_->ingress(), kSubInSlot, kRoutesBoth | FPM_IFACE_F_ENSLAVED);
  std::copy(kSubInMac.begin(), kSubInMac.end(), sub.mac);
  h_->set_iface(kSubIn, sub);
  expect(tagged4("10.1.7.7").build(), XDP_PASS, FPM_REASON_ENSLAVED, kSubInSlot);
}

TEST_F(Vlan, TaggedNonIpAndMulticastAreTheSubinterfacesToPunt) {
  expect(tagged4("10.1.7.7").ethertype(0x0806).build(), XDP_PASS, FPM_REASON_NON_IP, kSubInSlot);
}

TEST_F(Vlan, TaggedBroadcastPunts) {
  expect(tagged4("10.1.7.7").eth({0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, kClientMac).build(),
         XDP_PASS, FPM_REASON_MULTICAST, kSubInSlot);
}

TEST_F(Vlan, UnknownVidPuntsOnThePort) {
  expect(tagged4("10.1.7.7", 11).build(), XDP_PASS, FPM_REASON_VLAN_UNKNOWN, kIngressSlot);
}

TEST_F(Vlan, KnownVidOnAnotherPortIsUnknownThere) {
  h_->set_iface(h_->spare().ifindex, make_iface(h_->spare(), 7, kRoutesBoth));
  const RunResult r = h_->run(tagged4("10.1.7.7").build(), h_->spare().ifindex);
  EXPECT_EQ(r.action, XDP_PASS);
  EXPECT_EQ(h_->counters().reason(FPM_REASON_VLAN_UNKNOWN), 1u);
}

TEST_F(Vlan, QinqPunts) {
  // Outer 802.1Q VID 10 (a known subinterface) with a second tag inside.
  expect(v4("10.1.7.7").eth(kSubInMac, kClientMac).vlan(0x8100, kVidIn).vlan(0x8100, 5).build(),
         XDP_PASS, FPM_REASON_VLAN, kIngressSlot);
}

TEST_F(Vlan, ServiceTagPunts) {
  expect(v4("10.1.7.7").eth(kSubInMac, kClientMac).vlan(0x88a8, kVidIn).build(), XDP_PASS,
         FPM_REASON_VLAN, kIngressSlot);
}

TEST_F(Vlan, PriorityTagAndReservedVidPunt) {
  h_->set_vlan(h_->ingress().ifindex, 0, kSubIn);  // even if a map entry existed
  expect(tagged4("10.1.7.7", 0).build(), XDP_PASS, FPM_REASON_VLAN, kIngressSlot);
}

TEST_F(Vlan, Vid4095Punts) {
  expect(tagged4("10.1.7.7", 0xfff).build(), XDP_PASS, FPM_REASON_VLAN, kIngressSlot);
}

TEST_F(Vlan, SubinterfaceWithoutTxEntryPunts) {
  expect(v4("10.21.0.1").build(), XDP_PASS, FPM_REASON_NO_TX_PORT, kIngressSlot);
}

TEST_F(Vlan, MtuOfTheSubinterfaceNextHopIsTheL3Length) {
  // 1000 bytes of IPv4 fit an L3 MTU of 1000 (the tag is not part of it); 1001 do not.
  const size_t fixed = 20 + 8;  // IPv4 + UDP headers
  const Bytes fits = v4("10.22.0.1").payload(1000 - fixed).build();
  const RunResult ok = h_->run(fits);
  EXPECT_EQ(ok.action, XDP_REDIRECT);
  EXPECT_EQ(ok.out.size(), fits.size() + 4);
  expect(v4("10.22.0.1").payload(1001 - fixed).build(), XDP_PASS, FPM_REASON_MTU, kIngressSlot);
}

// Hairpins (bpf/lib/hairpin.h) are judged on the logical device: the same
// subinterface in and out is one, another VID of the same port or the port's
// own untagged side is not.
class VlanHairpin : public Vlan {
 protected:
  static constexpr uint32_t kSubIn2 = 100002;  // ingress.30: on the ingress port, VID 30
  static constexpr uint16_t kVidIn2 = 30;
  static constexpr uint32_t kNhBack = 23;     // out by kSubIn itself
  static constexpr uint32_t kNhSibling = 24;  // out by kSubIn2
  static constexpr uint32_t kNhPort = 25;     // out by the ingress port, untagged

  void SetUp() override {
    Vlan::SetUp();
    if (IsSkipped()) return;
    XdpHarness& h = *h_;
    h.add_tx_port(h.ingress().ifindex);
    h.add_tx_via(kSubIn, h.ingress().ifindex);
    h.add_tx_via(kSubIn2, h.ingress().ifindex);
    h.set_nexthop(kNhBack, vlan_nh(kSubIn, kVidIn));
    h.set_nexthop(kNhSibling, vlan_nh(kSubIn2, kVidIn2));
    h.set_nexthop(kNhPort, make_nh(h.ingress(), kNeighbour1, FPM_NH_VALID));
    for (uint32_t nh : {kNhBack, kNhSibling, kNhPort}) {
      h.set_group(nh, {nh}, FPM_NHG_F_VALID);
      h.route4(ip4("10." + std::to_string(nh) + ".0.0"), 16, forward(nh));
      h.route6(ip6("2001:db8:" + std::to_string(nh) + "::"), 48, forward(nh));
    }
  }
  void set_sub_flags(uint16_t flags) {
    fpm_iface sub = make_iface(h_->ingress(), kSubInSlot, flags);
    std::copy(kSubInMac.begin(), kSubInMac.end(), sub.mac);
    h_->set_iface(kSubIn, sub);
  }
  void set_port_flags(uint16_t flags) {
    h_->set_iface(h_->ingress().ifindex, make_iface(h_->ingress(), kIngressSlot, flags));
  }
};

TEST_F(VlanHairpin, SameSubinterfacePuntsWhileItSendsRedirects) {
  set_sub_flags(kRoutesBoth | FPM_IFACE_F_REDIRECTS4);
  expect(tagged4("10.23.0.9").build(), XDP_PASS, FPM_REASON_HAIRPIN, kSubInSlot);
}

TEST_F(VlanHairpin, SameSubinterfaceIsForwardedWithoutRedirects) {
  // The port's switch is not the subinterface's.
  set_port_flags(kRoutesBoth | FPM_IFACE_F_REDIRECTS4);
  set_sub_flags(kRoutesBoth);
  const Bytes in = tagged4("10.23.0.9").build();
  expect(in, XDP_REDIRECT, FPM_REASON_NONE, kSubInSlot);
  const Bytes plain = v4("10.23.0.9").eth(kSubInMac, kClientMac).build();
  EXPECT_EQ(h_->run(in).out, with_tag(expected_forward(plain, vlan_nh(kSubIn, kVidIn)), kVidIn));
}

TEST_F(VlanHairpin, Ipv6SameSubinterfaceAlwaysPunts) {
  set_sub_flags(kRoutesBoth);
  expect(tagged6("2001:db8:23::9").build(), XDP_PASS, FPM_REASON_HAIRPIN, kSubInSlot);
}

TEST_F(VlanHairpin, AnotherSubinterfaceOfThePortIsNoHairpin) {
  set_port_flags(kRoutesBoth | FPM_IFACE_F_REDIRECTS4);
  set_sub_flags(kRoutesBoth | FPM_IFACE_F_REDIRECTS4);
  const Bytes in = tagged4("10.24.0.9").build();
  expect(in, XDP_REDIRECT, FPM_REASON_NONE, kSubInSlot);
  const Bytes out = h_->run(in).out;
  ASSERT_GE(out.size(), 16u);
  EXPECT_EQ((out[14] << 8 | out[15]), kVidIn2) << "leaves with the sibling's tag";
}

TEST_F(VlanHairpin, Ipv6AnotherSubinterfaceOfThePortIsNoHairpin) {
  set_sub_flags(kRoutesBoth | FPM_IFACE_F_REDIRECTS4);
  expect(tagged6("2001:db8:24::9").build(), XDP_REDIRECT, FPM_REASON_NONE, kSubInSlot);
}

TEST_F(VlanHairpin, TaggedInUntaggedOutOfTheSamePortIsNoHairpin) {
  set_port_flags(kRoutesBoth | FPM_IFACE_F_REDIRECTS4);
  set_sub_flags(kRoutesBoth | FPM_IFACE_F_REDIRECTS4);
  expect(tagged4("10.25.0.9").build(), XDP_REDIRECT, FPM_REASON_NONE, kSubInSlot);
}

TEST_F(VlanHairpin, UntaggedInTaggedOutOfTheSamePortIsNoHairpin) {
  set_port_flags(kRoutesBoth | FPM_IFACE_F_REDIRECTS4);
  expect(v4("10.23.0.9").build(), XDP_REDIRECT, FPM_REASON_NONE, kIngressSlot);
}

TEST_F(VlanHairpin, Ipv6UntaggedInTaggedOutOfTheSamePortIsNoHairpin) {
  set_port_flags(kRoutesBoth | FPM_IFACE_F_REDIRECTS4);
  expect(v6("2001:db8:23::9").build(), XDP_REDIRECT, FPM_REASON_NONE, kIngressSlot);
}

TEST_F(VlanHairpin, UntaggedInAndOutOfThePortPunts) {
  set_port_flags(kRoutesBoth | FPM_IFACE_F_REDIRECTS4);
  expect(v4("10.25.0.9").build(), XDP_PASS, FPM_REASON_HAIRPIN, kIngressSlot);
}

}  // namespace
}  // namespace fpm_test
