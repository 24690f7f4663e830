#include "dataplane/fast_path.hpp"

#include <algorithm>
#include <cstring>

#include "dataplane/resilient_buckets.hpp"

namespace fpm_sink {

std::string_view to_string(OffloadState s) {
  switch (s) {
    case OffloadState::Installed:
      return "installed";
    case OffloadState::Failed:
      return "failed";
    case OffloadState::NotOffloaded:
      return "not-offloaded";
  }
  return "?";
}

std::string_view to_string(OffloadReason r) {
  switch (r) {
    case OffloadReason::None:
      return "none";
    case OffloadReason::LpmFull:
      return "lpm-full";
    case OffloadReason::GroupFull:
      return "group-table-full";
    case OffloadReason::NextHopFull:
      return "nexthop-table-full";
    case OffloadReason::WriteError:
      return "write-error";
    case OffloadReason::UnknownGroup:
      return "unknown-group";
    case OffloadReason::NotMainTable:
      return "not-main-table";
    case OffloadReason::KernelRouteType:
      return "kernel-route-type";
    case OffloadReason::Connected:
      return "connected";
    case OffloadReason::PendingGroup:
      return "pending-group";
    case OffloadReason::HoldExpired:
      return "hold-expired";
    case OffloadReason::RouteLimit:
      return "route-limit";
  }
  return "?";
}

struct FastPath::Group {
  // Punt: some member has no gateway (connected: the kernel resolves each
  // host) or mixes blackhole with gateways; the kernel forwards such groups.
  enum class Kind : uint8_t { Forward, Drop, Punt, Failed };
  Kind kind = Kind::Failed;
  OffloadReason fail_reason = OffloadReason::None;
  std::optional<uint32_t> index;  // fpm_nhg slot while forwarding
  std::array<uint32_t, FPM_NHG_BUCKETS> buckets;
  std::vector<uint32_t> nh_refs;  // one acquire() per member, released on change
  FibGroup spec;                  // kept to retry after a capacity failure
  uint64_t routes = 0;            // main-table routes pointing at it

