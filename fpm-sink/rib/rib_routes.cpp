// Routes: the hot path. One table probe, no allocation for routes that name an nhg_id.
#include <cerrno>
#include <string>

#include "rib/rib_impl.hpp"

namespace fpm_sink {

namespace {

bool same_route(const RouteSpec& a, const RouteAdd& b) {
  // `replace` is informational: zebra sends only its selected route per prefix.
  return a.table == b.table && a.prefix == b.prefix && a.protocol == b.protocol &&
         a.metric == b.metric && a.type == b.type && a.nhg_id == b.nhg_id &&
         a.nexthops == b.nexthops;
}

bool same_view(const RouteView& a, const RouteView& b) {
  return a.table == b.table && a.prefix == b.prefix && a.type == b.type &&
         a.protocol == b.protocol && a.metric == b.metric && a.group_id == b.group_id;
}

std::string describe(uint32_t table, const Prefix& p) {
  return "table " + std::to_string(table) + " " + p.to_string();
}

}  // namespace

Status Rib::Impl::add_route(RouteAdd&& a) {
  ++stats.route_adds;
  if (a.type == RouteType::Unicast && a.nhg_id >= kInlineGroupIdBase) {
    return Error{"rib.route.bad_nhg_id", describe(a.table, a.prefix) + " names next-hop id " +
                                             std::to_string(a.nhg_id) +
                                             " in the inline-group range"};
  }
  if (limits.max_routes && stats.routes_v4 + stats.routes_v6 >= limits.max_routes &&
      !routes.find(a.table, a.prefix)) {
    // Only a new prefix is refused: updates of held routes go on as before.
    ++stats.refused_routes;
    if (observer) observer->routes_refused();
    return Error{"rib.route.limit", describe(a.table, a.prefix) + " refused: the RIB holds " +
                                        std::to_string(limits.max_routes) + " routes, its limit"};
  }
  auto [entry, inserted, index] = routes.try_emplace(a.table, a.prefix);
  RouteEntry& e = *entry;
  if (!inserted && same_route(e.r.spec, a)) {
    // A replay of what we hold: refresh only, so a 1M-route replay stays silent.
    if (e.r.stale) --stats.stale_routes;
    e.r.stale = false;
    if (observer) observer->route_confirmed(view(e));
    return ok_status();
  }

  Target* const new_target = acquire_route_target(a);
  Target* const old_target = e.target;
  RouteView old_view;
  if (!inserted) old_view = view(e);

  if (inserted) {
    ++(a.prefix.family() == Family::V4 ? stats.routes_v4 : stats.routes_v6);
  } else {
    if (e.r.stale) --stats.stale_routes;
    if (e.r.state == EntryState::Pending) --stats.pending_routes;
  }
  if (old_target != new_target) {
    if (old_target) unlink(old_target, &e);
    if (new_target) link(new_target, &e, index);
  }
  e.target = new_target;
  RouteSpec& spec = e.r.spec;  // table and prefix are the key: already set
  spec.protocol = a.protocol;
  spec.type = a.type;
  spec.metric = a.metric;
  spec.nhg_id = a.nhg_id;
  // An inline route in the interned set's order shares its vector.
  spec.nexthops.assign(std::move(a.nexthops), new_target && new_target->is_inline
                                                  ? static_cast<const InlineSet*>(new_target)->key
                                                  : nullptr);
  e.r.stale = false;

  const bool installed = target_complete(new_target);
  e.r.state = installed ? EntryState::Installed : EntryState::Pending;
  e.r.group_id = installed && new_target ? new_target->id : 0;
  if (!installed) ++stats.pending_routes;
  // Pending routes are announced too, with group_id 0: the fast path must punt their
  // range to the kernel (which zebra programmed) instead of letting a less specific
  // route catch the traffic.
  if (inserted) {
    emit_route(ChangeKind::Added, e);
  } else if (observer) {
    if (same_view(old_view, view(e)))
      observer->route_confirmed(view(e));
    else
      observer->route_changed(ChangeKind::Changed, view(e));
  }
  // Last: the route has moved off the old target before it can be removed.
  release_route_target(old_target);
  return ok_status();
}

void Rib::Impl::drop_route(RouteEntry& e) {
  emit_route(ChangeKind::Removed, e);
  if (e.r.state == EntryState::Pending) --stats.pending_routes;
  --(e.r.spec.prefix.family() == Family::V4 ? stats.routes_v4 : stats.routes_v6);
  if (e.r.stale) --stats.stale_routes;
  e.r.spec.nexthops.reset();  // may share the interned set released below
  if (e.target) {
    unlink(e.target, &e);
    release_route_target(e.target);
    e.target = nullptr;
  }
}

Status Rib::Impl::del_route(const RouteDel& d) {
  ++stats.route_dels;
  RouteEntry* e = routes.find(d.table, d.prefix);
  if (!e) {
    ++stats.unknown_deletes;
    return Error{"rib.route.unknown_delete", describe(d.table, d.prefix), ENOENT};
  }
  drop_route(*e);
  routes.erase(e);
  return ok_status();
}

}  // namespace fpm_sink
