// fpm-sink's RIB model: what zebra selected, per table, plus next-hop groups.
// No I/O. Changes are announced to one RibObserver (see rib_events.hpp).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "common/events.hpp"
#include "common/main_table.hpp"
#include "common/result.hpp"
#include "rib/rib_events.hpp"

namespace fpm_sink {

enum class EntryState : uint8_t { Installed, Pending };

// A route's inline next hops, one pointer wide: empty for the usual nhg_id route.
// Shares the interned set's vector when zebra's order matches it (always for a
// single next hop), else owns a copy of zebra's list. Reads like a vector.
class NexthopList {
 public:
  using Vector = std::vector<WeightedNextHop>;

  NexthopList() = default;
  ~NexthopList() { reset(); }
  NexthopList(const NexthopList& o) { *this = o; }
  NexthopList(NexthopList&& o) noexcept : bits_(o.bits_) { o.bits_ = 0; }
  NexthopList& operator=(const NexthopList& o) {
    // A copy owns its vector: it may outlive the interned set it was sharing.
    if (this != &o) {
      reset();
      if (!o.empty()) bits_ = reinterpret_cast<uintptr_t>(new Vector(*o.vec())) | kOwned;
    }
    return *this;
  }
  NexthopList& operator=(NexthopList&& o) noexcept {
    if (this != &o) {
      reset();
      bits_ = o.bits_;
      o.bits_ = 0;
    }
    return *this;
  }

  // Takes zebra's list; points at `shared` instead when it holds the same
  // sequence and outlives this list (the RIB's interned set).
  void assign(Vector&& v, const Vector* shared) {
    reset();
    if (v.empty()) return;
    if (shared && *shared == v) {
      bits_ = reinterpret_cast<uintptr_t>(shared);
    } else {
      bits_ = reinterpret_cast<uintptr_t>(new Vector(std::move(v))) | kOwned;
    }
  }
  void reset() {
    if (bits_ & kOwned) delete vec();
    bits_ = 0;
  }

  bool empty() const { return bits_ == 0; }
  size_t size() const { return bits_ ? vec()->size() : 0; }
  const WeightedNextHop* begin() const { return bits_ ? vec()->data() : nullptr; }
  const WeightedNextHop* end() const { return bits_ ? vec()->data() + vec()->size() : nullptr; }
  const WeightedNextHop& operator[](size_t i) const { return (*vec())[i]; }
  Vector to_vector() const { return bits_ ? *vec() : Vector{}; }

  friend bool operator==(const NexthopList& a, const Vector& b) {
    return a.empty() ? b.empty() : *a.vec() == b;
  }
  friend bool operator==(const NexthopList& a, const NexthopList& b) {
    return a.empty() || b.empty() ? a.empty() == b.empty() : *a.vec() == *b.vec();
  }

 private:
  static constexpr uintptr_t kOwned = 1;
  const Vector* vec() const { return reinterpret_cast<const Vector*>(bits_ & ~kOwned); }
  uintptr_t bits_ = 0;
};

// A RouteAdd as the RIB keeps it: same fields (but `replace`, which is
// informational), packed into 40 bytes because a full table holds a million.
struct RouteSpec {
  uint32_t table = kMainTable;
  Prefix prefix;
  uint8_t protocol = 0;
  RouteType type = RouteType::Unicast;
  uint32_t metric = 0;
  uint32_t nhg_id = 0;
  NexthopList nexthops;