  Group() { buckets.fill(kNoMember); }
};

FastPath::FastPath(const FastPathConfig& config, MapWriter& writer,
                   const NeighbourSource& neighbours, const LinkSource& links)
    : config_(config),
      writer_(writer),
      links_(links),
      nexthops_(writer, neighbours, links,
                IndexAllocator(0, config.max_nexthops, config.index_grace, config.clock)),
      group_alloc_(0, config.max_groups, config.index_grace, config.clock),
      // Counter slots carry no forwarding state, so they need no quarantine.
      port_alloc_(0, config.max_ports, std::chrono::nanoseconds(0), config.clock) {}

FastPath::~FastPath() = default;

void FastPath::reserve(size_t v4_routes, size_t v6_routes) {
  main_.reserve(v4_routes, v6_routes);
  writer_.reserve_routes(v4_routes, v6_routes);
}

void FastPath::hold_indices(std::span<const uint32_t> groups, std::span<const uint32_t> nexthops) {
  group_alloc_.hold(groups);
  nexthops_.hold(nexthops);
}

void FastPath::release_held() {
  group_alloc_.release_held();
  nexthops_.release_held();
}

void FastPath::note(Error e) {
  ++stats_.write_errors;
  last_error_ = std::move(e);
}

void FastPath::count(const RouteRecord& rec, int64_t delta) {
  switch (rec.state) {
    case OffloadState::Installed:
      stats_.routes_installed += delta;
      break;
    case OffloadState::Failed:
      stats_.routes_failed += delta;
      break;
    case OffloadState::NotOffloaded:
      stats_.routes_not_offloaded += delta;
      break;
  }
}

FastPath::Decision FastPath::decide(RouteType type, uint32_t group_id) const {
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

void FastPath::program(const Prefix& prefix, RouteRecord& rec) {
  const Decision d = decide(rec.type, rec.group_id);
  count(rec, -1);
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
  count(rec, +1);
  // A retry that fails again, or a reprogramming that changes nothing zebra
  // sees, needs no new reply (route_changed() answers what zebra sent).
  if ((rec.reply & ~kReplyDue) != static_cast<uint8_t>(rec.state) + 1)
    reply_due(kMainTable, prefix, rec);
  if (w && *w == RouteWrite::NoSpace) fail_routes_in_punted_ranges();
}

void FastPath::fail_routes_in_punted_ranges() {
  // A punted range takes down the routes already installed inside it (e.g. a
  // /24 whose /25 found no tbl8 group). Shorter routes covering the range keep
  // their state: they still forward everywhere else. poll() retries these
  // like any failed route, so they come back once the range is rebuilt.
  for (const Prefix& range : writer_.take_punted_ranges()) {
    main_.for_each_within(range, [&](const Prefix& p, RouteRecord& rec) {
      if (rec.state != OffloadState::Installed) return;
      count(rec, -1);
      rec.action = fpm_act_make(FPM_ACT_PUNT, FPM_REASON_OFFLOAD_FAILED);
      rec.state = OffloadState::Failed;
      rec.reason = OffloadReason::LpmFull;
      failed_routes_.insert(p);
      count(rec, +1);
      reply_due(kMainTable, p, rec);
    });
  }
}

void FastPath::set_withheld(bool withheld) {
  if (withheld == withheld_) return;
  withheld_ = withheld;
  main_.for_each([this](const Prefix& prefix, RouteRecord& rec) { program(prefix, rec); });
}

void FastPath::routes_refused() {
  if (incomplete_) return;
  incomplete_ = true;
  last_error_ = Error{"dataplane.route_limit",
                      "the RIB refused a route (--max-routes): every route punts to the "
                      "kernel until fpm-sink restarts with a higher limit"};
  main_.for_each([this](const Prefix& prefix, RouteRecord& rec) { program(prefix, rec); });
}

void FastPath::route_changed(ChangeKind kind, const RouteView& route) {
  if (route.table != kMainTable) {
    const auto key = std::make_pair(route.table, route.prefix);
    if (kind == ChangeKind::Removed) {
      if (auto it = other_.find(key); it != other_.end()) {
        count(it->second, -1);
        other_.erase(it);
      }
      return;
    }
    auto [it, fresh] = other_.try_emplace(key);
    RouteRecord& rec = it->second;
    if (!fresh) count(rec, -1);
    rec.group_id = route.group_id;
    rec.type = route.type;
    rec.state = OffloadState::NotOffloaded;
    rec.reason = OffloadReason::NotMainTable;
    count(rec, +1);
    reply_due(route.table, route.prefix, rec);
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
    count(rec, +1);  // program() moves it to its real state
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

void FastPath::route_confirmed(const RouteView& route) {
  if (!offload_changes_.enabled()) return;
  if (RouteRecord* rec = find_record(route.table, route.prefix))
    reply_due(route.table, route.prefix, *rec);
}

FastPath::RouteRecord* FastPath::find_record(uint32_t table, const Prefix& prefix) {
  if (table == kMainTable) return main_.find(prefix);
  auto it = other_.find({table, prefix});
  return it == other_.end() ? nullptr : &it->second;
}

void FastPath::reply_due(uint32_t table, const Prefix& prefix, RouteRecord& rec) {
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

size_t FastPath::take_offload_changes(size_t max, const OffloadChangeFn& fn) {
  size_t taken = 0;
  while (taken < max) {
    const RouteKey* key = offload_changes_.next();
    if (!key) break;
    RouteRecord* rec = find_record(key->table, key->prefix);
    if (!rec || !(rec->reply & kReplyDue)) continue;  // removed, or re-queued later
    rec->reply = static_cast<uint8_t>(static_cast<uint8_t>(rec->state) + 1);
    fn(*key, RouteOffload{rec->state, rec->reason, rec->action, rec->state});
    ++taken;
  }
  return taken;
}

void FastPath::drop_offload_changes() {
  offload_changes_.clear();
  main_.for_each([](const Prefix&, RouteRecord& r) { r.reply = 0; });
  for (auto& [key, r] : other_) r.reply = 0;
}

void FastPath::prefetch_route(uint32_t table, const Prefix& prefix) const {
  if (table != kMainTable) return;
  main_.prefetch(prefix);
  writer_.prefetch_route(prefix);
}

void FastPath::remove_route(const Prefix& prefix, RouteRecord& rec) {
  ++stats_.route_writes;
  if (auto s = writer_.route_remove(prefix); !s) note(s.error());
  if (auto g = groups_.find(rec.group_id); g != groups_.end()) --g->second->routes;
  failed_routes_.erase(prefix);
  count(rec, -1);
}

void FastPath::reprogram_routes_of(uint32_t group_id) {
  auto g = groups_.find(group_id);
  if (g == groups_.end() || g->second->routes == 0) return;
  // Only when a group changes kind (forward <-> drop / punt / failed), which
  // is rare; a member change never gets here.
  main_.for_each([&](const Prefix& prefix, RouteRecord& rec) {
    if (rec.group_id == group_id && rec.type == RouteType::Unicast) program(prefix, rec);
  });
}

void FastPath::drop_group(Group& g) {
  if (g.index) {
    // Routes have already moved off the group; XDP may still hold its index
    // for one run, hence the quarantine in release().
    if (auto s = writer_.publish_group(*g.index, 0); !s) note(s.error());
    group_alloc_.release(*g.index);
    g.index.reset();
  }
  for (uint32_t nh : g.nh_refs) nexthops_.release(nh);
  g.nh_refs.clear();
  g.buckets.fill(kNoMember);
}

void FastPath::sync_group(uint32_t id, Group& g, const FibGroup& fib) {
  const Group::Kind old_kind = g.kind;
  const std::optional<uint32_t> old_index = g.index;
  g.spec = fib;

  auto leave_forwarding = [&](Group::Kind kind, OffloadReason reason) {
    g.kind = kind;
    g.fail_reason = reason;
    if (kind == Group::Kind::Failed)
      failed_groups_.insert(id);
    else
      failed_groups_.erase(id);
    // Routes first, then the group: never a route pointing at a freed index.
    if (old_kind != kind || old_index) reprogram_routes_of(id);
    drop_group(g);
  };

  if (fib.blackhole) return leave_forwarding(Group::Kind::Drop, OffloadReason::None);
  const bool forwardable =
      !fib.members.empty() && std::all_of(fib.members.begin(), fib.members.end(), [](auto& m) {
        return m.nh.gateway && m.nh.ifindex != 0 && !m.nh.blackhole;
      });
  if (!forwardable) return leave_forwarding(Group::Kind::Punt, OffloadReason::None);

  // Acquire the new members before letting go of the old ones, so a next hop
  // staying in the group keeps its index (and its buckets).
  std::vector<uint32_t> refs;
  std::vector<BucketMember> members;
  refs.reserve(fib.members.size());
  for (const auto& m : fib.members) {
    auto nh = nexthops_.acquire({*m.nh.gateway, m.nh.ifindex});
    if (!nh) {
      for (uint32_t r : refs) nexthops_.release(r);
      note(nh.error());
      return leave_forwarding(Group::Kind::Failed, OffloadReason::NextHopFull);
    }
    refs.push_back(*nh);
    auto same = std::find_if(members.begin(), members.end(),
                             [&](const BucketMember& b) { return b.key == *nh; });
    if (same != members.end())
      same->weight += m.weight;
    else
      members.push_back({*nh, std::max<uint32_t>(m.weight, 1)});
  }

  if (!g.index) {
    g.index = group_alloc_.allocate();
    if (!g.index) {
      for (uint32_t r : refs) nexthops_.release(r);
      note(Error{"dataplane.group.full", "no free group index for group " + std::to_string(id),
                 ENOSPC});
      return leave_forwarding(Group::Kind::Failed, OffloadReason::GroupFull);
    }
    g.buckets.fill(kNoMember);  // the slot may hold a previous owner's buckets
  }

  std::vector<uint32_t> bucket_vec(g.buckets.begin(), g.buckets.end());
  const auto changed = rebalance_buckets(bucket_vec, members);
  std::copy(bucket_vec.begin(), bucket_vec.end(), g.buckets.begin());
  stats_.bucket_writes += changed.size();
  Status written =
      writer_.write_buckets(*g.index, changed, g.buckets, static_cast<uint32_t>(members.size()));
  if (written && !old_index) written = writer_.publish_group(*g.index, FPM_NHG_F_VALID);
  if (!written) {
    note(written.error());
    g.nh_refs.insert(g.nh_refs.end(), refs.begin(), refs.end());
    return leave_forwarding(Group::Kind::Failed, OffloadReason::WriteError);
  }
  // The buckets no longer name the old members: their references can go.
  for (uint32_t r : g.nh_refs) nexthops_.release(r);
  g.nh_refs = std::move(refs);
  g.kind = Group::Kind::Forward;
  g.fail_reason = OffloadReason::None;
  failed_groups_.erase(id);
  if (old_kind != Group::Kind::Forward || old_index != g.index) reprogram_routes_of(id);
}

void FastPath::group_changed(ChangeKind kind, const FibGroup& group) {
  if (kind == ChangeKind::Removed) {
    auto it = groups_.find(group.id);
    if (it == groups_.end()) return;
    drop_group(*it->second);
    failed_groups_.erase(group.id);
    groups_.erase(it);
    return;
  }
  auto& slot = groups_[group.id];
  if (!slot) slot = std::make_unique<Group>();
  sync_group(group.id, *slot, group);
}

Result<size_t> FastPath::neighbour_changed(const IpAddr& gateway, uint32_t ifindex) {
  auto r = nexthops_.refresh_neighbour(gateway, ifindex);
  if (r) stats_.nexthop_refreshes += *r;
  return r;
}

Status FastPath::refresh_port(uint32_t ifindex) {
  auto it = port_entries_.find(ifindex);
  if (it == port_entries_.end()) return ok_status();
  const fpm_iface fresh =
      port_entry(ifindex, it->second.slot, it->second.flags & (FPM_IFACE_F_V4 | FPM_IFACE_F_V6));
  if (std::memcmp(&fresh, &it->second, sizeof fresh) == 0) return ok_status();
  if (auto s = writer_.write_iface(ifindex, fresh); !s) return s;
  it->second = fresh;
  return ok_status();
}

Result<size_t> FastPath::link_changed(uint32_t ifindex) {
  // The XDP program routes only frames sent to the port's own MAC: follow its changes.
  if (auto s = refresh_port(ifindex); !s) return s.error();
  auto r = nexthops_.refresh_link(ifindex);
  if (r) stats_.nexthop_refreshes += *r;
  return r;
}

Status FastPath::add_port(uint32_t ifindex, bool v4, bool v6) {
  auto it = ports_.find(ifindex);
  uint32_t slot;
  if (it != ports_.end()) {
    slot = it->second;
  } else {
    auto s = port_alloc_.allocate();
    if (!s)
      return Error{"dataplane.port.full",
                   "no free port slot for ifindex " + std::to_string(ifindex), ENOSPC};
    slot = *s;
  }
  const fpm_iface iface = port_entry(
      ifindex, slot, static_cast<uint16_t>((v4 ? FPM_IFACE_F_V4 : 0) | (v6 ? FPM_IFACE_F_V6 : 0)));
  // Egress first: a port must be a redirect target before traffic may enter it.
  if (auto s = writer_.add_tx_port(ifindex); !s) {
    if (it == ports_.end()) port_alloc_.release(slot);
    return s;
  }
  if (auto s = writer_.write_iface(ifindex, iface); !s) {
    if (it == ports_.end()) port_alloc_.release(slot);
    return s;
  }
  ports_[ifindex] = slot;
  port_entries_[ifindex] = iface;
  return ok_status();
}

fpm_iface FastPath::port_entry(uint32_t ifindex, uint32_t slot, uint16_t flags) const {
  fpm_iface iface{};
  iface.slot = slot;
  iface.table_slot = FPM_TABLE_SLOT_MAIN;
  iface.flags = flags;
  // Without a known MAC the entry stays all-zero there and matches no unicast frame: punts.
  if (auto l = links_.link(ifindex)) {
    iface.mtu = l->mtu;
    std::copy(l->mac.begin(), l->mac.end(), iface.mac);
    // Until VRF tables exist, a port with any master punts every frame to it.
    if (l->master) iface.flags |= FPM_IFACE_F_ENSLAVED;
    if (l->forward_v4) iface.flags |= FPM_IFACE_F_FWD4;
    if (l->forward_v6) iface.flags |= FPM_IFACE_F_FWD6;
  }
  return iface;
}

Status FastPath::remove_port(uint32_t ifindex) {
  auto it = ports_.find(ifindex);
  if (it == ports_.end()) return ok_status();
  Status a = writer_.remove_iface(ifindex);
  Status b = writer_.remove_tx_port(ifindex);
  port_alloc_.release(it->second);
  ports_.erase(it);
  port_entries_.erase(ifindex);
  if (!a) return a;
  return b;
}

size_t FastPath::poll() {
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

std::optional<RouteOffload> FastPath::offload_state(uint32_t table, const Prefix& prefix) const {
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

std::optional<uint32_t> FastPath::group_index(uint32_t group_id) const {
  auto it = groups_.find(group_id);
  if (it == groups_.end()) return std::nullopt;
  return it->second->index;
}

FastPathStats FastPath::stats() const {
  FastPathStats s = stats_;
  s.groups = groups_.size();
  s.groups_forwarding = group_alloc_.in_use();
  s.nexthops = nexthops_.size();
  return s;
}

}  // namespace fpm_sink
