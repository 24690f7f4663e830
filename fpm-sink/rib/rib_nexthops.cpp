// Next-hop objects, their completeness, and interned inline next-hop sets.
#include <algorithm>
#include <cerrno>
#include <string>

#include "rib/rib_impl.hpp"

namespace fpm_sink {

namespace {

const std::vector<NexthopGroupMember>* group_members(const NexthopAdd& spec) {
  return std::get_if<std::vector<NexthopGroupMember>>(&spec.body);
}

bool same_nexthop(const NexthopAdd& a, const NexthopAdd& b) {
  // `replace` is informational: adds are upserts.
  return a.id == b.id && a.protocol == b.protocol && a.family == b.family && a.body == b.body;
}

bool same_fib(const FibGroup& a, const FibGroup& b) {
  return a.id == b.id && a.blackhole == b.blackhole && a.members == b.members;
}

bool all_blackhole(const std::vector<ResolvedNextHop>& members) {
  return !members.empty() && std::all_of(members.begin(), members.end(),
                                         [](const ResolvedNextHop& m) { return m.nh.blackhole; });
}

// Member ids without duplicates: one membership reference per (group, member) pair.
std::vector<uint32_t> unique_member_ids(const NexthopAdd* spec) {
  std::vector<uint32_t> ids;
  if (!spec) return ids;
  if (const auto* members = group_members(*spec)) {
    for (const auto& m : *members) ids.push_back(m.id);
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  }
  return ids;
}

}  // namespace

void Rib::Impl::link(Target* t, RouteEntry* e, uint32_t index) {
  e->prev = 0;
  e->next = t->users;
  if (t->users) routes.at(t->users)->prev = index;
  t->users = index;
}

void Rib::Impl::unlink(Target* t, RouteEntry* e) {
  if (e->prev) {
    routes.at(e->prev)->next = e->next;
  } else {
    t->users = e->next;
  }
  if (e->next) routes.at(e->next)->prev = e->prev;
  e->prev = e->next = 0;
}

bool Rib::Impl::target_complete(const Target* t) {
  if (!t || t->is_inline) return true;  // inline sets are complete by construction
  return static_cast<const NhNode*>(t)->announced;
}

NhNode& Rib::Impl::node(uint32_t id) {
  auto [it, inserted] = nodes.try_emplace(id);
  if (inserted) it->second.id = id;
  return it->second;
}

void Rib::Impl::maybe_erase_node(NhNode& n) {
  if (n.present || n.group.refcount != 0) return;
  const uint32_t id = n.id;  // copy: the key lives in the node being erased
  nodes.erase(id);
}

void Rib::Impl::acquire_member(uint32_t parent_id, uint32_t member_id) {
  NhNode& m = node(member_id);
  if (!m.parents.insert(parent_id).second) return;
  ++m.group.refcount;
}

void Rib::Impl::release_member(uint32_t parent_id, uint32_t member_id) {
  auto it = nodes.find(member_id);
  if (it == nodes.end()) return;
  NhNode& m = it->second;
  if (m.parents.erase(parent_id) == 0) return;
  --m.group.refcount;
  maybe_erase_node(m);
}

bool Rib::Impl::members_complete(const NhNode& n) const {
  const auto* members = group_members(n.group.spec);
  if (!members) return true;
  for (const auto& m : *members) {
    auto it = nodes.find(m.id);
    // Linux groups hold single next hops only; a group member keeps its parent
    // pending (this also makes self-references and cycles harmless).
    if (it == nodes.end() || !it->second.present ||
        !std::holds_alternative<NextHop>(it->second.group.spec.body))
      return false;
  }
  return true;
}

FibGroup Rib::Impl::build_fib(const NhNode& n) const {
  FibGroup f;
  f.id = n.id;
  if (const auto* single = std::get_if<NextHop>(&n.group.spec.body)) {
    f.members.push_back(ResolvedNextHop{*single, 1});
  } else {
    const auto& members = *group_members(n.group.spec);
    f.members.reserve(members.size());
    for (const auto& m : members) {
      const auto& nh = std::get<NextHop>(nodes.at(m.id).group.spec.body);
      f.members.push_back(ResolvedNextHop{nh, m.weight});
    }
  }
  f.blackhole = all_blackhole(f.members);
  return f;
}

void Rib::Impl::reevaluate(NhNode& n) {
  const bool complete = n.present && members_complete(n);
  const bool pending = n.present && !complete;
  if (pending != n.counted_pending) {
    pending ? ++stats.pending_groups : --stats.pending_groups;
    n.counted_pending = pending;
  }
  n.group.state = pending ? EntryState::Pending : EntryState::Installed;

  if (complete) {
    FibGroup fib = build_fib(n);
    if (n.announced && same_fib(fib, n.fib)) return;
    const bool added = !n.announced;
    n.fib = std::move(fib);
    n.announced = true;  // before recursing: a self-referencing parent must see the new state
    emit_group(added ? ChangeKind::Added : ChangeKind::Changed, n.fib);
    if (added) {
      for (RouteEntry* e = n.users ? routes.at(n.users) : nullptr; e;
           e = e->next ? routes.at(e->next) : nullptr) {
        if (e->r.state != EntryState::Pending) continue;
        e->r.state = EntryState::Installed;
        e->r.group_id = n.id;
        --stats.pending_routes;
        emit_route(ChangeKind::Changed, *e);
      }
    }
    reevaluate_parents(n);
    return;
  }

  if (!n.announced) return;
  // Withdraw in dependency order: routes, then the groups containing n, then n.
  for (RouteEntry* e = n.users ? routes.at(n.users) : nullptr; e;
       e = e->next ? routes.at(e->next) : nullptr) {
    if (e->r.state != EntryState::Installed) continue;
    e->r.state = EntryState::Pending;
    e->r.group_id = 0;
    ++stats.pending_routes;
    emit_route(ChangeKind::Changed, *e);  // now a punt: see add_route
  }
  n.announced = false;
  reevaluate_parents(n);
  FibGroup gone = std::move(n.fib);
  n.fib = FibGroup{};
  emit_group(ChangeKind::Removed, gone);
}

void Rib::Impl::reevaluate_parents(const NhNode& n) {
  // reevaluate() never changes membership, so the set is stable while we walk it.
  for (uint32_t parent : n.parents) reevaluate(nodes.at(parent));
}

void Rib::Impl::remove_nexthop(NhNode& n) {
  const std::vector<uint32_t> old_members = unique_member_ids(&n.group.spec);
  --stats.groups;
  if (n.group.stale) --stats.stale_groups;
  n.present = false;
  n.group.stale = false;
  n.group.spec = NexthopAdd{};
  n.group.spec.id = n.id;
  reevaluate(n);
  const uint32_t self = n.id;
  // Releasing a self-reference may already erase n, so look it up again.
  for (uint32_t id : old_members) release_member(self, id);
  if (auto it = nodes.find(self); it != nodes.end()) maybe_erase_node(it->second);
}

Status Rib::Impl::add_nexthop(NexthopAdd&& a) {
  ++stats.group_adds;
  if (a.id == 0 || a.id >= kInlineGroupIdBase) {
    return Error{"rib.nexthop.bad_id",
                 "next-hop id " + std::to_string(a.id) + " is 0 or in the inline-group range"};
  }
  if (const auto* members = group_members(a);
      members && members->size() > limits.max_group_members) {
    // Refused before any per-member work: an oversized group costs O(1) here.
    ++stats.refused_groups;
    return Error{"rib.nexthop.too_many_members",
                 "next-hop group " + std::to_string(a.id) + " has " +
                     std::to_string(members->size()) + " entries, more than the limit of " +
                     std::to_string(limits.max_group_members) + "; kept what was held before"};
  }
  NhNode& n = node(a.id);
  if (n.present && same_nexthop(n.group.spec, a)) {
    // A replay of what we hold: refresh only, so reconnects stay silent.
    if (n.group.stale) --stats.stale_groups;
    n.group.stale = false;
    return ok_status();
  }
  const std::vector<uint32_t> old_members = unique_member_ids(n.present ? &n.group.spec : nullptr);
  const std::vector<uint32_t> new_members = unique_member_ids(&a);
  // Take the new references before dropping the old ones so shared members never
  // pass through refcount 0.
  for (uint32_t id : new_members) acquire_member(n.id, id);
  if (!n.present) {
    ++stats.groups;
    n.present = true;
  } else if (n.group.stale) {
    --stats.stale_groups;
  }
  n.group.stale = false;
  const bool was_group = group_members(n.group.spec) != nullptr;
  n.group.spec = std::move(a);
  reevaluate(n);
  // Parents care whether n is a single, not only about its resolved next hops:
  // a single turning into a group with the same next hops (or back) changes
  // nothing for n's own routes but makes its parents pending (or complete).
  if (was_group != (group_members(n.group.spec) != nullptr)) {
    reevaluate_parents(n);
  }
  for (uint32_t id : old_members) {
    if (!std::binary_search(new_members.begin(), new_members.end(), id)) release_member(n.id, id);
  }
  return ok_status();
}

Status Rib::Impl::del_nexthop(const NexthopDel& d) {
  ++stats.group_dels;
  auto it = nodes.find(d.id);
  if (it == nodes.end() || !it->second.present) {
    ++stats.unknown_deletes;
    return Error{"rib.nexthop.unknown_delete", "next-hop id " + std::to_string(d.id), ENOENT};
  }
  NhNode& n = it->second;
  // A group naming itself is not a user anyone else could be waiting on.
  const bool self_member = n.parents.contains(n.id);
  const uint32_t refs = n.group.refcount - (self_member ? 1 : 0);
  // zebra deletes an object only once nothing uses it (the kernel refuses
  // otherwise), so a referenced delete means we missed updates. Never keep
  // forwarding through an object zebra dropped: dependants go pending (their
  // traffic falls back to the kernel) until the id reappears.
  remove_nexthop(n);
  if (refs != 0) {
    return Error{"rib.nexthop.in_use", "next-hop id " + std::to_string(d.id) + " deleted while " +
                                           std::to_string(refs) +
                                           " routes/groups used it; they are pending now"};
  }
  return ok_status();
}

Target* Rib::Impl::acquire_route_target(const RouteAdd& spec) {
  if (spec.type != RouteType::Unicast) return nullptr;
  if (spec.nhg_id != 0) {
    NhNode& n = node(spec.nhg_id);
    ++n.group.refcount;
    return &n;
  }
  if (spec.nexthops.empty()) return nullptr;

  rib_detail::NexthopSpan set{spec.nexthops};
  if (!std::is_sorted(set.begin(), set.end())) {
    scratch.assign(set.begin(), set.end());
    std::sort(scratch.begin(), scratch.end());
    set = scratch;
  }
  auto found = interned.find(set);
  InlineSet* s = nullptr;
  if (found != interned.end()) {
    s = &inline_sets.at(found->second);
  } else {
    uint32_t id = next_inline_id;
    if (!free_inline_ids.empty()) {
      id = free_inline_ids.back();
      free_inline_ids.pop_back();
    } else {
      ++next_inline_id;
    }
    auto key = interned.emplace(rib_detail::NexthopSet(set.begin(), set.end()), id).first;
    s = &inline_sets[id];
    s->id = id;
    s->is_inline = true;
    s->key = &key->first;
    s->fib.id = id;
    for (const auto& w : key->first) s->fib.members.push_back(ResolvedNextHop{w.nh, w.weight});
    s->fib.blackhole = all_blackhole(s->fib.members);
    ++stats.inline_groups;
    emit_group(ChangeKind::Added, s->fib);
  }
  ++s->refcount;
  return s;
}

void Rib::Impl::release_route_target(Target* t) {
  if (!t) return;
  if (!t->is_inline) {
    NhNode& n = *static_cast<NhNode*>(t);
    --n.group.refcount;
    maybe_erase_node(n);
    return;
  }
  InlineSet& s = *static_cast<InlineSet*>(t);
  if (--s.refcount != 0) return;
  emit_group(ChangeKind::Removed, s.fib);
  const uint32_t id = s.id;
  interned.erase(interned.find(*s.key));
  free_inline_ids.push_back(id);
  inline_sets.erase(id);
  --stats.inline_groups;
}

}  // namespace fpm_sink
