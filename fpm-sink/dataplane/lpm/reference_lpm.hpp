// The obviously-correct longest-prefix match the tests compare the real tables
// against: one hash map per prefix length, a lookup masks the address to each
// length from the longest down. Slow on purpose; never used on the data path.
#pragma once

#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

#include "common/ip.hpp"

namespace fpm_sink::lpm {

class ReferenceLpm {
 public:
  explicit ReferenceLpm(Family f) : family_(f), by_len_(max_prefix_len(f) + 1) {}

  void insert(const Prefix& p, uint32_t action) { by_len_.at(p.len)[p] = action; }
  bool remove(const Prefix& p) { return by_len_.at(p.len).erase(p) == 1; }
  std::optional<uint32_t> find(const Prefix& p) const {
    const auto& m = by_len_.at(p.len);
    auto it = m.find(p);
    return it == m.end() ? std::nullopt : std::optional<uint32_t>(it->second);
  }

  // 0 = no route, as in the BPF tables.
  uint32_t lookup(const IpAddr& a) const {
    for (unsigned len = max_prefix_len(family_) + 1; len-- > 0;) {
      const auto& m = by_len_[len];
      if (m.empty()) continue;
      auto it = m.find(*Prefix::make(a, len));
      if (it != m.end()) return it->second;
    }
    return 0;
  }

  size_t size() const {
    size_t n = 0;
    for (const auto& m : by_len_) n += m.size();
    return n;
  }

 private:
  Family family_;
  std::vector<std::unordered_map<Prefix, uint32_t>> by_len_;
};

}  // namespace fpm_sink::lpm
