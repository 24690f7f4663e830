// AnnouncedRoutes without a RIB, for driving a FibOffload by hand (unit tests,
// benchmarks): announce() keeps the route as the RIB would, with its own
// observer bits, and then tells the observer.
#pragma once

#include <map>
#include <utility>

#include "rib/rib_events.hpp"

namespace fpm_sink {

class FakeAnnouncedRoutes final : public AnnouncedRoutes {
 public:
  // The view's `bits` is ignored: the route's own are passed on. Removing a
  // route never announced still tells the observer (with zero bits).
  void announce(RibObserver& observer, ChangeKind kind, RouteView view) {
    const auto key = std::make_pair(view.table, view.prefix);
    if (kind == ChangeKind::Removed) {
      auto it = routes_.find(key);
      if (it == routes_.end()) {
        ObserverBits none = 0;
        view.bits = &none;
        observer.route_changed(kind, view);
        return;
      }
      observer.route_changed(kind, it->second.view);
      routes_.erase(it);
      return;
    }
    Held& h = routes_[key];
    h.view = view;
    h.view.bits = &h.bits;
    observer.route_changed(kind, h.view);
  }
  // zebra sent the route again unchanged (RibObserver::route_confirmed).
  void confirm(RibObserver& observer, const RouteView& view) {
    auto it = routes_.find({view.table, view.prefix});
    if (it != routes_.end()) observer.route_confirmed(it->second.view);
  }
  // The route's observer bits, or null if it is not announced.
  const ObserverBits* bits(uint32_t table, const Prefix& prefix) const {
    auto it = routes_.find({table, prefix});
    return it == routes_.end() ? nullptr : &it->second.bits;
  }
  size_t size() const { return routes_.size(); }

  std::optional<RouteView> announced(uint32_t table, const Prefix& prefix) const override {
    auto it = routes_.find({table, prefix});
    if (it == routes_.end()) return std::nullopt;
    return it->second.view;
  }
  void for_each_announced(const std::function<void(const RouteView&)>& fn) const override {
    for (const auto& [key, h] : routes_) fn(h.view);
  }
  void for_each_announced_on(uint32_t group_id,
                             const std::function<void(const RouteView&)>& fn) const override {
    for (const auto& [key, h] : routes_)
      if (h.view.group_id == group_id) fn(h.view);
  }

 private:
  struct Held {
    RouteView view;
    ObserverBits bits = 0;
  };
  // std::map: nodes stay put, so the bits' address handed out stays valid.
  std::map<std::pair<uint32_t, Prefix>, Held> routes_;
};

}  // namespace fpm_sink
