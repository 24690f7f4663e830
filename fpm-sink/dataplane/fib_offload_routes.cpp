// FibOffload, routes: what each route becomes in the LPM tables (decide,
// program), capacity failures and their retries, and the offload state zebra
// is told (the offload-change queue).
#include "dataplane/fib_offload.hpp"

#include "dataplane/fib_offload_group.hpp"

namespace fpm_sink {

void FibOffload::count(const RouteView& route, int64_t delta) {
  const RouteState rs(*route.bits);
  if (!rs.programmed()) return;
  RouteStateCounts& fam = route.prefix.family() == Family::V4 ? stats_.routes_v4 : stats_.routes_v6;
  switch (rs.state()) {
    case OffloadState::Installed:
      stats_.routes_installed += delta;
      fam.installed += delta;
      break;
    case OffloadState::Failed:
      stats_.routes_failed += delta;
      fam.failed += delta;
      break;
    case OffloadState::NotOffloaded:
      stats_.routes_not_offloaded += delta;
      fam.not_offloaded += delta;
      break;
  }
}

uint64_t FibOffload::routes_programmed() const {
  return stats_.routes_installed + stats_.routes_failed + stats_.routes_not_offloaded;
}

FibOffload::Decision FibOffload::decide(RouteType type, uint32_t group_id) const {
  auto punt = [](uint32_t reason, OffloadState s, OffloadReason r) {
    return Decision{fpm_act_make(FPM_ACT_PUNT, reason), s, r};
  };
  // No zebra vouches for the route any more: the kernel decides, whatever the type.
  if (withheld_)
    return punt(FPM_REASON_OFFLOAD_FAILED, OffloadState::NotOffloaded, OffloadReason::HoldExpired);
  if (incomplete_)
    return punt(FPM_REASON_OFFLOAD_FAILED, OffloadState::Failed, OffloadReason::RouteLimit);
  switch (type) {
    case RouteType::Blackhole:
      return {fpm_act_make(FPM_ACT_DROP, 0), OffloadState::Installed, OffloadReason::None};
    case RouteType::Unreachable:
      return punt(FPM_REASON_UNREACHABLE, OffloadState::NotOffloaded,
                  OffloadReason::KernelRouteType);
    case RouteType::Prohibit:
      return punt(FPM_REASON_PROHIBIT, OffloadState::NotOffloaded, OffloadReason::KernelRouteType);
    case RouteType::Local:
      return punt(FPM_REASON_LOCAL, OffloadState::NotOffloaded, OffloadReason::KernelRouteType);
    case RouteType::Other:
      return punt(FPM_REASON_NO_ROUTE, OffloadState::NotOffloaded, OffloadReason::KernelRouteType);
    case RouteType::Unicast:
      break;
  }
  // The RIB announces routes waiting for their group with group_id 0: their
  // range must reach the kernel, never a less specific route of ours.
  if (group_id == 0)
    return punt(FPM_REASON_OFFLOAD_FAILED, OffloadState::NotOffloaded, OffloadReason::PendingGroup);
  auto it = groups_.find(group_id);
  if (it == groups_.end())
    return punt(FPM_REASON_OFFLOAD_FAILED, OffloadState::Failed, OffloadReason::UnknownGroup);
  const Group& g = *it->second;
  switch (g.kind) {
    case Group::Kind::Forward:
      return {fpm_act_make(FPM_ACT_FORWARD, *g.index), OffloadState::Installed,
              OffloadReason::None};
    case Group::Kind::Drop:
      return {fpm_act_make(FPM_ACT_DROP, 0), OffloadState::Installed, OffloadReason::None};
    case Group::Kind::Punt:
      return punt(FPM_REASON_CONNECTED, OffloadState::NotOffloaded, OffloadReason::Connected);
    case Group::Kind::Failed:
      break;
  }
  return punt(FPM_REASON_OFFLOAD_FAILED, OffloadState::Failed, g.fail_reason);
}

void FibOffload::program(const RouteView& route) {
  RouteState rs(*route.bits);
  const Decision d = decide(route.type, route.group_id);
  count(route, -1);
  ++stats_.route_writes;
  auto w = writer_.route_set(route.prefix, d.action);
  if (w && *w == RouteWrite::Installed) {
    rs.set(d.state, d.reason);
    failed_routes_.erase(route.prefix);
  } else {
    // The table punted the range (NoSpace) or the write failed: either way
    // the kernel forwards it and poll() tries again.
    if (!w) note(w.error());
    rs.set(OffloadState::Failed, w ? OffloadReason::LpmFull : OffloadReason::WriteError);
    failed_routes_.insert(route.prefix);
  }
  count(route, +1);
  track_connected(route, true);
  // A retry that fails again, or a reprogramming that changes nothing zebra
  // sees, needs no new reply (route_changed() answers what zebra sent).
  if (rs.told() != rs.state()) reply_due(route);
  if (w && *w == RouteWrite::NoSpace) fail_routes_in_punted_ranges();
}

void FibOffload::fail_routes_in_punted_ranges() {
  // A punted range takes down the routes already installed inside it (e.g. a
  // /24 whose /25 found no tbl8 group). Shorter routes covering the range keep
  // their state: they still forward everywhere else. poll() retries these
  // like any failed route, so they come back once the range is rebuilt.
  for (const Prefix& prefix : writer_.take_punted_routes()) {
    const auto route = routes_.announced(kMainTable, prefix);
    if (!route) continue;
    RouteState rs(*route->bits);
    if (!rs.programmed() || rs.state() != OffloadState::Installed) continue;
    count(*route, -1);
    rs.set(OffloadState::Failed, OffloadReason::LpmFull);
    failed_routes_.insert(prefix);
    count(*route, +1);
    reply_due(*route);
    track_connected(*route, true);
  }
}

void FibOffload::set_withheld(bool withheld) {
  if (withheld == withheld_) return;
  withheld_ = withheld;
  reprogram_all();
}

void FibOffload::routes_refused() {
  if (incomplete_) return;
  incomplete_ = true;
  last_error_ = Error{"dataplane.route_limit",
                      "the RIB refused a route (--max-routes): every route punts to the "
                      "kernel until fpm-sink restarts with a higher limit"};
  reprogram_all();
}

void FibOffload::route_changed(ChangeKind kind, const RouteView& route) {
  if (route.table != kMainTable) {
    vrf_route_changed(kind, route);
    return;
  }
  if (kind == ChangeKind::Removed) {
    if (RouteState(*route.bits).programmed()) remove_route(route);
    return;
  }
  program(route);
  reply_due(route);  // zebra sent it: it waits for an answer
}

void FibOffload::route_confirmed(const RouteView& route) {
  if (offload_changes_.enabled() && RouteState(*route.bits).programmed()) reply_due(route);
}

void FibOffload::reply_due(const RouteView& route) {
  RouteState rs(*route.bits);
  if (!offload_changes_.enabled() || rs.reply_due()) return;
  rs.set_reply_due(true);
  offload_changes_.push(RouteKey{route.table, route.prefix});
  if (!offload_changes_.bloated(routes_programmed())) return;
  // Churn left more removed routes' entries than there are routes: rebuild.
  offload_changes_.clear();
  routes_.for_each_announced([this](const RouteView& r) {
    if (RouteState(*r.bits).reply_due()) offload_changes_.push(RouteKey{r.table, r.prefix});
  });
}

size_t FibOffload::take_offload_changes(size_t max, const OffloadChangeFn& fn) {
  size_t taken = 0;
  while (taken < max) {
    const RouteKey* key = offload_changes_.next();
    if (!key) break;
    const auto route = routes_.announced(key->table, key->prefix);
    if (!route) continue;  // removed
    RouteState rs(*route->bits);
    if (!rs.reply_due()) continue;  // re-queued later
    rs.set_reply_due(false);
    // zebra keeps a route entry's RTM_F_TRAP until the entry is replaced (a
    // later reply without it does not clear it), so a punt that only lasts
    // until the route settles is not reported: program() queues the route
    // again once its group arrives or the hold ends.
    if (rs.state() == OffloadState::NotOffloaded &&
        (rs.reason() == OffloadReason::PendingGroup || rs.reason() == OffloadReason::HoldExpired))
      continue;
    rs.set_told(rs.state());
    fn(*key, RouteOffload{rs.state(), rs.reason(), held_action(*route), rs.state()});
    ++taken;
  }
  return taken;
}

void FibOffload::drop_offload_changes() {
  offload_changes_.clear();
  routes_.for_each_announced([](const RouteView& r) {
    RouteState rs(*r.bits);
    rs.set_reply_due(false);
    rs.set_told(std::nullopt);
  });
}

void FibOffload::prefetch_route(uint32_t table, const Prefix& prefix) const {
  if (table == kMainTable) writer_.prefetch_route(prefix);
}

void FibOffload::track_connected(const RouteView& route, bool present) {
  std::optional<uint32_t> port;
  const RouteState rs(*route.bits);
  if (present && rs.state() == OffloadState::NotOffloaded &&
      rs.reason() == OffloadReason::Connected) {
    // One port, no gateway: the kernel sends each host out of it. A group
    // spanning several ports (or mixing gateways) stays with the kernel.
    if (auto g = groups_.find(route.group_id); g != groups_.end()) {
      for (const auto& m : g->second->spec.members) {
        if (m.nh.gateway || m.nh.ifindex == 0 || (port && *port != m.nh.ifindex)) {
          port.reset();
          break;
        }
        port = m.nh.ifindex;
      }
    }
  }
  if (auto s = hosts_.set_connected(route.table, route.prefix, port); !s) note(s.error());
}

void FibOffload::remove_route(const RouteView& route) {
  // Host entries first: they are only reachable behind this route's punt.
  track_connected(route, false);
  ++stats_.route_writes;
  if (auto s = writer_.route_remove(route.prefix); !s) note(s.error());
  failed_routes_.erase(route.prefix);
  count(route, -1);
}

size_t FibOffload::poll() {
  // Groups first: their routes follow through reprogram_routes_of().
  for (auto ids = failed_groups_; uint32_t id : ids) {
    auto it = groups_.find(id);
    if (it == groups_.end()) {
      failed_groups_.erase(id);
      continue;
    }
    Group& g = *it->second;
    const FibGroup spec = g.spec;
    sync_group(id, g, spec);
  }
  // Always: a punted range can outlive the routes that failed in it (they
  // were withdrawn) and still punts the shorter routes around it.
  writer_.route_retry();
  fail_routes_in_punted_ranges();
  vrf_retry();
  size_t installed = 0, tried = 0;
  for (auto it = failed_routes_.begin();
       it != failed_routes_.end() && tried < config_.retry_batch;) {
    const Prefix prefix = *it++;  // program() may erase the current element
    const auto route = routes_.announced(kMainTable, prefix);
    if (!route) {
      failed_routes_.erase(prefix);
      continue;
    }
    ++tried;
    ++stats_.retries;
    program(*route);
    installed += RouteState(*route->bits).state() != OffloadState::Failed;
  }
  return installed;
}

std::optional<RouteOffload> FibOffload::offload_state(uint32_t table, const Prefix& prefix) const {
  const auto route = routes_.announced(table, prefix);
  if (!route) return std::nullopt;
  const RouteState rs(*route->bits);
  if (!rs.programmed()) return std::nullopt;
  return RouteOffload{rs.state(), rs.reason(), held_action(*route), rs.told()};
}

uint32_t FibOffload::held_action(const RouteView& route) const {
  const RouteState rs(*route.bits);
  if (route.table != kMainTable) {
    auto t = vrf_tables_.find(route.table);
    if (t == vrf_tables_.end() || !t->second.slot) return 0;
    // An overflowed table's tries are not read: its ports punt every frame.
    if (t->second.overflowed) return fpm_act_make(FPM_ACT_PUNT, FPM_REASON_NO_TABLE);
  }
  // Routes are rewritten as soon as what decide() reads changes (a group's
  // kind or index, the hold, the route limit), so a route that is not failed
  // holds what decide() says now; a failed one's range punts.
  if (rs.state() == OffloadState::Failed)
    return fpm_act_make(FPM_ACT_PUNT, FPM_REASON_OFFLOAD_FAILED);
  return decide(route.type, route.group_id).action;
}

}  // namespace fpm_sink