  // For code written against RouteAdd (`const RouteAdd& s = route.spec;`): a copy.
  operator RouteAdd() const {
    RouteAdd a;
    a.table = table;
    a.prefix = prefix;
    a.protocol = protocol;
    a.type = type;
    a.metric = metric;
    a.nhg_id = nhg_id;
    a.nexthops = nexthops.to_vector();
    return a;
  }
};

struct RibRoute {
  RouteSpec spec;         // as zebra sent it (nexthops inline, or nhg_id)
  uint32_t group_id = 0;  // FibGroup id announced to the observer (0 while pending / non-unicast)
  EntryState state = EntryState::Installed;
  bool stale = false;  // not refreshed since the last begin_replay()
  // Owned by the observer (RouteView::bits), in what would be padding.
  ObserverBits observer_bits = 0;
};

struct RibGroup {
  NexthopAdd spec;                           // as zebra sent it
  EntryState state = EntryState::Installed;  // Pending while a member id is unknown
  uint32_t refcount = 0;                     // routes + groups referring to it
  bool stale = false;
};

struct RibStats {
  uint64_t routes_v4 = 0, routes_v6 = 0;
  uint64_t groups = 0;         // zebra next-hop objects (singles and groups)
  uint64_t inline_groups = 0;  // interned inline next-hop sets
  uint64_t pending_routes = 0, pending_groups = 0;
  uint64_t stale_routes = 0, stale_groups = 0;
  uint64_t route_adds = 0, route_dels = 0, group_adds = 0, group_dels = 0;
  uint64_t unknown_deletes = 0;  // deletes of objects we never had
  uint64_t swept_routes = 0, swept_groups = 0;
  // Refused by RibLimits; what the RIB already held stays.
  uint64_t refused_routes = 0, refused_groups = 0;
};

// Bounds on what zebra can make the RIB hold, so a runaway feed costs bounded
// memory and time and gets refusals instead of an out-of-memory kill.
struct RibLimits {
  // Routes of every table and family, pending ones included: a route waiting
  // for a next-hop id that never arrives holds an entry (and at most one
  // placeholder node), so this also bounds what unresolved ids can cost.
  // A refusal tells the observer (RibObserver::routes_refused), because a
  // refused more-specific would otherwise leave its traffic to a covering
  // route. 0 = no limit, the default.
  uint64_t max_routes = 0;
  // Entries of one next-hop group. zebra's ECMP width is its MULTIPATH_NUM
  // build option (DESIGN.md plans for 256-way ECMP); the kernel only bounds a
  // group by its u16 count. A group beyond this is refused whole and its
  // previous version, if any, stays in force.
  uint32_t max_group_members = 1024;
};

class Rib final : public AnnouncedRoutes {
 public:
  explicit Rib(RibObserver* observer = nullptr);
  ~Rib() override;
  Rib(const Rib&) = delete;
  Rib& operator=(const Rib&) = delete;

  void set_observer(RibObserver* observer);
  void set_limits(const RibLimits& limits);
  const RibLimits& limits() const;

  // Applies one decoded event. Errors are not fatal to the model (ids:
  // rib.route.unknown_delete, rib.nexthop.unknown_delete, rib.nexthop.in_use, ...).
  Status apply(const FpmEvent& event);
  // Same, moving the event's next-hop vectors into the model instead of copying them.
  Status apply(FpmEvent&& event);

  // Hints that `event` is applied soon: starts loading the memory its lookup
  // reads first. Callers holding a batch prefetch a few events ahead.
  void prefetch(const FpmEvent& event) const;

  // Applies a batch in order (as apply(FpmEvent&&)), prefetching kAhead events
  // ahead so the cache misses of route table (with the observer's bits) and LPM
  // control copy overlap instead of queueing. on_error(index, error) is called
  // for every refused event.
  static constexpr size_t kPrefetchAhead = 8;
  template <typename OnError>
  void apply_batch(std::span<FpmEvent> events, OnError&& on_error) {
    const size_t n = events.size();
    for (size_t i = 0; i < std::min(kPrefetchAhead, n); ++i) prefetch(events[i]);
    for (size_t i = 0; i < n; ++i) {
      if (i + kPrefetchAhead < n) prefetch(events[i + kPrefetchAhead]);
      if (auto st = apply(std::move(events[i])); !st) on_error(i, st.error());
    }
  }

  // Pre-sizes the route table so a full-table load never rehashes mid-stream.
  void reserve(size_t routes);

  // Reconnect handling: mark everything stale; every add refreshes; sweep_stale()
  // removes what the replay did not refresh and returns how many routes + groups went.
  void begin_replay();
  size_t sweep_stale();

  const RibStats& stats() const;
  const RibRoute* find_route(uint32_t table, const Prefix& prefix) const;
  const RibGroup* find_group(uint32_t id) const;
  std::optional<FibGroup> fib_group(uint32_t id) const;  // resolved view of a group id

  // Iteration in a stable order (table, family, address, length) for display.
  void for_each_route(const std::function<void(const RibRoute&)>& fn) const;
  void for_each_group(const std::function<void(const RibGroup&)>& fn) const;

  // Resumable walk in storage order, for work sliced between other changes (a
  // control-socket dump of a full table). Positions run from 0 to
  // route_positions(); walk_routes visits the routes at [from, to) and returns
  // min(to, route_positions()). A live route never changes position, so walking
  // every position in slices visits each route that stays in the RIB
  // throughout exactly once; a route added meanwhile may or may not be visited,
  // one deleted and re-added may be visited once per life.
  size_t route_positions() const;
  size_t walk_routes(size_t from, size_t to, const std::function<void(const RibRoute&)>& fn) const;
  // AnnouncedRoutes: what the observer was told, with its bits.
  std::optional<RouteView> announced(uint32_t table, const Prefix& prefix) const override;
  void for_each_announced(const std::function<void(const RouteView&)>& fn) const override;
  void for_each_announced_on(uint32_t group_id,
                             const std::function<void(const RouteView&)>& fn) const override;

  // Every FibGroup the observer currently knows (zebra objects and inline sets),
  // by id: what a forwarding plane needs to resynchronise from scratch.
  void for_each_fib_group(const std::function<void(const FibGroup&)>& fn) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace fpm_sink
