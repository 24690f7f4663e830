// Private to the RIB: the route table, built for a 1M-route full table at
// millions of updates per second.
//
// std::unordered_map costs a malloc per route and three to four dependent cache
// misses per lookup (bucket, node before the bucket, chain). Here a flat
// open-addressing index of 8-byte slots (linear probing, load <= 1/2, so a
// probe rarely leaves one cache line) points into a pool of entries allocated
// in chunks: a lookup is one miss on the index and one on the entry, an insert
// needs no allocation, and entry addresses stay stable for the intrusive lists.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "rib/rib.hpp"
#include "rib/rib_keys.hpp"

namespace fpm_sink {

struct RouteEntry;

struct Target {
  uint32_t id = 0;
  bool is_inline = false;
  RouteEntry* users = nullptr;  // routes on this target, installed and pending
};

struct RouteEntry {
  RibRoute r;
  Target* target = nullptr;  // null for non-unicast routes and unicast routes without next hops
  RouteEntry* prev = nullptr;
  RouteEntry* next = nullptr;
};

class RouteTable {
 public:
  RouteTable();

  RouteEntry* find(uint32_t table, const Prefix& prefix) const;
  // Returns the entry for (table, prefix) and whether it was created; a new
  // entry is value-initialised except for spec.table / spec.prefix.
  std::pair<RouteEntry*, bool> try_emplace(uint32_t table, const Prefix& prefix);
  void erase(RouteEntry* e);
  void reserve(size_t routes);
  size_t size() const { return size_; }

  template <typename Fn>
  void for_each(Fn&& fn) const {
    for (const Slot& s : slots_) {
      if (s.index != 0) fn(*entry(s.index));
    }
  }

 private:
  struct Slot {
    uint32_t hash = 0;   // low 32 bits of the key hash: probe start and cheap pre-check
    uint32_t index = 0;  // entry index + 1; 0 marks an empty slot
  };
  static constexpr unsigned kChunkBits = 12;

  static uint32_t hash_of(uint32_t table, const Prefix& prefix);
  static bool matches(const RouteEntry& e, uint32_t table, const Prefix& prefix);
  RouteEntry* entry(uint32_t index) const {
    const uint32_t i = index - 1;
    return &chunks_[i >> kChunkBits][i & ((1u << kChunkBits) - 1)];
  }
  // Slot holding (table, prefix), or the empty slot where it would go.
  size_t probe(uint32_t hash, uint32_t table, const Prefix& prefix) const;
  uint32_t allocate_entry();
  void grow(size_t min_slots);

  std::vector<Slot> slots_;
  size_t mask_ = 0;
  size_t size_ = 0;
  std::vector<std::unique_ptr<RouteEntry[]>> chunks_;
  uint32_t next_fresh_ = 0;         // entries ever handed out
  std::vector<uint32_t> free_ids_;  // released entry indexes (+1), reused first
};

}  // namespace fpm_sink
