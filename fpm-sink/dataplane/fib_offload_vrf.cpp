// FibOffload, VRF tables: routes of every table besides main, each table in
// its own pair of LPM tries (bpf/lib/vrf.h) under a table slot, and the slot
// a port enslaved to a VRF device gets.
//
// Slots: a table takes a slot (1..vrf_tables) with its first route and gives
// it back with its last; a freed slot stays quarantined like a group index
// (config.index_grace) before it names another table, and the ports of the
// table that had it are rewritten to FPM_TABLE_SLOT_NONE before it is freed,
// so a port never reaches another table's routes. Tables without a slot keep
// their routes as failed(NoTableSlot); poll() gives them a slot when
// one frees.
//
// Capacity: each table's tries hold `capacity` routes per family (the
// table's own size, or vrf_routes). A route that does not fit cannot be
// punted alone (a trie has no range punts: a less specific route of the
// table would take its packets), so the whole table overflows: its ports
// punt (NO_TABLE), its routes report failed(LpmFull), and poll() rebuilds it
// once it fits again.
//
// Next hops are the same objects as the main table's, keyed by (gateway,
// ifindex) and resolved from the neighbours of that interface, so they
// resolve in the next hop's own VRF; a route leaked from another VRF simply
// names an interface of that VRF and is forwarded there.
#include "dataplane/fib_offload.hpp"

#include "dataplane/fib_offload_group.hpp"

