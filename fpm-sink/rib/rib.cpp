// Public face of the RIB: dispatch, reconnect mark-and-sweep, read access.
#include "rib/rib.hpp"

#include <algorithm>
#include <tuple>
#include <type_traits>

#include "rib/rib_impl.hpp"

namespace fpm_sink {

Rib::Rib(RibObserver* observer) : impl_(std::make_unique<Impl>()) {
  impl_->observer = observer;
}
Rib::~Rib() = default;

void Rib::set_observer(RibObserver* observer) {
  impl_->observer = observer;
}

void Rib::set_limits(const RibLimits& limits) {
  impl_->limits = limits;
}

const RibLimits& Rib::limits() const {
  return impl_->limits;
}

void Rib::reserve(size_t routes) {
  impl_->routes.reserve(routes);
}

void Rib::prefetch(const FpmEvent& event) const {
  auto hint = [this](uint32_t table, const Prefix& prefix) {
    impl_->routes.prefetch(table, prefix);
    if (impl_->observer) impl_->observer->prefetch_route(table, prefix);
  };
  if (const auto* a = std::get_if<RouteAdd>(&event)) {
    hint(a->table, a->prefix);
  } else if (const auto* d = std::get_if<RouteDel>(&event)) {
    hint(d->table, d->prefix);
  }
}

Status Rib::apply(FpmEvent&& event) {
  return std::visit(
      [this](auto&& e) -> Status {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, RouteAdd>)
          return impl_->add_route(std::move(e));
        else if constexpr (std::is_same_v<T, RouteDel>)
          return impl_->del_route(e);
        else if constexpr (std::is_same_v<T, NexthopAdd>)
          return impl_->add_nexthop(std::move(e));
        else
          return impl_->del_nexthop(e);
      },
      std::move(event));
}

Status Rib::apply(const FpmEvent& event) {
  // Copying a RouteAdd that names an nhg_id copies an empty vector: no allocation.
  return std::visit(
      [this](const auto& e) -> Status {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, RouteAdd>)
          return impl_->add_route(RouteAdd(e));
        else if constexpr (std::is_same_v<T, RouteDel>)
          return impl_->del_route(e);
        else if constexpr (std::is_same_v<T, NexthopAdd>)
          return impl_->add_nexthop(NexthopAdd(e));
        else
          return impl_->del_nexthop(e);
      },
      event);
}

void Rib::begin_replay() {
  Impl& m = *impl_;
  m.routes.for_each([](RouteEntry& e) { e.r.stale = true; });
  m.stats.stale_routes = m.routes.size();
  m.stats.stale_groups = 0;
  for (auto& [id, n] : m.nodes) {
    if (!n.present) continue;
    n.group.stale = true;
    ++m.stats.stale_groups;
  }
}

size_t Rib::sweep_stale() {
  Impl& m = *impl_;
  size_t routes = 0, groups = 0;
  std::vector<RouteEntry*> stale;
  m.routes.for_each([&](RouteEntry& e) {
    if (e.r.stale) stale.push_back(&e);
  });
  for (RouteEntry* e : stale) {
    m.drop_route(*e);
    m.routes.erase(e);
  }
  routes = stale.size();
  // Removing a stale group can leave its stale members unreferenced: repeat
  // until nothing more goes. Stale objects that live routes/groups still use stay.
  for (;;) {
    std::vector<uint32_t> victims;
    for (const auto& [id, n] : m.nodes) {
      if (n.present && n.group.stale && n.group.refcount == 0) victims.push_back(id);
    }
    if (victims.empty()) break;
    for (uint32_t id : victims) {
      m.remove_nexthop(m.nodes.at(id));
      ++groups;
    }
  }
  m.stats.swept_routes += routes;
  m.stats.swept_groups += groups;
  return routes + groups;
}

const RibStats& Rib::stats() const {
  return impl_->stats;
}

const RibRoute* Rib::find_route(uint32_t table, const Prefix& prefix) const {
  const RouteEntry* e = impl_->routes.find(table, prefix);
  return e ? &e->r : nullptr;
}

const RibGroup* Rib::find_group(uint32_t id) const {
  auto it = impl_->nodes.find(id);
  return it == impl_->nodes.end() || !it->second.present ? nullptr : &it->second.group;
}

