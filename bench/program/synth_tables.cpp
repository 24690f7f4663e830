#include "synth_tables.hpp"

#include <algorithm>
#include <unordered_set>

namespace fpm_bench {

using fpm_sink::IpAddr;
using fpm_sink::Prefix;

namespace {

struct SplitMix {
  uint64_t s;
  uint64_t next() {
    uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  uint32_t below(uint32_t n) { return static_cast<uint32_t>(next() % n); }
};

uint32_t unicast_v4(SplitMix& r) {
  // 1.0.0.0 - 223.255.255.255, skipping 10/8 and 127/8 (used by the bench itself).
  for (;;) {
    const uint32_t a = static_cast<uint32_t>(r.next());
    const uint32_t first = a >> 24;
    if (first >= 1 && first <= 223 && first != 10 && first != 127) return a;
  }
}

}  // namespace

std::vector<Prefix> synth_v4(size_t n, uint64_t seed) {
  SplitMix r{seed};
  std::unordered_set<uint64_t> seen;
  seen.reserve(n * 2);
  std::vector<Prefix> out;
  out.reserve(n);
  std::vector<uint32_t> slash24s;
  auto add = [&](uint32_t addr, unsigned len) {
    const uint32_t mask = len == 0 ? 0 : ~uint32_t{0} << (32 - len);
    addr &= mask;
    if (!seen.insert(uint64_t{addr} << 8 | len).second) return false;
    out.push_back(*Prefix::make(IpAddr::v4(addr), len));
    if (len == 24) slash24s.push_back(addr);
    return true;
  };
  while (out.size() < n) {
    const uint32_t roll = r.below(100);
    if (roll < 1) {
      add(unicast_v4(r), 8 + r.below(8));
    } else if (roll < 21) {
      add(unicast_v4(r), 16 + r.below(8));
    } else if (roll < 97 || slash24s.empty()) {
      add(unicast_v4(r), 24);
    } else {
      // A cluster of more-specifics inside one existing /24 (one tbl8 group).
      const uint32_t base = slash24s[r.below(static_cast<uint32_t>(slash24s.size()))];
      const unsigned k = 1 + r.below(6);
      for (unsigned i = 0; i < k && out.size() < n; ++i)
        add(base | (r.below(256)), 25 + r.below(8));
    }
  }
  return out;
}

std::vector<Prefix> synth_v6(size_t n, uint64_t seed) {
  SplitMix r{seed ^ 0x6666};
  std::unordered_set<Prefix> seen;
  seen.reserve(n * 2);
  std::vector<Prefix> out;
  out.reserve(n);
  auto add = [&](std::array<uint8_t, 16> b, unsigned len) {
    auto p = *Prefix::make(IpAddr::v6(b), len);
    if (seen.insert(p).second) out.push_back(p);
  };
  while (out.size() < n) {
    // An allocation under 2000::/4 (2001:: .. 2c0f::), then its customers.
    std::array<uint8_t, 16> b{};
    b[0] = static_cast<uint8_t>(0x20 + r.below(13));
    b[1] = static_cast<uint8_t>(r.next());
    b[2] = static_cast<uint8_t>(r.next());
    b[3] = static_cast<uint8_t>(r.next());
    const unsigned alloc_len = 29 + r.below(4);
    add(b, alloc_len);
    const unsigned customers = r.below(24);
    for (unsigned i = 0; i < customers && out.size() < n; ++i) {
      auto c = b;
      c[4] = static_cast<uint8_t>(r.next());
      c[5] = static_cast<uint8_t>(r.next());
      c[6] = static_cast<uint8_t>(r.next());
      c[7] = static_cast<uint8_t>(r.next());
      const uint32_t roll = r.below(100);
      const unsigned len = roll < 60   ? 48
                           : roll < 75 ? 44
                           : roll < 88 ? 40
                           : roll < 95 ? 36
                                       : 56 + r.below(9);
      add(c, len);
    }
  }
  return out;
}

}  // namespace fpm_bench
