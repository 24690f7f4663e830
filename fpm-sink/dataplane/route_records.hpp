// FibOffload's per-route records for the main table. A full IPv4 table is a
// million entries touched once each during a replay, so IPv4 lives in small
// open-addressing tables per /16 (no allocation per route, cache-friendly in
// replay order); IPv6 tables are a fifth of that and use a node map.
#pragma once

#include <cstdint>
#include <functional>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/ip.hpp"

namespace fpm_sink {

template <typename V>
class RouteRecords {
 public:
  // nullptr if absent.
  V* find(const Prefix& p) {
    if (p.family() == Family::V6) {
      auto it = v6_.find(p);
      return it == v6_.end() ? nullptr : &it->second;
    }
    Chunk& c = chunks_[p.addr.v4_host_order() >> 16];
    if (c.slots.empty()) return nullptr;
    const size_t i = c.probe(key4(p));
    return c.slots[i].used() ? &c.slots[i].value : nullptr;
  }
  const V* find(const Prefix& p) const { return const_cast<RouteRecords*>(this)->find(p); }

  // (record, inserted); a new record is value-initialised.
  std::pair<V*, bool> try_emplace(const Prefix& p) {
    if (p.family() == Family::V6) {
      auto [it, fresh] = v6_.try_emplace(p);
      return {&it->second, fresh};
    }
    Chunk& c = chunks_[p.addr.v4_host_order() >> 16];
    if ((c.size + 1) * 4 > c.slots.size() * 3) c.grow(c.slots.empty() ? 8 : c.slots.size() * 2);
    const uint32_t k = key4(p);
    const size_t i = c.probe(k);
    if (c.slots[i].used()) return {&c.slots[i].value, false};
    c.slots[i] = Slot{k, V{}};
    ++c.size;
    ++size4_;
    return {&c.slots[i].value, true};
  }

  bool erase(const Prefix& p) {
    if (p.family() == Family::V6) return v6_.erase(p) > 0;
    Chunk& c = chunks_[p.addr.v4_host_order() >> 16];
    if (c.slots.empty()) return false;
    size_t i = c.probe(key4(p));
    if (!c.slots[i].used()) return false;
    // Backward-shift deletion keeps probe chains tombstone-free.
    const size_t mask = c.slots.size() - 1;
    for (size_t j = (i + 1) & mask; c.slots[j].used(); j = (j + 1) & mask) {
      const size_t home = hash(c.slots[j].key) & mask;
      if (((j - home) & mask) >= ((j - i) & mask)) {
        c.slots[i] = c.slots[j];
        i = j;
      }
    }
    c.slots[i].key = 0;
    --c.size;
    --size4_;
    return true;
  }

  // Starts loading the slot find/try_emplace(p) probes first (IPv4).
  void prefetch(const Prefix& p) const {
    if (p.family() != Family::V4) return;
    const Chunk& c = chunks_[p.addr.v4_host_order() >> 16];
    if (!c.slots.empty()) __builtin_prefetch(&c.slots[hash(key4(p)) & (c.slots.size() - 1)], 1);
  }

  size_t size() const { return size4_ + v6_.size(); }
  // Sizes every /16's table for an even share of `v4` routes (real tables are
  // uneven; busy /16s still grow) and touches the memory now: page faults at
  // start-up instead of during zebra's replay.
  void reserve(size_t v4, size_t v6) {
    size_t per = 8;
    while (per * 3 < (v4 >> 16) * 4 + 4) per *= 2;
    for (auto& c : chunks_)
      if (c.slots.size() < per) c.grow(per);
    v6_.reserve(v6);
  }

  // Every record of length >= range.len inside range.
  void for_each_within(const Prefix& range, const std::function<void(const Prefix&, V&)>& fn) {
    auto visit = [&](const Prefix& p, V& v) {
      if (p.len >= range.len && range.contains(p.addr)) fn(p, v);
    };
    if (range.family() == Family::V6) {
      for (auto& [p, v] : v6_) visit(p, v);
      return;
    }
    // An IPv4 range of /16 or longer lies in one chunk.
    const uint32_t first = range.addr.v4_host_order() >> 16;
    const uint32_t last = range.len >= 16 ? first : first | (0xffffu >> range.len);
    for (uint32_t hi = first; hi <= last; ++hi)
      for (auto& s : chunks_[hi].slots)
        if (s.used()) visit(prefix4(hi, s.key), s.value);
  }

  void for_each(const std::function<void(const Prefix&, V&)>& fn) {
    for (uint32_t hi = 0; hi < chunks_.size(); ++hi)
      for (auto& s : chunks_[hi].slots)
        if (s.used()) fn(prefix4(hi, s.key), s.value);
    for (auto& [p, v] : v6_) fn(p, v);
  }

 private:
  // IPv4 is split by the top 16 address bits into small open-addressing
  // tables. zebra replays in prefix order, so consecutive routes land in the
  // same small table and stay in cache; a single big hash table would take a
  // cache and TLB miss per route (~170 ns here, more than the LPM write).
  static constexpr uint32_t kUsed = 0x80000000u;
  struct Slot {
    uint32_t key = 0;  // kUsed | low 16 address bits << 8 | length; 0 = empty
    V value{};
    bool used() const { return key != 0; }
  };
  static uint32_t key4(const Prefix& p) {
    return kUsed | (p.addr.v4_host_order() & 0xffff) << 8 | p.len;
  }
  static Prefix prefix4(uint32_t hi, uint32_t k) {
    return *Prefix::make(IpAddr::v4(hi << 16 | (k & 0xffffff) >> 8), k & 0xff);
  }
  // High half of a 64-bit multiplicative hash: every key bit reaches the
  // bits a small table masks (the low product bits would not see the address).
  static size_t hash(uint32_t k) { return static_cast<size_t>((k * 0x9e3779b97f4a7c15ull) >> 40); }
  struct Chunk {
    std::vector<Slot> slots;  // power of two, load <= 3/4
    uint32_t size = 0;
    size_t probe(uint32_t k) const {
      const size_t mask = slots.size() - 1;
      size_t i = hash(k) & mask;
      while (slots[i].used() && slots[i].key != k) i = (i + 1) & mask;
      return i;
    }
    void grow(size_t n) {
      std::vector<Slot> old(n);
      old.swap(slots);
      for (auto& s : old)
        if (s.used()) slots[probe(s.key)] = s;
    }
  };

  std::vector<Chunk> chunks_ = std::vector<Chunk>(1u << 16);
  size_t size4_ = 0;
  std::unordered_map<Prefix, V, PrefixHash> v6_;
};

}  // namespace fpm_sink
