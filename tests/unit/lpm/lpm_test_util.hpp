// Random tables with nested prefixes and addresses for the LPM tests (unit and
// bpf tiers). Deterministic: every generator takes the seed it uses.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "common/ip.hpp"
#include "dataplane/lpm/lpm_table.hpp"
#include "dataplane/lpm/reference_lpm.hpp"

namespace fpm_sink::lpm::testing {

// Heap memory standing in for the mmap'ed BPF maps.
struct Lpm4Memory {
  explicit Lpm4Memory(uint32_t groups)
      : tbl24(size_t(LPM4_TBL24_ROWS) * LPM_ROW_ENTRIES), tbl8(size_t(groups) * LPM_ROW_ENTRIES) {}
  std::vector<uint32_t> tbl24, tbl8;
};
struct Lpm6Memory {
  explicit Lpm6Memory(uint32_t nodes)
      : root(size_t(LPM6_ROOT_ROWS) * LPM_ROW_ENTRIES), nodes(size_t(nodes) * LPM_ROW_ENTRIES) {}
  std::vector<uint32_t> root, nodes;
};

inline IpAddr random_addr(Family f, std::mt19937_64& rng) {
  IpAddr a;
  a.family = f;
  for (size_t i = 0; i < address_bytes(f); ++i) a.bytes[i] = static_cast<uint8_t>(rng());
  return a;
}

// An address inside p: p's bits, random host bits.
inline IpAddr random_inside(const Prefix& p, std::mt19937_64& rng) {
  IpAddr a = random_addr(p.family(), rng);
  for (unsigned bit = 0; bit < p.len; ++bit) {
    const uint8_t m = static_cast<uint8_t>(0x80u >> (bit % 8));
    a.bytes[bit / 8] = static_cast<uint8_t>((a.bytes[bit / 8] & ~m) | (p.addr.bytes[bit / 8] & m));
  }
  return a;
}

inline uint32_t random_action(std::mt19937_64& rng) {
  // Mostly FORWARD to many groups, some DROP / PUNT; never 0 so misses show.
  const uint32_t r = static_cast<uint32_t>(rng());
  if (r % 16 == 0) return fpm_act_make(FPM_ACT_DROP, 0);
  if (r % 16 == 1) return fpm_act_make(FPM_ACT_PUNT, FPM_REASON_CONNECTED);
  return fpm_act_make(FPM_ACT_FORWARD, 1 + (r >> 8) % 100000);
}

// Chains of nested prefixes: for each of `chains` random addresses, prefixes
// of random lengths (every length 0..max appears across the table).
inline std::vector<LpmRoute> nested_table(Family f, size_t chains, std::mt19937_64& rng) {
  std::vector<LpmRoute> out;
  const unsigned maxlen = max_prefix_len(f);
  for (size_t c = 0; c < chains; ++c) {
    const IpAddr base = random_addr(f, rng);
    for (unsigned len = 0; len <= maxlen; ++len) {
      // Denser around the lengths that matter for the data structure.
      // Short prefixes cover millions of entries each: keep them rare.
      const unsigned keep = len < 8 ? 40 : (len % 8 == 0 || len % 8 == 1 || len % 8 == 7) ? 3 : 6;
      if (rng() % keep != 0) continue;
      // Siblings too: perturb bits just above len sometimes.
      IpAddr a = base;
      if (len > 0 && rng() % 3 == 0)
        a.bytes[(len - 1) / 8] ^= static_cast<uint8_t>(0x80u >> ((len - 1) % 8));
      out.push_back({*Prefix::make(a, len), random_action(rng)});
    }
  }
  return out;
}

// n addresses: half inside one of the prefixes, half anywhere.
inline std::vector<IpAddr> probe_addresses(Family f, const std::vector<LpmRoute>& routes, size_t n,
                                           std::mt19937_64& rng) {
  std::vector<IpAddr> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    if (i % 2 == 0 && !routes.empty())
      out.push_back(random_inside(routes[rng() % routes.size()].prefix, rng));
    else
      out.push_back(random_addr(f, rng));
  }
  return out;
}

}  // namespace fpm_sink::lpm::testing
