#include "rib/route_table.hpp"

#include <cstring>

namespace fpm_sink {

RouteTable::RouteTable() {
  grow(16);
}

uint32_t RouteTable::hash_of(uint32_t table, const Prefix& prefix) {
  return static_cast<uint32_t>(
      rib_detail::RouteKeyHash{}(rib_detail::RouteKey::make(table, prefix)));
}

bool RouteTable::matches(const RouteEntry& e, uint32_t table, const Prefix& prefix) {
  const RouteAdd& s = e.r.spec;
  return s.table == table && s.prefix.len == prefix.len &&
         s.prefix.addr.family == prefix.addr.family &&
         std::memcmp(s.prefix.addr.bytes.data(), prefix.addr.bytes.data(), 16) == 0;
}

size_t RouteTable::probe(uint32_t hash, uint32_t table, const Prefix& prefix) const {
  for (size_t i = hash & mask_;; i = (i + 1) & mask_) {
    const Slot& s = slots_[i];
    if (s.index == 0) return i;
    if (s.hash == hash && matches(*entry(s.index), table, prefix)) return i;
  }
}

RouteEntry* RouteTable::find(uint32_t table, const Prefix& prefix) const {
  const Slot& s = slots_[probe(hash_of(table, prefix), table, prefix)];
  return s.index ? entry(s.index) : nullptr;
}

std::pair<RouteEntry*, bool> RouteTable::try_emplace(uint32_t table, const Prefix& prefix) {
  const uint32_t hash = hash_of(table, prefix);
  size_t i = probe(hash, table, prefix);
  if (slots_[i].index != 0) return {entry(slots_[i].index), false};
  if ((size_ + 1) * 2 > slots_.size()) {
    grow(slots_.size() * 2);
    i = probe(hash, table, prefix);
  }
  const uint32_t index = allocate_entry();
  slots_[i] = Slot{hash, index};
  ++size_;
  RouteEntry* e = entry(index);
  e->r.spec.table = table;
  e->r.spec.prefix = prefix;
  return {e, true};
}

void RouteTable::erase(RouteEntry* e) {
  const uint32_t hash = hash_of(e->r.spec.table, e->r.spec.prefix);
  size_t hole = probe(hash, e->r.spec.table, e->r.spec.prefix);
  const uint32_t index = slots_[hole].index;
  // Backward-shift deletion: no tombstones, so probes stay short under churn.
  for (size_t j = (hole + 1) & mask_; slots_[j].index != 0; j = (j + 1) & mask_) {
    const size_t home = slots_[j].hash & mask_;
    if (((j - home) & mask_) >= ((j - hole) & mask_)) {
      slots_[hole] = slots_[j];
      hole = j;
    }
  }
  slots_[hole] = Slot{};
  --size_;
  *entry(index) = RouteEntry{};  // drops the spec's next-hop vector now
  free_ids_.push_back(index);
}

void RouteTable::reserve(size_t routes) {
  size_t want = 16;
  while (want < routes * 2) want *= 2;
  if (want > slots_.size()) grow(want);
  while ((static_cast<size_t>(chunks_.size()) << kChunkBits) < routes)
    chunks_.push_back(std::make_unique<RouteEntry[]>(size_t{1} << kChunkBits));
}

uint32_t RouteTable::allocate_entry() {
  if (!free_ids_.empty()) {
    const uint32_t index = free_ids_.back();
    free_ids_.pop_back();
    return index;
  }
  if ((static_cast<size_t>(chunks_.size()) << kChunkBits) <= next_fresh_)
    chunks_.push_back(std::make_unique<RouteEntry[]>(size_t{1} << kChunkBits));
  return ++next_fresh_;
}

void RouteTable::grow(size_t min_slots) {
  size_t n = 16;
  while (n < min_slots) n *= 2;
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(n, Slot{});
  mask_ = n - 1;
  for (const Slot& s : old) {
    if (s.index == 0) continue;
    size_t i = s.hash & mask_;
    while (slots_[i].index != 0) i = (i + 1) & mask_;
    slots_[i] = s;
  }
}

}  // namespace fpm_sink
