// The seam between the RIB model and whatever programs a forwarding plane.
//
// The fast path never sees zebra's raw objects. Every unicast route points at a
// FibGroup: zebra's own next-hop-group id (RTA_NH_ID mode) or an internal id the
// RIB allocates for an inline next-hop set (RTA_GATEWAY / RTA_MULTIPATH mode),
// interned and reference counted so identical sets share one group. A next-hop
// change is therefore one group_changed() call, whatever the number of routes.
//
// Ordering promises made to observers:
//  - a group is Added before any route that uses it is Added/Changed onto it;
//  - routes stop using a group (Changed/Removed) before the group is Removed;
//  - pending groups (waiting for a member not yet received) are not announced
//    until they are complete;
//  - pending routes (waiting for their group) ARE announced, with group_id 0: the
//    fast path punts their range to the kernel rather than letting a less
//    specific route forward the traffic. When the group completes the route is
//    Changed onto it; if the group goes away the route is Changed back to 0.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "common/events.hpp"
#include "common/ip.hpp"
#include "common/main_table.hpp"

namespace fpm_sink {

// Internal ids for interned inline next-hop sets live above zebra's id space use.
constexpr uint32_t kInlineGroupIdBase = 0x80000000u;

enum class ChangeKind : uint8_t { Added, Changed, Removed };

struct ResolvedNextHop {
  NextHop nh;
  uint32_t weight = 1;

  auto operator<=>(const ResolvedNextHop&) const = default;
};

struct FibGroup {
  uint32_t id = 0;
  bool blackhole = false;                // every member is a blackhole next hop
  std::vector<ResolvedNextHop> members;  // flattened single next hops with weights
};

// The observer's own state for one route, kept in the RIB's route entry so
// that a route and what the forwarding plane made of it are one lookup and
// one store. 16 bits: the spare bytes of the RIB's one-cache-line entry. The
// RIB never reads it; it is zero when a route is first announced.
using ObserverBits = uint16_t;

struct RouteView {
  uint32_t table = kMainTable;
  Prefix prefix;
  RouteType type = RouteType::Unicast;
  uint8_t protocol = 0;
  uint32_t metric = 0;
  uint32_t group_id = 0;  // FibGroup id for unicast routes; 0 if non-unicast or pending
  // The route's observer state; stays valid until the route is Removed.
  ObserverBits* bits = nullptr;
};

// What the RIB has announced, for its observer to find again: a route by key
// (retries, the control plane), all routes, or the routes on one group.
class AnnouncedRoutes {
 public:
  virtual ~AnnouncedRoutes() = default;
  virtual std::optional<RouteView> announced(uint32_t table, const Prefix& prefix) const = 0;
  // Every route (any table), in no particular order.
  virtual void for_each_announced(const std::function<void(const RouteView&)>& fn) const = 0;
  // Every route whose last announcement named `group_id`; cheap for a group
  // no route uses, whatever the table's size.
  virtual void for_each_announced_on(uint32_t group_id,
                                     const std::function<void(const RouteView&)>& fn) const = 0;
};

class RibObserver {
 public:
  virtual ~RibObserver() = default;
  virtual void group_changed(ChangeKind kind, const FibGroup& group) = 0;
  virtual void route_changed(ChangeKind kind, const RouteView& route) = 0;
  // zebra sent a route again and nothing the observer sees changed (a replay,
  // or new next hops interned to the same group): nothing to reprogram, but
  // zebra expects to hear its offload state again. Optional.
  virtual void route_confirmed(const RouteView& /*route*/) {}
  // Hint, forwarded by Rib::prefetch(): a change of (table, prefix) may follow
  // shortly; start loading the memory handling it will touch. Optional.
  virtual void prefetch_route(uint32_t /*table*/, const Prefix& /*prefix*/) const {}
  // The RIB refused a route zebra installed (RibLimits::max_routes): from now
  // on what it holds no longer covers zebra's FIB, and a refused more-specific
  // would fall to a covering route. Called on every refusal.
  virtual void routes_refused() {}
};

}  // namespace fpm_sink
