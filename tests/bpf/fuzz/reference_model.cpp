#include "reference_model.hpp"
#include <algorithm>

namespace fpm_test {
namespace {

constexpr size_t kEthLen = 14;
constexpr size_t kMinEthL3 = 46;  // L3 bytes of a 60-byte frame (no FCS)

uint16_t be16(const uint8_t* p) {
  return uint16_t(p[0] << 8 | p[1]);
}
uint32_t be32(const uint8_t* p) {
  return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
}

Ip6 mask6(const Ip6& a, unsigned len) {
  Ip6 m{};
  for (unsigned i = 0; i < 16; i++) {
    unsigned bits = len > i * 8 ? std::min(8u, len - i * 8) : 0;
    m[i] = bits ? uint8_t(a[i] & uint8_t(0xff00 >> bits)) : 0;
  }
  return m;
}

uint32_t mask4(uint32_t a, unsigned len) {
  return len ? a & ~((1ull << (32 - len)) - 1) : 0;
}

RefDecision punt(uint32_t reason) {
  RefDecision d;
  d.reason = reason;
  return d;
}

// RFC 1122 / 4291 addresses a router must not forward, and the program's
// link-local rule (RFC 3927 2.7, RFC 4291 2.5.6).
uint32_t class4(uint32_t s, uint32_t d) {
  auto multicast = [](uint32_t a) { return (a >> 28) == 0xe || a == 0xffffffffu; };
  if (multicast(d) || multicast(s)) return FPM_REASON_MULTICAST;
  if ((d >> 16) == 0xa9fe || (s >> 16) == 0xa9fe) return FPM_REASON_LINK_LOCAL;
  if ((d >> 24) == 0 || (d >> 24) == 127 || (s >> 24) == 127) return FPM_REASON_MARTIAN;
  return FPM_REASON_NONE;
}

uint32_t class6(const uint8_t* s, const uint8_t* d) {
  if (d[0] == 0xff || s[0] == 0xff) return FPM_REASON_MULTICAST;
  auto link_local = [](const uint8_t* a) { return a[0] == 0xfe && (a[1] & 0xc0) == 0x80; };
  if (link_local(d) || link_local(s)) return FPM_REASON_LINK_LOCAL;
  auto zero = [](const uint8_t* a, size_t n) {
    for (size_t i = 0; i < n; i++)
      if (a[i]) return false;
    return true;
  };
  if (zero(d, 12)) return FPM_REASON_MARTIAN;                // ::/96
  if (zero(s, 15) && s[15] == 1) return FPM_REASON_MARTIAN;  // ::1
  return FPM_REASON_NONE;
}

}  // namespace

void ReferenceModel::route4(const Ip4& prefix, unsigned len, uint32_t action) {
  routes4_[len][mask4(be32(prefix.data()), len)] = action;
}

void ReferenceModel::route6(const Ip6& prefix, unsigned len, uint32_t action) {
  routes6_[len][mask6(prefix, len)] = action;
}

const RefNexthop* ReferenceModel::nexthop(uint32_t index) const {
  auto it = nexthops_.find(index);
  return it == nexthops_.end() ? nullptr : &it->second;
}

uint32_t ReferenceModel::lookup4(uint32_t addr) const {
  for (int len = 32; len >= 0; len--) {
    auto it = routes4_[len].find(mask4(addr, len));
    if (it != routes4_[len].end()) return it->second;
  }
  return 0;
}

uint32_t ReferenceModel::lookup6(const uint8_t* addr) const {
  Ip6 a;
  std::copy(addr, addr + 16, a.begin());
  for (int len = 128; len >= 0; len--) {
    if (routes6_[len].empty()) continue;
    auto it = routes6_[len].find(mask6(a, len));
    if (it != routes6_[len].end()) return it->second;
  }
  return 0;
}

RefDecision ReferenceModel::resolve(uint32_t action, uint32_t l3_len, const uint32_t* host,
                                    uint32_t hairpin_dev) const {
  const uint32_t kind = action >> FPM_ACT_KIND_SHIFT & FPM_ACT_KIND_MASK;
  const uint32_t arg = action & FPM_ACT_ARG_MASK;
  if (kind == FPM_ACT_DROP) {
    RefDecision d = punt(FPM_REASON_BLACKHOLE);
    d.verdict = FPM_VERDICT_DROP;
    return d;
  }
  // A connected subnet's resolved host is forwarded like a one-member group.
  if (kind == FPM_ACT_PUNT && arg == FPM_REASON_CONNECTED && host)
    return through_members({*host}, l3_len, hairpin_dev);
  if (kind == FPM_ACT_PUNT)
    return punt(arg < FPM_REASON_MAX ? arg : uint32_t{FPM_REASON_OFFLOAD_FAILED});
  if (kind != FPM_ACT_FORWARD) return punt(FPM_REASON_NO_ROUTE);

  auto g = groups_.find(arg);
  if (g == groups_.end() || !g->second.valid) return punt(FPM_REASON_NO_GROUP);
  return through_members(g->second.members, l3_len, hairpin_dev);
}

RefDecision ReferenceModel::through_members(const std::vector<uint32_t>& members, uint32_t l3_len,
                                            uint32_t hairpin_dev) const {
  // Each member on its own: the packet either leaves through a usable one
  // or punts for the reason of the member it hashed to (a failed member
  // first fails over to the others, so it only punts when none is usable).
  RefDecision d;
  d.l3_len = l3_len;
  std::optional<uint32_t> punt_reason;
  auto add_punt = [&](uint32_t r) {
    if (punt_reason && *punt_reason != r)
      punt_reason = FPM_REASON_MAX;  // ambiguous
    else
      punt_reason = r;
  };
  const bool any_valid = std::ranges::any_of(members, [&](uint32_t m) {
    const RefNexthop* nh = nexthop(m);
    return nh && nh->state == FPM_NH_VALID;
  });
  for (uint32_t m : members) {
    const RefNexthop* nh = nexthop(m);
    if (!nh || nh->state == FPM_NH_FAILED) {
      // The failover walks every bucket, so a failed member only punts when
      // no member of the group is valid.
      if (!any_valid) add_punt(FPM_REASON_NH_FAILED);
      continue;
    }
    if (nh->state == FPM_NH_UNRESOLVED) {
      add_punt(FPM_REASON_UNRESOLVED);
      continue;
    }
    if (nh->state != FPM_NH_VALID) {
      add_punt(FPM_REASON_NH_FAILED);
      continue;
    }
    if (l3_len > nh->mtu) {
      add_punt(FPM_REASON_MTU);
      continue;
    }
    // Back out of the device it came in by: the kernel sends the redirect.
    if (hairpin_dev && nh->ifindex == hairpin_dev) {
      add_punt(FPM_REASON_HAIRPIN);
      continue;
    }
    if (!tx_ports_.count(nh->ifindex)) {
      add_punt(FPM_REASON_NO_TX_PORT);
      continue;
    }
    d.members.push_back(m);
  }
  if (d.members.empty()) {
    d.reason = punt_reason.value_or(FPM_REASON_NH_FAILED);
    return d;
  }
  d.verdict = FPM_VERDICT_REDIRECT;
  d.group_punt = punt_reason;
  return d;
}

// The checks in the order the program makes them; the first that fails
// decides. New checks go in this list at the same place as in the program.
RefDecision ReferenceModel::decide(const Bytes& f, uint32_t ingress_ifindex) const {
  // 1. The ingress port must be one fpm-sink configured.
  auto port = ifaces_.find(ingress_ifindex);
  if (port == ifaces_.end()) return punt(FPM_REASON_NO_IFACE);
  const RefIface& iface = port->second;
  // A port enslaved to a VRF, bridge or bond is not routed in the main table.
  if (iface.flags & FPM_IFACE_F_ENSLAVED) return punt(FPM_REASON_ENSLAVED);
  // Tags stripped by the NIC: the arrival device is unknown.
  if (iface.flags & FPM_IFACE_F_TAGS_STRIPPED) return punt(FPM_REASON_TAGS_STRIPPED);

  // 2. Ethernet: walk up to two VLAN tags, then IP unicast only.
  if (f.size() < kEthLen) return punt(FPM_REASON_MALFORMED);
  uint16_t proto = be16(&f[12]);
  size_t off = kEthLen;
  int tags = 0;
  for (int i = 0; i < 2 && (proto == 0x8100 || proto == 0x88a8); i++) {
    if (off + 4 > f.size()) return punt(FPM_REASON_MALFORMED);
    proto = be16(&f[off + 2]);
    off += 4;
    tags++;
  }
  // One 802.1Q tag with a real VID would enter a subinterface (lib/vlan.h);
  // the model has none, so it is an unknown VID. Other tagging: the kernel's.
  if (tags) {
    const uint16_t vid = be16(&f[kEthLen]) & 0x0fff;
    if (tags != 1 || be16(&f[12]) != 0x8100 || vid == 0 || vid == 0x0fff)
      return punt(FPM_REASON_VLAN);
    return punt(FPM_REASON_VLAN_UNKNOWN);
  }
  if (proto != 0x0800 && proto != 0x86dd) return punt(FPM_REASON_NON_IP);
  if (f[0] & 1) return punt(FPM_REASON_MULTICAST);
  // Unicast to another host (a promiscuous port) is not ours to route.
  if (!std::equal(iface.mac.begin(), iface.mac.end(), f.begin()))
    return punt(FPM_REASON_OTHER_HOST);

  // 3. The family must be enabled on the port.
  const bool v4 = proto == 0x0800;
  if (!(iface.flags & (v4 ? FPM_IFACE_F_V4 : FPM_IFACE_F_V6))) return punt(FPM_REASON_NO_IFACE);
  // ... and the kernel's forwarding switch for it on (else the kernel would not route it).
  if (!(iface.flags & (v4 ? FPM_IFACE_F_FWD4 : FPM_IFACE_F_FWD6)))
    return punt(FPM_REASON_FWD_DISABLED);
  // ... and no policy routing rule the fast path does not apply.
  if (iface.flags & (v4 ? FPM_IFACE_F_RULES4 : FPM_IFACE_F_RULES6))
    return punt(FPM_REASON_POLICY_RULES);
  // Hairpins punt while the kernel would send a redirect for them: IPv4 by the
  // send_redirects flag, IPv6 always (no switch). No subinterfaces here: the
  // device is the port.
  const uint32_t hairpin_dev = !v4 || (iface.flags & FPM_IFACE_F_REDIRECTS4) ? ingress_ifindex : 0;

  const uint8_t* l3 = &f[kEthLen];
  const size_t avail = f.size() - kEthLen;
  uint32_t l3_len;
  if (v4) {
    // 4a. IPv4 header: parseable, lengths, no trailer, no options, checksum.
    if (avail < 20) return punt(FPM_REASON_MALFORMED);
    const unsigned version = l3[0] >> 4, hlen = (l3[0] & 0xf) * 4u;
    if (version != 4 || hlen < 20) return punt(FPM_REASON_MALFORMED);
    l3_len = be16(&l3[2]);
    if (l3_len < hlen || l3_len > avail) return punt(FPM_REASON_MALFORMED);
    if (avail > l3_len && avail > kMinEthL3) return punt(FPM_REASON_MALFORMED);
    if (hlen != 20) return punt(FPM_REASON_IP_OPTIONS);
    if (ones_sum(l3, 20) != 0xffff) return punt(FPM_REASON_BAD_CSUM);
    // 5a. Addresses, local delivery, TTL, table.
    const uint32_t src = be32(&l3[12]), dst = be32(&l3[16]);
    if (uint32_t r = class4(src, dst)) return punt(r);
    Ip4 d{l3[16], l3[17], l3[18], l3[19]};
    if (local4_.count(d)) return punt(FPM_REASON_LOCAL);
    if (l3[8] <= 1) return punt(FPM_REASON_TTL);
    // The fuzzed FIB has no VRF tries (lib/vrf.h): any other slot has no table.
    if (iface.table_slot != FPM_TABLE_SLOT_MAIN) return punt(FPM_REASON_NO_TABLE);
    // 6a. Route and next hop.
    auto host = hosts4_.find({iface.table_slot, d});
    return resolve(lookup4(dst), l3_len, host == hosts4_.end() ? nullptr : &host->second,
                   hairpin_dev);
  }
  // 4b. IPv6 fixed header: parseable, length, no hop-by-hop, no trailer.
  if (avail < 40) return punt(FPM_REASON_MALFORMED);
  if ((l3[0] >> 4) != 6) return punt(FPM_REASON_MALFORMED);
  l3_len = 40 + be16(&l3[4]);
  if (l3_len > avail) return punt(FPM_REASON_MALFORMED);
  if (l3[6] == 0) return punt(FPM_REASON_IPV6_HBH);
  if (avail > l3_len && avail > kMinEthL3) return punt(FPM_REASON_MALFORMED);
  // 5b. Addresses, local delivery, hop limit, table.
  if (uint32_t r = class6(&l3[8], &l3[24])) return punt(r);
  Ip6 d;
  std::copy(&l3[24], &l3[40], d.begin());
  if (local6_.count(d)) return punt(FPM_REASON_LOCAL);
  if (l3[7] <= 1) return punt(FPM_REASON_TTL);
  // The fuzzed FIB has no VRF tries (lib/vrf.h): any other slot has no table.
  if (iface.table_slot != FPM_TABLE_SLOT_MAIN) return punt(FPM_REASON_NO_TABLE);
  // 6b. Route and next hop.
  auto host = hosts6_.find({iface.table_slot, d});
  return resolve(lookup6(&l3[24]), l3_len, host == hosts6_.end() ? nullptr : &host->second,
                 hairpin_dev);
}

}  // namespace fpm_test
