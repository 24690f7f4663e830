// FibOffload, next-hop groups: a FibGroup becomes a forwarding group (an fpm_nhg
// slot with resilient buckets over refcounted next hops) or a kind the routes
// using it turn into drops or punts.
#include "dataplane/fib_offload.hpp"

#include <algorithm>

#include "dataplane/fib_offload_group.hpp"

namespace fpm_sink {

void FibOffload::reprogram_routes_of(uint32_t group_id) {
  // Only when a group changes kind (forward <-> drop / punt / failed) or
  // slot; a member change never gets here. The RIB walks the group's own
  // routes, so a group no route uses costs nothing.
  routes_.for_each_announced_on(group_id, [&](const RouteView& route) {
    if (route.type != RouteType::Unicast || !RouteState(*route.bits).programmed()) return;
    if (route.table == kMainTable)
      program(route);
    else
      program_vrf(vrf_tables_[route.table], route);
  });
}

void FibOffload::drop_group(Group& g) {
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

void FibOffload::sync_group(uint32_t id, Group& g, const FibGroup& fib) {
  const Group::Kind old_kind = g.kind;
  const std::optional<uint32_t> old_index = g.index;
  g.spec = fib;
  const GroupOutcome outcome = program_group(id, g, fib);
  g.kind = outcome.kind;
  g.fail_reason = outcome.reason;
  if (outcome.kind == Group::Kind::Failed)
    failed_groups_.insert(id);
  else
    failed_groups_.erase(id);

  if (outcome.kind == Group::Kind::Forward) {
    if (old_kind != Group::Kind::Forward || old_index != g.index) reprogram_routes_of(id);
    return;
  }
  // Routes first, then the group: never a route pointing at a freed index.
  if (old_kind != outcome.kind || old_index) {
    reprogram_routes_of(id);
  } else if (outcome.kind == Group::Kind::Punt) {
    // Still connected, maybe out of another port now: the host entries follow.
    routes_.for_each_announced_on(id, [&](const RouteView& route) {
      if (route.type == RouteType::Unicast && RouteState(*route.bits).programmed())
        track_connected(route, true);
    });
  }
  drop_group(g);
}

FibOffload::GroupOutcome FibOffload::program_group(uint32_t id, Group& g, const FibGroup& fib) {
  if (fib.blackhole) return {Group::Kind::Drop, OffloadReason::None};
  const bool forwardable =
      !fib.members.empty() && std::all_of(fib.members.begin(), fib.members.end(), [](auto& m) {
        return m.nh.gateway && m.nh.ifindex != 0 && !m.nh.blackhole;
      });
  if (!forwardable) return {Group::Kind::Punt, OffloadReason::None};

  // Acquire the new members before letting go of the old ones, so a next hop
  // staying in the group keeps its index (and its buckets).
  std::vector<uint32_t> refs;
  std::vector<BucketMember> members;
  refs.reserve(fib.members.size());
  auto release_refs = [&] {
    for (uint32_t r : refs) nexthops_.release(r);
  };
  for (const auto& m : fib.members) {
    auto nh = nexthops_.acquire({*m.nh.gateway, m.nh.ifindex});
    if (!nh) {
      release_refs();
      note(nh.error());
      return {Group::Kind::Failed, OffloadReason::NextHopFull};
    }
    refs.push_back(*nh);
    auto same = std::find_if(members.begin(), members.end(),
                             [&](const BucketMember& b) { return b.key == *nh; });
    if (same != members.end())
      same->weight += m.weight;
    else
      members.push_back({*nh, std::max<uint32_t>(m.weight, 1)});
  }

  const bool new_slot = !g.index;
  if (new_slot) {
    g.index = group_alloc_.allocate();
    if (!g.index) {
      release_refs();
      note(Error{"dataplane.group.full", "no free group index for group " + std::to_string(id),
                 ENOSPC});
      return {Group::Kind::Failed, OffloadReason::GroupFull};
    }
    g.buckets.fill(kNoMember);  // the slot may hold a previous owner's buckets
  }

  std::vector<uint32_t> bucket_vec(g.buckets.begin(), g.buckets.end());
  const auto changed = rebalance_buckets(bucket_vec, members);
  std::copy(bucket_vec.begin(), bucket_vec.end(), g.buckets.begin());
  stats_.bucket_writes += changed.size();
  Status written =
      writer_.write_buckets(*g.index, changed, g.buckets, static_cast<uint32_t>(members.size()));
  if (written && new_slot) written = writer_.publish_group(*g.index, FPM_NHG_F_VALID);
  if (!written) {
    note(written.error());
    // The buckets may name old and new members alike: drop_group releases both.
    g.nh_refs.insert(g.nh_refs.end(), refs.begin(), refs.end());
    return {Group::Kind::Failed, OffloadReason::WriteError};
  }
  // The buckets no longer name the old members: their references can go.
  for (uint32_t r : g.nh_refs) nexthops_.release(r);
  g.nh_refs = std::move(refs);
  return {Group::Kind::Forward, OffloadReason::None};
}

void FibOffload::group_changed(ChangeKind kind, const FibGroup& group) {
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

std::optional<uint32_t> FibOffload::group_index(uint32_t group_id) const {
  auto it = groups_.find(group_id);
  if (it == groups_.end()) return std::nullopt;
  return it->second->index;
}

void FibOffload::for_each_forwarding_group(const GroupUseFn& fn) const {
  for (const auto& [id, g] : groups_) {
    if (!g->index) continue;
    uint64_t routes = 0;
    routes_.for_each_announced_on(id, [&](const RouteView&) { ++routes; });
    fn(g->nh_refs, routes);
  }
}

}  // namespace fpm_sink
