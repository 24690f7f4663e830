// The writer shared by Lpm4Table (DIR-24-8 = root 24 + one 8-bit level) and
// Lpm6Table (root 24 + up to thirteen 8-bit levels): a multibit trie with leaf
// pushing over memory it does not own (an mmap of the BPF row maps, or heap
// memory in tests). Layout and lookup: bpf/lpm_common.h, lpm4.h, lpm6.h.
//
// Keys are addresses MSB-aligned in an unsigned __int128 (IPv4 in the top 32
// bits), so one implementation serves both families.
//
// Control copy (RIB) and FIB are kept apart, as DPDK rte_fib does: rib_ (a
// PrefixStore, hashed per length) holds every prefix; the FIB rows hold the leaf-pushed result plus
// a userspace-only depth shadow per entry (which prefix length wrote it), used to decide what an
// insert may overwrite and what a delete must restore.
//
// Concurrency contract with the BPF reader (single writer, lock-free readers):
//  - a node is completely filled before the entry pointing at it is published
//    with a release store; every write to a live entry is one 32-bit store;
//  - a node unlinked by a collapse goes to a quarantine and is reused only
//    after `grace` has passed on the injected clock.
// Capacity: if no node is free, the entry that needed one is set to
// `punt_action` (the whole /24 for IPv4), recorded as failed, and insert()
// returns "lpm.full". retry_failed() rebuilds failed ranges from the RIB.
//
// Staging (LpmOptions::adopt_live): the nodes reachable from the live root
// are "retired": never allocated, never written. Every write goes to a private
// root and node array. commit() copies the new nodes into the live array
// (indexes no live entry reaches, so readers cannot see them yet), then stores
// each root entry that differs, one 32-bit release store at a time: a reader
// sees the old route or the new one for each entry, both consistent. The
// retired nodes are quarantined and reused after the grace period.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <set>
#include <span>
#include <utility>
#include <vector>

#include "common/result.hpp"
#include "dataplane/lpm/prefix_store.hpp"

namespace fpm_sink::lpm {

using Clock = std::chrono::steady_clock;

struct LpmOptions {
  // How long a node unlinked from the trie stays unused: longer than any XDP
  // program run can hold a pointer to it.
  std::chrono::nanoseconds grace = std::chrono::milliseconds(50);
  std::function<Clock::time_point()> now = [] { return Clock::now(); };
  // Written over a range that cannot be offloaded; 0 means
  // fpm_act_make(FPM_ACT_PUNT, FPM_REASON_OFFLOAD_FAILED).
  uint32_t punt_action = 0;
  // Warm restart: the memory holds a live table left by a previous process
  // (pinned maps), which the XDP program keeps using. Instead of clearing it,
  // stage: build the new table in private memory, using only nodes the live
  // table does not reach, until commit() publishes it. See "Staging" below.
  bool adopt_live = false;
};

struct LpmStats {
  size_t routes = 0;         // prefixes in the control copy
  uint32_t nodes_total = 0;  // tbl8 groups / trie nodes in the pool
  uint32_t nodes_used = 0;   // linked into the table
  uint32_t nodes_free = 0;   // ready for reuse
  uint32_t nodes_quarantined = 0;
  // Quarantined nodes still inside the grace period (an XDP run may read
  // them); the rest are reused on the next allocation, so count as spare.
  uint32_t nodes_in_grace = 0;
  size_t failed_ranges = 0;  // ranges currently punted for lack of nodes
};

struct FailedRange {
  Key key = 0;       // MSB-aligned, host bits zero
  unsigned len = 0;  // prefix length of the punted range (24 for IPv4)
  auto operator<=>(const FailedRange&) const = default;
};

struct RetryReport {
  std::vector<FailedRange> recovered;  // ranges now offloaded again
  size_t still_failed = 0;
};

class StrideTrie {
 public:
  // root: 2^root_bits entries; nodes: a multiple of 256 entries.
  StrideTrie(unsigned width, unsigned root_bits, std::span<uint32_t> root,
             std::span<uint32_t> nodes, LpmOptions opts);
  ~StrideTrie();

  // len <= width, host bits of key zero, action without LPM_ENTRY_NODE.
  Status insert(Key key, unsigned len, uint32_t action);
  Status remove(Key key, unsigned len);
  const uint32_t* find(Key key, unsigned len) const;  // control copy, exact match

