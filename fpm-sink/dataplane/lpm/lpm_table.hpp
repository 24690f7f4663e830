// Lpm4Table / Lpm6Table: the writers for the BPF lookup tables of bpf/lpm4.h
// (DIR-24-8) and bpf/lpm6.h (24-8-8-... multibit trie). They operate on memory
// given to them: the mmap of the BPF row maps in fpm-sink, heap memory in
// tests. lookup() runs the same inline function the XDP program runs.
//
// Typical use by the map writer:
//   auto tbl24 = mmap(lpm4_tbl24) as span<uint32_t> of 1 << 24 entries;
//   auto tbl8  = mmap(lpm4_tbl8)  as span<uint32_t> of groups * 256 entries;
//   Lpm4Table t(tbl24, tbl8);
//   if (auto st = t.insert(prefix, fpm_act_make(FPM_ACT_FORWARD, nhg)); !st)
//     // st.error().id == "lpm.full": the prefix's /24 now punts to the kernel
//     // (FibOffload records the route Failed, zebra is told RTM_F_OFFLOAD_FAILED);
//     // call retry_failed() periodically.
// Every call is single-writer; the BPF readers need no lock (see stride_trie.hpp).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "common/ip.hpp"
#include "common/result.hpp"
#include "dataplane/lpm/stride_trie.hpp"
#include "lpm4.h"
#include "lpm6.h"

namespace fpm_sink::lpm {

struct LpmRoute {
  Prefix prefix;
  uint32_t action = 0;
};

struct LpmRetry {
  std::vector<Prefix> recovered;  // ranges offloaded again (prefixes inside are offloaded)
  size_t still_failed = 0;
};

// Behaviour shared by both families; Family-specific bits in the subclasses.
class LpmTable {
 public:
  // Adds or replaces. "lpm.full": not offloaded, its range punts (see above);
  // the prefix is kept in the control copy and installed by retry_failed().
  Status insert(const Prefix& p, uint32_t action);
  // "lpm.not_found" if absent. Restores the covering less-specific prefix.
  Status remove(const Prefix& p);
  // Sorted bulk load (e.g. replay); returns the prefixes left punted.
  std::vector<Prefix> insert_bulk(std::span<const LpmRoute> routes);
  std::optional<uint32_t> find(const Prefix& p) const;  // control copy
  bool offloaded(const Prefix& p) const;  // in the control copy and not in a punted range
  LpmRetry retry_failed();
  std::vector<Prefix> failed_ranges() const;
  // Prefixes that punt because their range was punted since the last call
  // (the prefixes of the control copy inside each such range, whether they
  // were offloaded before or not). See StrideTrie::take_new_failures.
  std::vector<Prefix> take_newly_punted();
  LpmStats stats() const { return trie_.stats(); }
  // Warm restart (LpmOptions::adopt_live): true until commit() publishes the
  // staged table; until then lookup() still answers from the adopted one.
  bool staging() const { return trie_.staging(); }
  void commit() { trie_.commit(); }
  // Sizes the control copy for n prefixes (start-up, before a full table).
  void reserve(size_t n) { trie_.reserve(n); }
  // Starts loading what insert/remove(p) reads first (control copy, root entry).
  void prefetch(const Prefix& p) const {
    if (p.family() == family_) trie_.prefetch(key_of(p.addr), p.len);
  }
  Family family() const { return family_; }

 protected:
  LpmTable(Family f, unsigned root_bits, std::span<uint32_t> root, std::span<uint32_t> nodes,
           LpmOptions opts);
  Key key_of(const IpAddr& a) const;
  Prefix prefix_of(Key k, unsigned len) const;

  Family family_;
  StrideTrie trie_;
};

class Lpm4Table : public LpmTable {
 public:
  // tbl24: LPM4_TBL24_ROWS * 256 entries; tbl8: groups * 256 entries.
  Lpm4Table(std::span<uint32_t> tbl24, std::span<uint32_t> tbl8, LpmOptions opts = {});
  uint32_t lookup(uint32_t addr_host_order) const { return lpm4_lookup(&view_, addr_host_order); }
  uint32_t lookup(const IpAddr& a) const { return lookup(a.v4_host_order()); }
  const lpm4_view& view() const { return view_; }

 private:
  lpm4_view view_;
};

class Lpm6Table : public LpmTable {
 public:
  // root: LPM6_ROOT_ROWS * 256 entries; nodes: node_count * 256 entries.
  Lpm6Table(std::span<uint32_t> root, std::span<uint32_t> nodes, LpmOptions opts = {});
  uint32_t lookup(const uint8_t* addr16) const { return lpm6_lookup(&view_, addr16); }
  uint32_t lookup(const IpAddr& a) const { return lookup(a.bytes.data()); }
  const lpm6_view& view() const { return view_; }

 private:
  lpm6_view view_;
};

}  // namespace fpm_sink::lpm