namespace fpm_sink {

void FibOffload::vrf_route_changed(ChangeKind kind, const RouteView& route) {
  const bool v4 = route.prefix.family() == Family::V4;
  RouteState rs(*route.bits);
  if (kind == ChangeKind::Removed) {
    auto it = vrf_tables_.find(route.table);
    if (it == vrf_tables_.end() || !rs.programmed()) return;
    VrfTable& t = it->second;
    track_connected(route, false);  // host entries first, as in main
    remove_vrf_route(t, route);
    --(v4 ? t.routes4 : t.routes6);
    if (t.routes4 + t.routes6 == 0) {
      vrf_release_slot(t);
      vrf_tables_.erase(it);
    }
    return;
  }
  VrfTable& t = vrf_tables_[route.table];
  if (!rs.programmed()) ++(v4 ? t.routes4 : t.routes6);
  const bool new_slot = !t.slot && vrf_assign_slot(route.table, t);
  program_vrf(t, route);
  // The table's ports use the slot only once its first route is in it.
  if (new_slot) refresh_ports();
  reply_due(route);  // zebra sent it: it waits for an answer
}

bool FibOffload::vrf_write(VrfTable& t, const Prefix& prefix, uint32_t action, OffloadReason& why) {
  const bool v4 = prefix.family() == Family::V4;
  const bool present = t.in_trie.contains(prefix);
  // Counted here, so a table that would not fit overflows before any packet sees it half-written.
  if (!present && (v4 ? t.in_trie4 : t.in_trie6) >= t.capacity) {
    why = OffloadReason::LpmFull;
    return false;
  }
  ++stats_.route_writes;
  auto w = writer_.vrf_route_set(t.slot, prefix, action);
  if (!w || *w != RouteWrite::Installed) {
    if (!w) note(w.error());
    why = w ? OffloadReason::LpmFull : OffloadReason::WriteError;
    return false;
  }
  if (!present) {
    t.in_trie.insert(prefix);
    ++(v4 ? t.in_trie4 : t.in_trie6);
  }
  return true;
}

void FibOffload::program_vrf(VrfTable& t, const RouteView& route) {
  RouteState rs(*route.bits);
  count(route, -1);
  const Decision d = decide(route.type, route.group_id);
  bool overflow = false;
  OffloadReason why = OffloadReason::None;
  if (!t.slot) {
    // No room, like a full LPM: Failed, not NotOffloaded, because zebra keeps
    // "trapped" on a route for good and the table gets a slot once one frees.
    rs.set(OffloadState::Failed, OffloadReason::NoTableSlot);
  } else if (!vrf_write(t, route.prefix, d.action, why)) {
    // The trie may miss the prefix (or hold its previous action): no port may use the table.
    rs.set(OffloadState::Failed, why);
    overflow = true;
  } else if (t.overflowed) {
    rs.set(OffloadState::Failed, OffloadReason::LpmFull);
  } else {
    rs.set(d.state, d.reason);
  }
  count(route, +1);
  if (rs.told() != rs.state()) reply_due(route);
  if (overflow && !t.overflowed) vrf_overflow(route.table, t);
  track_connected(route, true);
}

void FibOffload::vrf_overflow(uint32_t table, VrfTable& t) {
  t.overflowed = true;
  refresh_ports();  // first: the table's ports stop using its tries
  last_error_ = Error{"dataplane.vrf.full",
                      "VRF table " + std::to_string(table) + " does not fit its tries (" +
                          std::to_string(t.capacity) +
                          " routes per family): its ports punt to the kernel until it fits"};
  ++stats_.write_errors;
  for_each_vrf_route(table, [&](const RouteView& route) {
    RouteState rs(*route.bits);
    if (!rs.programmed() || rs.state() != OffloadState::Installed) return;
    count(route, -1);
    rs.set(OffloadState::Failed, OffloadReason::LpmFull);
    count(route, +1);
    reply_due(route);
  });
}

void FibOffload::remove_vrf_route(VrfTable& t, const RouteView& route) {
  if (t.slot && t.in_trie.erase(route.prefix) > 0) {
    --(route.prefix.family() == Family::V4 ? t.in_trie4 : t.in_trie6);
    ++stats_.route_writes;
    if (auto s = writer_.vrf_route_remove(t.slot, route.prefix); !s) note(s.error());
  }
  count(route, -1);
}

bool FibOffload::vrf_assign_slot(uint32_t table, VrfTable& t) {
  auto slot = vrf_alloc_.allocate();
  if (!slot) return false;
  auto size = config_.vrf_routes_by_table.find(table);
  t.capacity = size != config_.vrf_routes_by_table.end() ? size->second : config_.vrf_routes;
  if (auto s = writer_.vrf_table_attach(static_cast<uint16_t>(*slot), t.capacity); !s) {
    note(s.error());
    vrf_alloc_.release(*slot);
    return false;
  }
  t.slot = static_cast<uint16_t>(*slot);
  t.overflowed = false;
  t.in_trie.clear();
  t.in_trie4 = t.in_trie6 = 0;
  return true;
}

void FibOffload::vrf_release_slot(VrfTable& t) {
  if (!t.slot) return;
  const uint16_t slot = t.slot;
  t.slot = 0;
  refresh_ports();  // first: no port may name the slot once it is reused
  if (auto s = writer_.vrf_table_detach(slot); !s) note(s.error());
  vrf_alloc_.release(slot);
  t.in_trie.clear();
  t.in_trie4 = t.in_trie6 = 0;
}

void FibOffload::vrf_retry() {
  for (auto& [table, t] : vrf_tables_) {
    if (!t.slot) {
      if (!vrf_assign_slot(table, t)) continue;
      for_each_vrf_route(table, [&](const RouteView& route) { program_vrf(t, route); });
      refresh_ports();
      continue;
    }
    if (!t.overflowed || t.routes4 > t.capacity || t.routes6 > t.capacity) continue;
    // Fits again: rewrite it all; a route that still fails overflows it anew.
    t.overflowed = false;
    for_each_vrf_route(table, [&](const RouteView& route) {
      if (!t.overflowed) program_vrf(t, route);
    });
    if (t.overflowed) continue;
    refresh_ports();
    ++stats_.retries;
  }
}

void FibOffload::for_each_vrf_route(uint32_t table,
                                    const std::function<void(const RouteView&)>& fn) {
  routes_.for_each_announced([&](const RouteView& route) {
    if (route.table == table && RouteState(*route.bits).programmed()) fn(route);
  });
}

void FibOffload::reprogram_all() {
  routes_.for_each_announced([this](const RouteView& route) {
    if (!RouteState(*route.bits).programmed()) return;  // not announced to us
    if (route.table == kMainTable)
      program(route);
    else
      program_vrf(vrf_tables_[route.table], route);
  });
}

uint16_t FibOffload::port_table_slot(uint32_t table) const {
  if (table == kMainTable) return FPM_TABLE_SLOT_MAIN;
  auto it = vrf_tables_.find(table);
  if (it == vrf_tables_.end() || !it->second.slot || it->second.overflowed)
    return FPM_TABLE_SLOT_NONE;
  return it->second.slot;
}

void FibOffload::refresh_ports() {
  // Host entries name slots too: a table losing its slot loses them here, before the slot frees.
  for (const auto& [table, t] : vrf_tables_) {
    const auto slot = t.slot && !t.overflowed ? std::optional<uint16_t>(t.slot) : std::nullopt;
    if (auto s = hosts_.set_table_slot(table, slot); !s) note(s.error());
  }
  // Routed subinterfaces have entries of their own, with their own table.
  std::vector<uint32_t> entries;
  for (const auto& [ifindex, _] : port_entries_) entries.push_back(ifindex);
  for (uint32_t ifindex : entries)
    if (auto s = refresh_port(ifindex); !s) note(s.error());
}

std::vector<VrfTableInfo> FibOffload::vrf_tables() const {
  std::vector<VrfTableInfo> out;
  for (const auto& [table, t] : vrf_tables_) {
    VrfTableInfo info{table, std::nullopt, t.overflowed, t.capacity, t.routes4, t.routes6};
    if (t.slot) info.slot = t.slot;
    out.push_back(info);
  }
  return out;
}

}  // namespace fpm_sink
