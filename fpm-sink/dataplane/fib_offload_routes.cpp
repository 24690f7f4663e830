// FibOffload, routes: what each route becomes in the LPM tables (decide,
// program), capacity failures and their retries, and the offload state zebra
// is told (the offload-change queue).
#include "dataplane/fib_offload.hpp"

#include "dataplane/fib_offload_group.hpp"

namespace fpm_sink {

void FibOffload::count(const Prefix& prefix, const RouteRecord& rec, int64_t delta) {
  RouteStateCounts& fam = prefix.family() == Family::V4 ? stats_.routes_v4 : stats_.routes_v6;
  switch (rec.state) {
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

void FibOffload::program(const Prefix& prefix, RouteRecord& rec) {
  const Decision d = decide(rec.type, rec.group_id);
  count(prefix, rec, -1);
  ++stats_.route_writes;
  auto w = writer_.route_set(prefix, d.action);
  if (w && *w == RouteWrite::Installed) {
    rec.action = d.action;
    rec.state = d.state;
    rec.reason = d.reason;
    failed_routes_.erase(prefix);
  } else {
    // The table punted the range (NoSpace) or the write failed: either way
    // the kernel forwards it and poll() tries again.
    if (!w) note(w.error());
    rec.action = fpm_act_make(FPM_ACT_PUNT, FPM_REASON_OFFLOAD_FAILED);
    rec.state = OffloadState::Failed;
    rec.reason = w ? OffloadReason::LpmFull : OffloadReason::WriteError;
    failed_routes_.insert(prefix);
  }
  count(prefix, rec, +1);
  track_connected(prefix, &rec);
  // A retry that fails again, or a reprogramming that changes nothing zebra
  // sees, needs no new reply (route_changed() answers what zebra sent).
  if ((rec.reply & ~kReplyDue) != static_cast<uint8_t>(rec.state) + 1)
    reply_due(kMainTable, prefix, rec);
  if (w && *w == RouteWrite::NoSpace) fail_routes_in_punted_ranges();
}

void FibOffload::fail_routes_in_punted_ranges() {
  // A punted range takes down the routes already installed inside it (e.g. a
  // /24 whose /25 found no tbl8 group). Shorter routes covering the range keep
  // their state: they still forward everywhere else. poll() retries these
  // like any failed route, so they come back once the range is rebuilt.
  for (const Prefix& range : writer_.take_punted_ranges()) {
    main_.for_each_within(range, [&](const Prefix& p, RouteRecord& rec) {
      if (rec.state != OffloadState::Installed) return;
      count(p, rec, -1);
      rec.action = fpm_act_make(FPM_ACT_PUNT, FPM_REASON_OFFLOAD_FAILED);
      rec.state = OffloadState::Failed;
      rec.reason = OffloadReason::LpmFull;
      failed_routes_.insert(p);
      count(p, rec, +1);
      reply_due(kMainTable, p, rec);
      track_connected(p, &rec);
    });
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
    RouteRecord* rec = main_.find(route.prefix);
    if (!rec) return;
    remove_route(route.prefix, *rec);
    main_.erase(route.prefix);
    return;
  }

  auto [slot, fresh] = main_.try_emplace(route.prefix);
  RouteRecord& rec = *slot;
  if (fresh) {
    rec.state = OffloadState::NotOffloaded;
    count(route.prefix, rec, +1);  // program() moves it to its real state
  }
  const uint32_t new_group = route.type == RouteType::Unicast ? route.group_id : 0;
  if (!fresh && rec.group_id != new_group) {
    if (auto g = groups_.find(rec.group_id); g != groups_.end()) --g->second->routes;
  }
  if (fresh || rec.group_id != new_group) {
    if (auto g = groups_.find(new_group); g != groups_.end()) ++g->second->routes;
  }
  rec.group_id = new_group;
  rec.type = route.type;
  program(route.prefix, rec);
  reply_due(kMainTable, route.prefix, rec);  // zebra sent it: it waits for an answer
}

void FibOffload::route_confirmed(const RouteView& route) {
  if (!offload_changes_.enabled()) return;
  if (RouteRecord* rec = find_record(route.table, route.prefix))
    reply_due(route.table, route.prefix, *rec);
}

FibOffload::RouteRecord* FibOffload::find_record(uint32_t table, const Prefix& prefix) {
  if (table == kMainTable) return main_.find(prefix);
  auto it = other_.find({table, prefix});
  return it == other_.end() ? nullptr : &it->second;
}

void FibOffload::reply_due(uint32_t table, const Prefix& prefix, RouteRecord& rec) {
  if (!offload_changes_.enabled() || (rec.reply & kReplyDue)) return;
  rec.reply |= kReplyDue;
  offload_changes_.push(RouteKey{table, prefix});
  if (!offload_changes_.bloated(main_.size() + other_.size())) return;
  // Churn left more removed routes' entries than there are routes: rebuild.
  offload_changes_.clear();
  main_.for_each([this](const Prefix& p, RouteRecord& r) {
    if (r.reply & kReplyDue) offload_changes_.push(RouteKey{kMainTable, p});
  });
  for (auto& [key, r] : other_)
    if (r.reply & kReplyDue) offload_changes_.push(RouteKey{key.first, key.second});
}

size_t FibOffload::take_offload_changes(size_t max, const OffloadChangeFn& fn) {
  size_t taken = 0;
  while (taken < max) {
    const RouteKey* key = offload_changes_.next();
    if (!key) break;
    RouteRecord* rec = find_record(key->table, key->prefix);
    if (!rec || !(rec->reply & kReplyDue)) continue;  // removed, or re-queued later
    rec->reply &= static_cast<uint8_t>(~kReplyDue);
    // zebra keeps a route entry's RTM_F_TRAP until the entry is replaced (a
    // later reply without it does not clear it), so a punt that only lasts
    // until the route settles is not reported: program() queues the route
    // again once its group arrives or the hold ends.
    if (rec->state == OffloadState::NotOffloaded &&
        (rec->reason == OffloadReason::PendingGroup || rec->reason == OffloadReason::HoldExpired))
      continue;
    rec->reply = static_cast<uint8_t>(static_cast<uint8_t>(rec->state) + 1);
    fn(*key, RouteOffload{rec->state, rec->reason, rec->action, rec->state});
    ++taken;
  }
  return taken;
}

void FibOffload::drop_offload_changes() {
  offload_changes_.clear();
  main_.for_each([](const Prefix&, RouteRecord& r) { r.reply = 0; });
  for (auto& [key, r] : other_) r.reply = 0;
}

void FibOffload::prefetch_route(uint32_t table, const Prefix& prefix) const {
  if (table != kMainTable) return;
  main_.prefetch(prefix);
  writer_.prefetch_route(prefix);
}

void FibOffload::track_connected(const Prefix& prefix, const RouteRecord* rec) {
  std::optional<uint32_t> port;
  if (rec && rec->action == fpm_act_make(FPM_ACT_PUNT, FPM_REASON_CONNECTED)) {
    // One port, no gateway: the kernel sends each host out of it. A group
    // spanning several ports (or mixing gateways) stays with the kernel.
    if (auto g = groups_.find(rec->group_id); g != groups_.end()) {
      for (const auto& m : g->second->spec.members) {
        if (m.nh.gateway || m.nh.ifindex == 0 || (port && *port != m.nh.ifindex)) {
          port.reset();
          break;
        }
        port = m.nh.ifindex;
      }
    }
  }
  if (auto s = hosts_.set_connected(prefix, port); !s) note(s.error());
}

void FibOffload::remove_route(const Prefix& prefix, RouteRecord& rec) {
  // Host entries first: they are only reachable behind this route's punt.
  track_connected(prefix, nullptr);
  ++stats_.route_writes;
  if (auto s = writer_.route_remove(prefix); !s) note(s.error());
  if (auto g = groups_.find(rec.group_id); g != groups_.end()) --g->second->routes;
  failed_routes_.erase(prefix);
  count(prefix, rec, -1);
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
    RouteRecord* rec = main_.find(prefix);
    if (!rec) {
      failed_routes_.erase(prefix);
      continue;
    }
    ++tried;
    ++stats_.retries;
    program(prefix, *rec);
    installed += rec->state != OffloadState::Failed;
  }
  return installed;
}

std::optional<RouteOffload> FibOffload::offload_state(uint32_t table, const Prefix& prefix) const {
  const RouteRecord* rec = nullptr;
  if (table == kMainTable) {
    rec = main_.find(prefix);
  } else if (auto it = other_.find({table, prefix}); it != other_.end()) {
    rec = &it->second;
  }
  if (!rec) return std::nullopt;
  std::optional<OffloadState> reported;
  if (const uint8_t told = rec->reply & ~kReplyDue) reported = static_cast<OffloadState>(told - 1);
  return RouteOffload{rec->state, rec->reason, rec->action, reported};
}

}  // namespace fpm_sink
