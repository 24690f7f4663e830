// Next hops as the fast path stores them: one fpm_nexthops entry per distinct
// (gateway, ifindex), shared and reference counted by every group that uses
// it. Because routes reach next hops only through groups, refreshing one entry
// here re-points every route behind it: prefix-independent convergence.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <unordered_map>
#include <vector>

#include "common/result.hpp"
#include "dataplane/index_allocator.hpp"
#include "dataplane/map_writer.hpp"
#include "dataplane/neighbour_source.hpp"

namespace fpm_sink {

struct NextHopKey {
  IpAddr gateway;
  uint32_t ifindex = 0;
  auto operator<=>(const NextHopKey&) const = default;
};

// The entry XDP should hold for `key` now: egress port, its MAC and MTU, the
// neighbour's MAC, and the state (a dead port or a FAILED neighbour fails it,
// no usable neighbour leaves it unresolved). Shared with the host table.
fpm_nexthop resolve_nexthop(const NeighbourSource& neighbours, const LinkSource& links,
                            const NextHopKey& key);

class NextHopTable {
 public:
  NextHopTable(MapWriter& writer, const NeighbourSource& neighbours, const LinkSource& links,
               IndexAllocator allocator);

  // Index of the entry for `key`, created and written on first use. Error
  // "dataplane.nexthop.full" when no index is free (quarantine included).
  Result<uint32_t> acquire(const NextHopKey& key);
  // Drops one reference; the last one frees the index into quarantine. The
  // entry stays in the map: an XDP run may still be using it.
  void release(uint32_t index);

  // Re-resolves and rewrites the entries that changed: one write per next hop,
  // never per route. Returns how many entries were written.
  Result<size_t> refresh_neighbour(const IpAddr& gateway, uint32_t ifindex);
  Result<size_t> refresh_link(uint32_t ifindex);
  Result<size_t> refresh_all();

  size_t size() const { return by_key_.size(); }
  const IndexAllocator& allocator() const { return alloc_; }
  // Warm restart, see IndexAllocator::hold().
  void hold(std::span<const uint32_t> indices) { alloc_.hold(indices); }
  void release_held() { alloc_.release_held(); }
  std::optional<fpm_nexthop> entry(uint32_t index) const;
  void for_each(const std::function<void(const NextHopKey&, uint32_t index, const fpm_nexthop&,
                                         uint32_t refs)>& fn) const;

 private:
  struct Slot {
    NextHopKey key;
    fpm_nexthop value{};
    uint32_t refs = 0;
  };
  fpm_nexthop resolve(const NextHopKey& key) const {
    return resolve_nexthop(neighbours_, links_, key);
  }
  Result<bool> rewrite(uint32_t index, Slot& slot);

  MapWriter& writer_;
  const NeighbourSource& neighbours_;
  const LinkSource& links_;
  IndexAllocator alloc_;
  std::map<NextHopKey, uint32_t> by_key_;
  std::unordered_map<uint32_t, Slot> slots_;
};

}  // namespace fpm_sink
