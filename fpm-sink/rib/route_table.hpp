// Private to the RIB: the route table, built for a 1M-route full table at
// millions of updates per second.
//
// std::unordered_map costs a malloc per route and three to four dependent cache
// misses per lookup (bucket, node before the bucket, chain). Here a flat
// open-addressing index of 8-byte slots (linear probing, load <= 0.7, so a
// probe rarely leaves one cache line) points into a pool of entries: a lookup
// is one miss on the index and one on the entry, an insert needs no
// allocation, and entry addresses stay stable for the intrusive lists.
//
// Memory is the cost of a full-table load, not hashing: on a VM a 4 KiB page
// fault can cost ~15 us, i.e. more than everything else a route costs. So the
// index and the pool live in large blocks from mmap with MADV_HUGEPAGE (one
// fault per 2 MiB), the pool grows in geometrically larger chunks whose entries
// are constructed only when first handed out (no up-front zeroing pass), and
// the index can be pre-sized (reserve) so a full table never rehashes.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "rib/rib.hpp"
#include "rib/rib_keys.hpp"

namespace fpm_sink {

struct RouteEntry;

struct Target {
  uint32_t id = 0;
  bool is_inline = false;
  uint32_t users = 0;  // first route on this target (table index), installed and pending
};

// One cache line per route. The per-target route lists link table indexes
// (RouteTable::at), 0 ending a list.
struct alignas(64) RouteEntry {
  RibRoute r;
  Target* target = nullptr;  // null for non-unicast routes and unicast routes without next hops
  uint32_t prev = 0;
  uint32_t next = 0;
};
static_assert(sizeof(RouteEntry) == 64, "a route entry is one cache line");

class RouteTable {
 public:
  RouteTable();
  ~RouteTable();
  RouteTable(const RouteTable&) = delete;
  RouteTable& operator=(const RouteTable&) = delete;

  struct Emplaced {
    RouteEntry* entry;
    bool inserted;
    uint32_t index;  // stable while the entry lives; at(index) == entry
  };

  RouteEntry* find(uint32_t table, const Prefix& prefix) const;
  // Returns the entry for (table, prefix) and whether it was created; a new
  // entry is value-initialised except for spec.table / spec.prefix.
  Emplaced try_emplace(uint32_t table, const Prefix& prefix);
  RouteEntry* at(uint32_t index) const { return entry(index); }
  // Storage positions run 1..index_end()-1. A live entry keeps its index, which
  // is what lets a walk over indexes be resumed between other changes.
  uint32_t index_end() const { return next_fresh_ + 1; }
  // The entry at `index` if a route lives there, else null (freed or never used).
  const RouteEntry* live_at(uint32_t index) const {
    if (index == 0 || index > next_fresh_) return nullptr;
    return (live_[(index - 1) / 64] >> ((index - 1) % 64) & 1) ? entry(index) : nullptr;
  }
  void erase(RouteEntry* e);
  // Room for `routes` entries without growing the index or the pool's chunk list
  // (address space only: pages are touched as entries are used).
  void reserve(size_t routes);
  size_t size() const { return size_; }
  // Starts loading the index slot a lookup of (table, prefix) reads first, so a
  // caller that knows its next keys can overlap the cache misses.
  void prefetch(uint32_t table, const Prefix& prefix) const {
    __builtin_prefetch(&slots_[hash_of(table, prefix) & mask_]);
  }

  template <typename Fn>
  void for_each(Fn&& fn) const {
    for (size_t i = 0; i <= mask_; ++i) {
      if (slots_[i].index != 0) fn(*entry(slots_[i].index));
    }
  }

 private:
  struct Slot {
    uint32_t hash = 0;   // low 32 bits of the key hash: probe start and cheap pre-check
    uint32_t index = 0;  // entry index + 1; 0 marks an empty slot
  };
  // Chunk c holds kFirstChunk << c entries, so 32 chunks cover every uint32 index.
  static constexpr unsigned kFirstChunkBits = 8;
  static constexpr size_t kMaxChunks = 33 - kFirstChunkBits;

  static uint32_t hash_of(uint32_t table, const Prefix& prefix) {
    return static_cast<uint32_t>(
        rib_detail::RouteKeyHash{}(rib_detail::RouteKey::make(table, prefix)));
  }
  static bool matches(const RouteEntry& e, uint32_t table, const Prefix& prefix);
  static size_t chunk_of(uint32_t i) {
    return static_cast<size_t>(31 - __builtin_clz((i >> kFirstChunkBits) + 1));
  }
  static size_t chunk_start(size_t c) { return ((size_t{1} << c) - 1) << kFirstChunkBits; }
  static size_t chunk_entries(size_t c) { return size_t{1} << (c + kFirstChunkBits); }
  RouteEntry* entry(uint32_t index) const {
    const uint32_t i = index - 1;
    const size_t c = chunk_of(i);
    return chunks_[c] + (i - chunk_start(c));
  }
  // Slot holding (table, prefix), or the empty slot where it would go.
  size_t probe(uint32_t hash, uint32_t table, const Prefix& prefix) const;
  uint32_t allocate_entry();
  void add_chunk();
  void grow(size_t min_slots);
  static bool over_load(size_t entries, size_t slots) { return entries * 10 > slots * 7; }

  Slot* slots_ = nullptr;
  size_t mask_ = 0;
  size_t size_ = 0;
  std::array<RouteEntry*, kMaxChunks> chunks_{};
  size_t nchunks_ = 0;
  uint32_t next_fresh_ = 0;         // entries ever constructed (indexes 1..next_fresh_)
  std::vector<uint32_t> free_ids_;  // released entry indexes (+1), reused first
  std::vector<uint64_t> live_;      // bit (index - 1) set while a route holds that entry
};

}  // namespace fpm_sink