  RetryReport retry_failed();
  std::vector<FailedRange> failed_ranges() const;
  // True if (key, len) lies inside a punted range (its offload failed).
  bool in_failed_range(Key key, unsigned len) const;
  // Ranges punted since the last call (by insert() or retry_failed()). Routes
  // inside one that were installed before now punt: the caller must say so.
  std::vector<FailedRange> take_new_failures() { return std::exchange(new_failures_, {}); }
  // f(key, len, action) for every prefix of the control copy inside a range
  // (a FailedRange's key and len).
  template <typename F>
  void for_each_within(Key key, unsigned len, F&& f) const {
    rib_.for_each_within(key, len, f);
  }
  LpmStats stats() const;
  void reserve(size_t n) { rib_.reserve(n); }
  void prefetch(Key key, unsigned len) const {
    if (len > width_) return;
    rib_.prefetch(key, len);
    const uint32_t s = slot(key, 0);
    __builtin_prefetch(&root_[s], 1);
    __builtin_prefetch(&root_depth_[s], 1);
  }

  unsigned width() const { return width_; }
  bool staging() const { return !live_root_.empty(); }
  // Nodes of the adopted live table, held until commit().
  size_t retired_nodes() const { return retired_.size(); }
  // Publishes the staged table (no-op unless staging()); afterwards writes go
  // to the live memory directly.
  void commit();
  static Key mask(unsigned len) { return len == 0 ? 0 : ~Key(0) << (128 - len); }

 private:
  static constexpr uint32_t kRoot = UINT32_MAX;
  static constexpr uint8_t kDepthNone = 0;       // shadow: no prefix wrote this entry
  static constexpr uint8_t kDepthFailed = 0xff;  // shadow: punted, see failed_
  static uint8_t enc(unsigned len) { return static_cast<uint8_t>(len + 1); }

  unsigned level_of(unsigned len) const {
    return len <= root_bits_ ? 0 : (len - root_bits_ + 7) / 8;
  }
  unsigned entry_len(unsigned level) const { return root_bits_ + 8 * level; }
  uint32_t slot(Key key, unsigned level) const {
    if (level == 0) return static_cast<uint32_t>(key >> (128 - root_bits_));
    return static_cast<uint32_t>(key >> (128 - entry_len(level))) & 0xff;
  }
  uint32_t* row(uint32_t node) { return node == kRoot ? root_.data() : &nodes_[size_t(node) << 8]; }
  uint8_t* depth_row(uint32_t node) {
    return node == kRoot ? root_depth_.data() : &node_depth_[size_t(node) << 8];
  }
  static void publish(uint32_t* e, uint32_t v) { __atomic_store_n(e, v, __ATOMIC_RELEASE); }

  bool alloc_node(uint32_t& node);
  void free_node(uint32_t node);
  void mark_failed(uint32_t node, uint32_t s, Key key, unsigned len);
  void paint(uint32_t node, uint32_t first, uint32_t count, uint32_t action, uint8_t depth);
  void unpaint(uint32_t node, uint32_t first, uint32_t count, uint8_t old_depth, uint32_t action,
               uint8_t depth);
  bool node_uniform(uint32_t node) const;
  void build_node(uint32_t node, Key key, unsigned level, uint32_t bg_action, uint8_t bg_depth);
  void cover(Key key, unsigned max_len, uint32_t& action, uint8_t& depth) const;

  unsigned width_;
  unsigned root_bits_;
  std::span<uint32_t> root_;
  std::span<uint32_t> nodes_;
  uint32_t node_count_;
  LpmOptions opts_;
  std::vector<uint8_t> root_depth_;
  std::vector<uint8_t> node_depth_;
  std::vector<uint32_t> free_;
  std::deque<std::pair<uint32_t, Clock::time_point>> quarantine_;
  PrefixStore rib_;
  std::set<FailedRange> failed_;
  std::vector<FailedRange> new_failures_;
  // Staging only: the live memory, the nodes its root reaches, private rows.
  std::span<uint32_t> live_root_, live_nodes_;
  std::vector<uint32_t> retired_;
  struct Shadow;
  std::unique_ptr<Shadow> shadow_;
  void adopt(std::span<uint32_t> root, std::span<uint32_t> nodes);
};

}  // namespace fpm_sink::lpm
