// Private to the RIB: the state behind Rib and the helpers the .cpp files share.
//
// Every unicast route points at a Target: a zebra next-hop object (NhNode, which
// also exists as an "absent" placeholder while something refers to an id not yet
// received) or an interned inline next-hop set. Each target keeps an intrusive
// list of the routes on it, so completing or withdrawing a target touches only
// its own routes and a RouteAdd costs no allocation beyond the route's map node.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "rib/rib.hpp"
#include "rib/rib_keys.hpp"
#include "rib/route_table.hpp"

namespace fpm_sink {

// A zebra next-hop id. `present` is false for a placeholder that only exists
// because routes or groups refer to the id; placeholders vanish at refcount 0.
struct NhNode : Target {
  RibGroup group;  // spec valid while present; refcount always valid
  bool present = false;
  bool announced = false;        // observer knows `fib` (complete == announced between calls)
  bool counted_pending = false;  // included in stats.pending_groups
  FibGroup fib;
  // Groups naming this id as a member. A tree, not a list: one id shared by
  // thousands of groups must not make each membership change scan all of them;
  // ordered so that parents are re-evaluated (and announced) in a stable order.
  std::set<uint32_t> parents;
};

struct InlineSet : Target {
  const rib_detail::NexthopSet* key = nullptr;  // points at the interning map's key
  uint32_t refcount = 0;
  FibGroup fib;
};

struct Rib::Impl {
  RibObserver* observer = nullptr;
  RibStats stats;
  RibLimits limits;
  RouteTable routes;
  std::unordered_map<uint32_t, NhNode> nodes;
  std::unordered_map<uint32_t, InlineSet> inline_sets;
  std::unordered_map<rib_detail::NexthopSet, uint32_t, rib_detail::NexthopSetHash,
                     rib_detail::NexthopSetEq>
      interned;
  std::vector<uint32_t> free_inline_ids;
  uint32_t next_inline_id = kInlineGroupIdBase;
  rib_detail::NexthopSet scratch;  // reused to sort unsorted inline sets without allocating

  // --- observer -------------------------------------------------------------
  void emit_group(ChangeKind k, const FibGroup& g) {
    if (observer) observer->group_changed(k, g);
  }
  void emit_route(ChangeKind k, RouteEntry& e) {
    if (observer) observer->route_changed(k, view(e));
  }
  static RouteView view(RouteEntry& e) {
    const RouteSpec& s = e.r.spec;
    return RouteView{s.table,      s.prefix,          s.type, s.protocol, s.metric,
                     e.r.group_id, &e.r.observer_bits};
  }

  // --- targets (rib_nexthops.cpp) --------------------------------------------
  void link(Target* t, RouteEntry* e, uint32_t index);
  void unlink(Target* t, RouteEntry* e);
  static bool target_complete(const Target* t);
  // Takes one route reference on whatever `spec` points at (creating a
  // placeholder node or interning an inline set); null if it points at nothing.
  Target* acquire_route_target(const RouteAdd& spec);
  void release_route_target(Target* t);

  NhNode& node(uint32_t id);
  void maybe_erase_node(NhNode& n);
  void acquire_member(uint32_t parent_id, uint32_t member_id);
  void release_member(uint32_t parent_id, uint32_t member_id);
  bool members_complete(const NhNode& n) const;
  FibGroup build_fib(const NhNode& n) const;
  // Brings observer + route states in line with whether `n` is complete now,
  // then recurses into the groups that contain `n`.
  void reevaluate(NhNode& n);
  void reevaluate_parents(const NhNode& n);
  // Removes a present object: dependants go pending, members are released.
  void remove_nexthop(NhNode& n);

  Status add_nexthop(NexthopAdd&& a);
  Status del_nexthop(const NexthopDel& d);

  // --- routes (rib_routes.cpp) -----------------------------------------------
  Status add_route(RouteAdd&& a);
  Status del_route(const RouteDel& d);
  // Announces the removal (if installed), detaches and updates counters; the
  // caller erases the map entry.
  void drop_route(RouteEntry& e);
};

}  // namespace fpm_sink
