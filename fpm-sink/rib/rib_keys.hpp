// Private to the RIB: hash-table keys and hashes for the hot path.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "common/events.hpp"
#include "common/ip.hpp"

namespace fpm_sink::rib_detail {

// murmur3's 64-bit finalizer: every input bit reaches every output bit, which
// matters because std::unordered_map reduces the hash modulo a prime.
inline uint64_t fmix64(uint64_t k) {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdull;
  k ^= k >> 33;
  k *= 0xc4ceb9fe1a85ec53ull;
  k ^= k >> 33;
  return k;
}

// (table, prefix) packed without padding so equality is one memcmp and the hash
// reads three words instead of PrefixHash's byte loop.
struct RouteKey {
  uint32_t table = 0;
  uint8_t family = 0;
  uint8_t len = 0;
  uint16_t zero = 0;
  std::array<uint8_t, 16> addr{};

  static RouteKey make(uint32_t table, const Prefix& p) {
    RouteKey k;
    k.table = table;
    k.family = static_cast<uint8_t>(p.addr.family);
    k.len = p.len;
    k.addr = p.addr.bytes;
    return k;
  }
  bool operator==(const RouteKey& o) const { return std::memcmp(this, &o, sizeof *this) == 0; }
};
static_assert(sizeof(RouteKey) == 24);

struct RouteKeyHash {
  size_t operator()(const RouteKey& k) const noexcept {
    uint64_t w[3];
    std::memcpy(w, &k, sizeof w);
    return static_cast<size_t>(fmix64(w[0] * 0x9e3779b97f4a7c15ull ^ fmix64(w[1] ^ (w[2] * 31))));
  }
};

// Interned inline next-hop sets are looked up by span so that a RouteAdd whose
// next hops are already sorted (the common single-path case) allocates nothing.
using NexthopSet = std::vector<WeightedNextHop>;
using NexthopSpan = std::span<const WeightedNextHop>;

struct NexthopSetHash {
  using is_transparent = void;
  size_t operator()(NexthopSpan s) const noexcept {
    uint64_t h = s.size();
    for (const auto& w : s) {
      uint64_t a = 0, b = 0;
      if (w.nh.gateway) {
        std::memcpy(&a, w.nh.gateway->bytes.data(), 8);
        std::memcpy(&b, w.nh.gateway->bytes.data() + 8, 8);
        a ^= static_cast<uint64_t>(w.nh.gateway->family) << 56;
      }
      const uint64_t flags = uint64_t{w.nh.ifindex} | uint64_t{w.nh.onlink} << 32 |
                             uint64_t{w.nh.blackhole} << 33 | uint64_t{w.weight} << 40;
      h = fmix64(h ^ a ^ fmix64(b ^ fmix64(flags)));
    }
    return static_cast<size_t>(h);
  }
  size_t operator()(const NexthopSet& s) const noexcept { return (*this)(NexthopSpan{s}); }
};

struct NexthopSetEq {
  using is_transparent = void;
  static bool eq(NexthopSpan a, NexthopSpan b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
  }
  bool operator()(NexthopSpan a, NexthopSpan b) const { return eq(a, b); }
  bool operator()(const NexthopSet& a, NexthopSpan b) const { return eq(a, b); }
  bool operator()(NexthopSpan a, const NexthopSet& b) const { return eq(a, b); }
  bool operator()(const NexthopSet& a, const NexthopSet& b) const { return eq(a, b); }
};

}  // namespace fpm_sink::rib_detail
