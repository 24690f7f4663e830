// Produces the ingest benchmark's prefix lists, one "address/len" per line:
//   prefix_tool split4 asn-ipv4.csv   ranges (start,end,...) -> minimal CIDR cover
//   prefix_tool split6 asn-ipv6.csv
//   prefix_tool synth4 COUNT SEED     Internet-like IPv4 table with nested more-specifics
// C++ rather than python: the split runs over ~1M ranges on every cold bench run.
#include <arpa/inet.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <random>
#include <string>
#include <unordered_set>
#include <vector>

namespace {

using u128 = unsigned __int128;

struct Cidr {
  u128 addr = 0;  // IPv4 uses the low 32 bits
  unsigned len = 0;
  bool operator<(const Cidr& o) const { return addr != o.addr ? addr < o.addr : len < o.len; }
  bool operator==(const Cidr& o) const = default;
};

unsigned trailing_zeros(u128 v, unsigned width) {
  if (v == 0) return width;
  const auto lo = static_cast<uint64_t>(v);
  const unsigned n =
      lo ? __builtin_ctzll(lo) : 64 + __builtin_ctzll(static_cast<uint64_t>(v >> 64));
  return std::min(n, width);
}

// Greedy split: at each step take the largest aligned block that starts at `start`
// and does not pass `end`. Yields the minimal set of CIDRs covering [start, end].
u128 block_last(u128 start, unsigned host_bits) {
  // start is aligned on 2^host_bits, so the sum cannot wrap.
  return start + (host_bits >= 128 ? ~u128{0} : (u128{1} << host_bits) - 1);
}

void split_range(u128 start, u128 end, unsigned width, std::vector<Cidr>& out) {
  for (;;) {
    unsigned host_bits = trailing_zeros(start, width);
    while (host_bits > 0 && block_last(start, host_bits) > end) --host_bits;
    out.push_back({start, width - host_bits});
    const u128 last = block_last(start, host_bits);
    if (last >= end) return;  // also stops before start would wrap past the top
    start = last + 1;
  }
}

bool parse_addr(const std::string& text, bool v6, u128& out) {
  uint8_t b[16];
  if (inet_pton(v6 ? AF_INET6 : AF_INET, text.c_str(), b) != 1) return false;
  out = 0;
  for (size_t i = 0; i < (v6 ? 16u : 4u); ++i) out = (out << 8) | b[i];
  return true;
}

std::string format(const Cidr& c, bool v6) {
  uint8_t b[16] = {};
  const size_t n = v6 ? 16 : 4;
  u128 a = c.addr;
  for (size_t i = n; i-- > 0;) {
    b[i] = static_cast<uint8_t>(a & 0xff);
    a >>= 8;
  }
  char text[INET6_ADDRSTRLEN];
  inet_ntop(v6 ? AF_INET6 : AF_INET, b, text, sizeof text);
  return std::string(text) + "/" + std::to_string(c.len);
}

int split(const char* path, bool v6) {
  std::ifstream in(path);
  if (!in) {
    std::cerr << "prefix_tool: cannot open " << path << "\n";
    return 1;
  }
  const unsigned width = v6 ? 128 : 32;
  std::vector<Cidr> out;
  std::string line;
  size_t bad = 0;
  while (std::getline(in, line)) {
    const size_t c1 = line.find(',');
    const size_t c2 = c1 == std::string::npos ? c1 : line.find(',', c1 + 1);
    u128 start, end;
    if (c2 == std::string::npos || !parse_addr(line.substr(0, c1), v6, start) ||
        !parse_addr(line.substr(c1 + 1, c2 - c1 - 1), v6, end) || end < start) {
      ++bad;
      continue;
    }
    split_range(start, end, width, out);
  }
  // Overlapping source ranges would yield duplicates; the RIB counts each prefix once.
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  std::string buf;
  for (const Cidr& c : out) buf += format(c, v6) + "\n";
  std::fwrite(buf.data(), 1, buf.size(), stdout);
  std::cerr << "prefix_tool: " << out.size() << " prefixes, " << bad << " unparsable lines\n";
  return 0;
}

// Shape: ~40% of prefixes are fresh aggregates (/8../24, weighted towards /16../24),
// the rest are more-specifics carved out of an earlier prefix, 1..8 bits longer and
// at most /24 (/25+ appear only rarely, as in the DFZ). The raw mt19937_64 stream
// is used (no std distributions) so a seed gives the same table on every libstdc++.
int synth4(size_t count, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::unordered_set<uint64_t> seen;
  std::vector<Cidr> out;
  seen.reserve(count * 2);
  out.reserve(count);
  auto mask = [](unsigned len) { return len == 0 ? 0u : ~0u << (32 - len); };
  while (out.size() < count) {
    Cidr c;
    const uint64_t r = rng();
    if (out.empty() || r % 10 < 4) {
      static constexpr unsigned kLens[] = {8,  12, 14, 16, 16, 18, 19, 20, 20, 21,
                                           22, 22, 22, 23, 23, 24, 24, 24, 24, 24};
      c.len = kLens[(r >> 8) % std::size(kLens)];
      uint32_t a = static_cast<uint32_t>(rng());
      a = (a % (223u << 24)) + (1u << 24);  // 1.0.0.0 .. 223.255.255.255: unicast only
      c.addr = a & mask(c.len);
    } else {
      const Cidr& parent = out[(r >> 8) % out.size()];
      const unsigned max_len = (r >> 56) % 50 == 0 ? 28 : 24;  // ~2% go past /24
      if (parent.len >= max_len) continue;
      const unsigned extra = 1 + static_cast<unsigned>((r >> 40) % 8);
      c.len = std::min(parent.len + extra, max_len);
      const uint32_t host = static_cast<uint32_t>(rng()) & ~mask(parent.len);
      c.addr = (static_cast<uint32_t>(parent.addr) | host) & mask(c.len);
    }
    if (seen.insert((static_cast<uint64_t>(c.addr) << 8) | c.len).second) out.push_back(c);
  }
  std::string buf;
  for (const Cidr& c : out) buf += format(c, false) + "\n";
  std::fwrite(buf.data(), 1, buf.size(), stdout);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string cmd = argc > 1 ? argv[1] : "";
  if (cmd == "split4" && argc == 3) return split(argv[2], false);
  if (cmd == "split6" && argc == 3) return split(argv[2], true);
  if (cmd == "synth4" && argc == 4) return synth4(std::stoull(argv[2]), std::stoull(argv[3]));
  std::cerr << "usage: prefix_tool split4|split6 FILE.csv | synth4 COUNT SEED\n";
  return 2;
}
