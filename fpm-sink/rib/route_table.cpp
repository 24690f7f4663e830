#include "rib/route_table.hpp"

#include <cstring>

#include "common/big_alloc.hpp"

namespace fpm_sink {

RouteTable::RouteTable() {
  grow(16);
}

RouteTable::~RouteTable() {
  for (uint32_t i = 0; i < next_fresh_; ++i) entry(i + 1)->~RouteEntry();
  for (size_t c = 0; c < nchunks_; ++c) big_free(chunks_[c], chunk_entries(c) * sizeof(RouteEntry));
  big_free(slots_, (mask_ + 1) * sizeof(Slot));
}

bool RouteTable::matches(const RouteEntry& e, uint32_t table, const Prefix& prefix) {
  const RouteSpec& s = e.r.spec;
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

RouteTable::Emplaced RouteTable::try_emplace(uint32_t table, const Prefix& prefix) {
  const uint32_t hash = hash_of(table, prefix);
  size_t i = probe(hash, table, prefix);
  if (slots_[i].index != 0) return {entry(slots_[i].index), false, slots_[i].index};
  if (over_load(size_ + 1, mask_ + 1)) {
    grow((mask_ + 1) * 2);
    i = probe(hash, table, prefix);
  }
  const uint32_t index = allocate_entry();
  slots_[i] = Slot{hash, index};
  ++size_;
  RouteEntry* e = entry(index);
  e->r.spec.table = table;
  e->r.spec.prefix = prefix;
  return {e, true, index};
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
  live_[(index - 1) / 64] &= ~(uint64_t{1} << ((index - 1) % 64));
  free_ids_.push_back(index);
}

void RouteTable::reserve(size_t routes) {
  size_t want = mask_ + 1;
  while (over_load(routes, want)) want *= 2;
  if (want > mask_ + 1) grow(want);
  while (nchunks_ < kMaxChunks && chunk_start(nchunks_) < routes) add_chunk();
}

void RouteTable::add_chunk() {
  const size_t c = nchunks_;
  chunks_[c] = static_cast<RouteEntry*>(big_alloc(chunk_entries(c) * sizeof(RouteEntry)));
  ++nchunks_;
}

uint32_t RouteTable::allocate_entry() {
  if (!free_ids_.empty()) {
    const uint32_t index = free_ids_.back();
    free_ids_.pop_back();
    live_[(index - 1) / 64] |= uint64_t{1} << ((index - 1) % 64);
    return index;
  }
  if (next_fresh_ == UINT32_MAX) throw std::bad_alloc();
  // Entries are constructed when first handed out, so a chunk's pages are
  // touched once, in order, by the routes that use them.
  if (chunk_start(nchunks_) <= next_fresh_) add_chunk();
  const uint32_t index = ++next_fresh_;
  new (entry(index)) RouteEntry{};
  if (live_.size() * 64 < next_fresh_) live_.push_back(0);
  live_[(index - 1) / 64] |= uint64_t{1} << ((index - 1) % 64);
  return index;
}

void RouteTable::grow(size_t min_slots) {
  size_t n = 16;
  while (n < min_slots) n *= 2;
  Slot* old = slots_;
  const size_t old_n = slots_ ? mask_ + 1 : 0;
  slots_ = static_cast<Slot*>(big_alloc(n * sizeof(Slot)));  // zeroed: all empty
  mask_ = n - 1;
  // In slot order, doubling sends each key to i or i + old_n: two sequential streams.
  for (size_t j = 0; j < old_n; ++j) {
    const Slot s = old[j];
    if (s.index == 0) continue;
    size_t i = s.hash & mask_;
    while (slots_[i].index != 0) i = (i + 1) & mask_;
    slots_[i] = s;
  }
  big_free(old, old_n * sizeof(Slot));
}

}  // namespace fpm_sink
