// The LPM writers' control copy: every prefix with its action, answering the
// questions StrideTrie asks, each in O(1) hash probes:
//   - exact match (insert/replace/remove, find);
//   - cover: the longest stored prefix of length <= L containing a key
//     (probes only the lengths that hold prefixes, longest first);
//   - "is there any prefix longer than B under key/B?" for the stride
//     boundaries B, answered from counters kept per boundary prefix;
//   - the prefixes ending inside one 8-bit stride (enumerated, <= 510 probes).
// An ordered map answers all of this too, but a random insert into a 1M-entry
// red-black tree or B-tree is a dozen cache misses; these are one or two.
//
// Keys are MSB-aligned in an unsigned __int128 (see stride_trie.hpp).
// Prefixes up to /56 (all of IPv4, the usual IPv6 lengths) live in one map
// under a 64-bit key, prefix bits and length packed: 16-byte slots, and one
// reserve() sizes it for a whole table. Longer ones get a map per length.
#pragma once

#include <absl/container/flat_hash_map.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "common/big_alloc.hpp"

namespace fpm_sink::lpm {

using Key = unsigned __int128;

struct KeyHash {
  // A 64-bit finalizer (splitmix64): the inputs differ only in their top bits.
  static uint64_t mix(uint64_t x) {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    return x ^ (x >> 31);
  }
  size_t operator()(uint64_t k) const { return mix(k); }
  size_t operator()(Key k) const {
    return mix(static_cast<uint64_t>(k >> 64) ^ mix(static_cast<uint64_t>(k)));
  }
};

class PrefixStore {
 public:
  // width: 32 or 128. boundaries: the prefix lengths at which the trie's
  // levels end (24, 32 for IPv4; 24, 32, ..., 120 for IPv6): subtree counts
  // are kept for prefixes of those lengths.
  PrefixStore(unsigned width, std::vector<unsigned> boundaries);

  struct Emplaced {
    uint32_t* action;
    bool added;
  };
  // Inserts (key, len) -> action if absent; otherwise returns the stored one.
  Emplaced try_emplace(Key key, unsigned len, uint32_t action);
  bool erase(Key key, unsigned len);
  const uint32_t* find(Key key, unsigned len) const;

  struct Cover {
    uint32_t action;
    unsigned len;
  };
  // Longest stored prefix of length <= max_len containing key.
  std::optional<Cover> cover(Key key, unsigned max_len) const;
  // Any stored prefix longer than boundary b (one of the boundaries) under
  // key/b? key must have its bits beyond b zero.
  bool has_longer(Key key, unsigned b) const;
  // Calls f(key, len, action) for every stored prefix of length in
  // (base, top] under key/base, top - base <= 8; shorter lengths first.
  template <typename F>
  void for_each_in_stride(Key key, unsigned base, unsigned top, F&& f) const {
    for (unsigned l = base + 1; l <= top; ++l) {
      if (count_[l] == 0) continue;
      for (uint32_t i = 0; i < (uint32_t(1) << (l - base)); ++i) {
        const Key k = key | (Key(i) << (128 - l));
        if (const uint32_t* a = find(k, l)) f(k, l, *a);
      }
    }
  }

  // Calls f(key, len, action) for every stored prefix of length >= b under
  // key/b, b one of the boundaries (a punted range's length). A stride is
  // enumerated only where has_longer() says it holds something, so the cost
  // follows the prefixes found, not the range's size.
  template <typename F>
  void for_each_within(Key key, unsigned b, F&& f) const {
    if (const uint32_t* a = find(key, b)) f(key, b, *a);
    for_each_below(key, b, f);
  }

  size_t size() const { return size_; }
  // Room for n prefixes up to /56 without rehashing (a full table at start-up).
  void reserve(size_t n) { narrow_.reserve(n); }
  void prefetch(Key key, unsigned len) const {
    if (len <= kNarrowMax) narrow_.prefetch(narrow_key(key, len));
  }

 private:
  static constexpr unsigned kNarrowMax = 56;
  static uint64_t narrow_key(Key k, unsigned len) {
    return (static_cast<uint64_t>(k >> 64) & ~uint64_t{0xff}) | len;
  }
  void count_below(Key key, unsigned len, int delta);
  template <typename F>
  void for_each_below(Key key, unsigned b, F& f) const {
    if (b >= width_ || !has_longer(key, b)) return;
    const unsigned top = std::min(b + 8, width_);
    for_each_in_stride(key, b, top, f);
    if (top >= width_) return;
    for (uint32_t i = 0; i < 256; ++i) for_each_below(key | (Key(i) << (128 - top)), top, f);
  }

  unsigned width_;
  std::vector<unsigned> boundaries_;
  std::array<size_t, 129> count_{};  // prefixes per length
  // Huge pages: a full IPv4 table is ~35 MiB of slots probed at random.
  absl::flat_hash_map<uint64_t, uint32_t, KeyHash, std::equal_to<>,
                      HugePageAllocator<std::pair<const uint64_t, uint32_t>>>
      narrow_;                                                     // len <= kNarrowMax
  std::vector<absl::flat_hash_map<Key, uint32_t, KeyHash>> wide_;  // per len > kNarrowMax
  // Per boundary index: prefixes longer than the boundary under each
  // boundary-length prefix.
  std::vector<absl::flat_hash_map<Key, uint32_t, KeyHash>> below_;
  size_t size_ = 0;
};

}  // namespace fpm_sink::lpm
