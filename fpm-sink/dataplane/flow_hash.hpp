// The ECMP choice the XDP program makes for one flow, computed in userspace so
// `fpm-sinkctl show routes ADDR from SRC proto P sport S dport D` can say which
// group member a flow takes. The hash itself is bpf/lib/hash.h compiled by g++;
// the key words are laid out as fpm_ipv4_hash / fpm_ipv6_hash (bpf/lib/ipv4.h,
// ipv6.h) lay them out, and pick_member follows fpm_resolve / fpm_failover
// (bpf/fpm_xdp.bpf.c). tests/bpf/xdp/flow_hash_test.cpp runs the program on
// frames of many flows and checks every answer here against the one it took.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <span>

#include "common/ip.hpp"
#include "fpm_abi.h"
#include "lib/hash.h"

namespace fpm_sink {

// A non-fragmented packet's flow. src and dst have the same family.
struct FlowKey {
  IpAddr src, dst;
  uint8_t protocol = 0;  // IPPROTO_* (IPv6: the next header right after the fixed header)
  uint16_t sport = 0, dport = 0;
};

// fpm_l4_has_ports(): protocols whose first 4 bytes are the two ports.
constexpr bool flow_has_ports(uint8_t protocol) {
  return protocol == 6 /* TCP */ || protocol == 17 /* UDP */ || protocol == 132 /* SCTP */ ||
         protocol == 136 /* UDP-Lite */;
}

// The words are what the XDP program loads from the packet: network-order
// bytes read as host-order u32, so memcpy gives the same value on any host.
inline uint32_t flow_hash(const FlowKey& flow, uint32_t seed) {
  uint32_t ports = 0;
  if (flow_has_ports(flow.protocol)) {
    const uint8_t wire[4] = {uint8_t(flow.sport >> 8), uint8_t(flow.sport),
                             uint8_t(flow.dport >> 8), uint8_t(flow.dport)};
    std::memcpy(&ports, wire, sizeof ports);
  }
  // Source, destination, ports, protocol: one address word for IPv4, four for IPv6.
  const size_t addr_words = flow.dst.family == Family::V4 ? 1 : 4;
  __u32 k[10];
  std::memcpy(&k[0], flow.src.bytes.data(), addr_words * 4);
  std::memcpy(&k[addr_words], flow.dst.bytes.data(), addr_words * 4);
  k[2 * addr_words] = ports;
  k[2 * addr_words + 1] = flow.protocol;
  return fpm_jhash_words(k, static_cast<int>(2 * addr_words + 2), seed);
}

struct MemberChoice {
  uint32_t bucket = 0;    // hash & (FPM_NHG_BUCKETS - 1)
  uint32_t nexthop = 0;   // fpm_nexthops index the flow is sent to (or punted for)
  bool failover = false;  // the bucket's member had failed: another valid member was taken
};

// `state(index)` returns the fpm_nexthop state (FPM_NH_*) of an entry, or -1
// when there is none. XDP forwards when the chosen entry is FPM_NH_VALID.
template <typename StateFn>
MemberChoice pick_member(std::span<const uint32_t, FPM_NHG_BUCKETS> buckets, uint32_t hash,
                         const StateFn& state) {
  constexpr uint32_t kMask = FPM_NHG_BUCKETS - 1;
  MemberChoice c;
  c.bucket = hash & kMask;
  c.nexthop = buckets[c.bucket];
  if (state(c.nexthop) != FPM_NH_FAILED) return c;
  auto valid = [&](uint32_t nh) { return state(nh) == FPM_NH_VALID; };
  // fpm_failover(): a fixed sequence of probes, then a walk over every bucket.
  for (uint32_t i = 1; i <= 12; i++) {
    uint32_t x = hash + i * 0x9e3779b9u;
    x ^= x >> 16;
    x *= 0x85ebca6bu;
    x ^= x >> 13;
    if (valid(buckets[x & kMask])) return {c.bucket, buckets[x & kMask], true};
  }
  const uint32_t start = hash >> 8;
  uint32_t skip = buckets[c.bucket];
  for (uint32_t i = 0; i < FPM_NHG_BUCKETS; i++) {
    const uint32_t nh = buckets[(start + i) & kMask];
    if (nh == skip) continue;
    if (valid(nh)) return {c.bucket, nh, true};
    skip = nh;
  }
  return c;  // no valid member: the failed one, punted
}

}  // namespace fpm_sink
