// fpm-sink's RIB model: what zebra selected, per table, plus next-hop groups.
// No I/O. Changes are announced to one RibObserver (see rib_events.hpp).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "common/result.hpp"
#include "fpm/events.hpp"
#include "rib/rib_events.hpp"

namespace fpm_sink {

enum class EntryState : uint8_t { Installed, Pending };

struct RibRoute {
  RouteAdd spec;  // as zebra sent it (nexthops inline, or nhg_id)
  EntryState state = EntryState::Installed;
  uint32_t group_id = 0;  // FibGroup id announced to the observer (0 while pending / non-unicast)
  bool stale = false;     // not refreshed since the last begin_replay()
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
};

class Rib {
 public:
  explicit Rib(RibObserver* observer = nullptr);
  ~Rib();
  Rib(const Rib&) = delete;
  Rib& operator=(const Rib&) = delete;

  void set_observer(RibObserver* observer);

  // Applies one decoded event. Errors are not fatal to the model (ids:
  // rib.route.unknown_delete, rib.nexthop.unknown_delete, rib.nexthop.in_use, ...).
  Status apply(const FpmEvent& event);
  // Same, moving the event's next-hop vectors into the model instead of copying them.
  Status apply(FpmEvent&& event);

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
  // Every FibGroup the observer currently knows (zebra objects and inline sets),
  // by id: what a forwarding plane needs to resynchronise from scratch.
  void for_each_fib_group(const std::function<void(const FibGroup&)>& fn) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace fpm_sink
