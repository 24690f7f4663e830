#include "dataplane/resilient_buckets.hpp"

#include <algorithm>
#include <numeric>
#include <unordered_map>

namespace fpm_sink {

std::vector<uint32_t> bucket_quotas(std::span<const BucketMember> members, uint32_t n_buckets) {
  std::vector<uint32_t> quota(members.size(), 0);
  uint64_t total = 0;
  for (const auto& m : members) total += m.weight;
  if (members.empty() || total == 0 || n_buckets == 0) return quota;

  // Largest-remainder apportionment keeps every quota within one bucket of
  // the exact weighted share.
  std::vector<uint64_t> remainder(members.size());
  uint64_t given = 0;
  for (size_t i = 0; i < members.size(); ++i) {
    const uint64_t exact = uint64_t{n_buckets} * members[i].weight;
    quota[i] = static_cast<uint32_t>(exact / total);
    remainder[i] = exact % total;
    given += quota[i];
  }
  std::vector<size_t> order(members.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (remainder[a] != remainder[b]) return remainder[a] > remainder[b];
    return members[a].key < members[b].key;
  });
  for (size_t i = 0; given < n_buckets; i = (i + 1) % order.size(), ++given) ++quota[order[i]];

  // A member with a tiny weight must still carry some traffic, or its weight
  // silently becomes zero: take one bucket from the richest member.
  if (members.size() <= n_buckets) {
    for (size_t i = 0; i < members.size(); ++i) {
      if (quota[i] != 0 || members[i].weight == 0) continue;
      auto richest = std::max_element(quota.begin(), quota.end());
      --*richest;
      quota[i] = 1;
    }
  }
  return quota;
}

std::vector<uint32_t> rebalance_buckets(std::vector<uint32_t>& buckets,
                                        std::span<const BucketMember> members) {
  const auto quota = bucket_quotas(members, static_cast<uint32_t>(buckets.size()));
  std::unordered_map<uint32_t, size_t> slot;  // key -> position in members
  slot.reserve(members.size());
  for (size_t i = 0; i < members.size(); ++i) slot.emplace(members[i].key, i);

  // Count what each member holds; free buckets of departed members.
  std::vector<uint32_t> held(members.size(), 0);
  std::vector<uint32_t> freed;
  for (uint32_t b = 0; b < buckets.size(); ++b) {
    auto it = buckets[b] == kNoMember ? slot.end() : slot.find(buckets[b]);
    if (it == slot.end() || quota[it->second] == 0) {
      freed.push_back(b);
      continue;
    }
    ++held[it->second];
  }
  // Members over quota give up their highest buckets (any choice moves the
  // same number of flows; this one is deterministic).
  for (uint32_t b = static_cast<uint32_t>(buckets.size()); b-- > 0;) {
    auto it = slot.find(buckets[b]);
    if (it == slot.end() || quota[it->second] == 0) continue;
    if (held[it->second] > quota[it->second]) {
      --held[it->second];
      freed.push_back(b);
    }
  }
  std::sort(freed.begin(), freed.end());

  // Hand freed buckets to the member with the largest unmet need, so a
  // member's new buckets are spread rather than clumped.
  std::vector<uint32_t> changed;
  changed.reserve(freed.size());
  for (uint32_t b : freed) {
    size_t best = members.size();
    uint32_t best_need = 0;
    for (size_t i = 0; i < members.size(); ++i) {
      const uint32_t need = quota[i] - std::min(quota[i], held[i]);
      if (need > best_need ||
          (need == best_need && need > 0 && members[i].key < members[best].key)) {
        best = i;
        best_need = need;
      }
    }
    const uint32_t owner = best == members.size() ? kNoMember : members[best].key;
    if (best != members.size()) ++held[best];
    if (buckets[b] != owner) {
      buckets[b] = owner;
      changed.push_back(b);
    }
  }
  return changed;
}

}  // namespace fpm_sink