std::optional<FibGroup> Rib::fib_group(uint32_t id) const {
  if (id >= kInlineGroupIdBase) {
    auto it = impl_->inline_sets.find(id);
    if (it == impl_->inline_sets.end()) return std::nullopt;
    return it->second.fib;
  }
  auto it = impl_->nodes.find(id);
  if (it == impl_->nodes.end() || !it->second.announced) return std::nullopt;
  return it->second.fib;
}

void Rib::for_each_route(const std::function<void(const RibRoute&)>& fn) const {
  std::vector<const RibRoute*> sorted;
  sorted.reserve(impl_->routes.size());
  impl_->routes.for_each([&](const RouteEntry& e) { sorted.push_back(&e.r); });
  std::sort(sorted.begin(), sorted.end(), [](const RibRoute* a, const RibRoute* b) {
    const RouteSpec& x = a->spec;
    const RouteSpec& y = b->spec;
    return std::tie(x.table, x.prefix.addr.family, x.prefix.addr.bytes, x.prefix.len) <
           std::tie(y.table, y.prefix.addr.family, y.prefix.addr.bytes, y.prefix.len);
  });
  for (const RibRoute* r : sorted) fn(*r);
}

size_t Rib::route_positions() const {
  return impl_->routes.index_end() - 1;
}

size_t Rib::walk_routes(size_t from, size_t to,
                        const std::function<void(const RibRoute&)>& fn) const {
  to = std::min(to, route_positions());
  for (size_t pos = from; pos < to; ++pos) {
    // Position p is table index p + 1 (index 0 means "no entry").
    if (const RouteEntry* e = impl_->routes.live_at(static_cast<uint32_t>(pos + 1))) fn(e->r);
  }
  return std::max(from, to);
}

void Rib::for_each_group(const std::function<void(const RibGroup&)>& fn) const {
  std::vector<const NhNode*> sorted;
  for (const auto& [id, n] : impl_->nodes) {
    if (n.present) sorted.push_back(&n);
  }
  std::sort(sorted.begin(), sorted.end(),
            [](const NhNode* a, const NhNode* b) { return a->id < b->id; });
  for (const NhNode* n : sorted) fn(n->group);
}

std::optional<RouteView> Rib::announced(uint32_t table, const Prefix& prefix) const {
  RouteEntry* e = impl_->routes.find(table, prefix);
  if (!e) return std::nullopt;
  return Impl::view(*e);
}

void Rib::for_each_announced(const std::function<void(const RouteView&)>& fn) const {
  // Storage order, not hash order: entries are read sequentially, and they
  // were filled in zebra's replay order, which keeps the LPM writes a walk
  // makes close together too.
  const RouteTable& routes = impl_->routes;
  for (uint32_t i = 1; i < routes.index_end(); ++i)
    if (routes.live_at(i)) fn(Impl::view(*routes.at(i)));
}

void Rib::for_each_announced_on(uint32_t group_id,
                                const std::function<void(const RouteView&)>& fn) const {
  const Target* t = nullptr;
  if (group_id >= kInlineGroupIdBase) {
    if (auto it = impl_->inline_sets.find(group_id); it != impl_->inline_sets.end())
      t = &it->second;
  } else if (auto it = impl_->nodes.find(group_id); it != impl_->nodes.end()) {
    t = &it->second;
  }
  if (!t) return;
  // The target's list also holds its routes still pending (announced with 0).
  for (uint32_t i = t->users; i != 0;) {
    RouteEntry* e = impl_->routes.at(i);
    i = e->next;
    if (e->r.group_id == group_id) fn(Impl::view(*e));
  }
}

void Rib::for_each_fib_group(const std::function<void(const FibGroup&)>& fn) const {
  std::vector<const FibGroup*> sorted;
  for (const auto& [id, n] : impl_->nodes) {
    if (n.announced) sorted.push_back(&n.fib);
  }
  for (const auto& [id, s] : impl_->inline_sets) sorted.push_back(&s.fib);
  std::sort(sorted.begin(), sorted.end(),
            [](const FibGroup* a, const FibGroup* b) { return a->id < b->id; });
  for (const FibGroup* g : sorted) fn(*g);
}

}  // namespace fpm_sink
