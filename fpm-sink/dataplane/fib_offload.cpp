#include "dataplane/fib_offload.hpp"

#include <algorithm>

#include "dataplane/fib_offload_group.hpp"

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
    case OffloadReason::NoTableSlot:
      return "no-table-slot";
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

FibOffload::FibOffload(const FibOffloadLimits& config, MapWriter& writer,
                       const NeighbourSource& neighbours, const LinkSource& links,
                       const AnnouncedRoutes& routes)
    : config_(config),
      writer_(writer),
      links_(links),
      routes_(routes),
      nexthops_(writer, neighbours, links,
                IndexAllocator(0, config.max_nexthops, config.index_grace, config.clock)),
      hosts_(writer, neighbours, links, config.max_hosts),
      group_alloc_(0, config.max_groups, config.index_grace, config.clock),
      // A freed counter slot is zeroed before it goes to another port: an XDP
      // run that read the old fpm_ifaces entry must be over by then.
      port_alloc_(0, config.max_ports, config.index_grace, config.clock),
      // Slot 0 is the main table; a freed slot waits like a group index (fib_offload_vrf.cpp).
      vrf_alloc_(1, config.vrf_tables + 1, config.index_grace, config.clock) {}

FibOffload::~FibOffload() = default;

void FibOffload::reserve(size_t v4_routes, size_t v6_routes) {
  writer_.reserve_routes(v4_routes, v6_routes);
}

void FibOffload::hold_indices(std::span<const uint32_t> groups,
                              std::span<const uint32_t> nexthops) {
  group_alloc_.hold(groups);
  nexthops_.hold(nexthops);
}

void FibOffload::release_held() {
  group_alloc_.release_held();
  nexthops_.release_held();
}

void FibOffload::adopt_port_slots(const std::map<uint32_t, uint32_t>& slots) {
  std::vector<uint32_t> held;
  for (const auto& [ifindex, slot] : slots) {
    // Two entries naming one slot (never written so): neither keeps it.
    if (std::find(held.begin(), held.end(), slot) != held.end()) {
      std::erase_if(adopted_slots_, [slot](const auto& a) { return a.second == slot; });
      continue;
    }
    held.push_back(slot);
    if (slot < config_.max_ports) adopted_slots_[ifindex] = slot;
  }
  port_alloc_.hold(held);
}

size_t FibOffload::release_adopted_port_slots() {
  const size_t n = port_alloc_.held();
  port_alloc_.release_held();
  adopted_slots_.clear();
  return n;
}

void FibOffload::note(Error e) {
  ++stats_.write_errors;
  last_error_ = std::move(e);
}

Result<size_t> FibOffload::neighbour_changed(const IpAddr& gateway, uint32_t ifindex) {
  if (auto s = hosts_.neighbour_changed(gateway, ifindex); !s) note(s.error());
  auto r = nexthops_.refresh_neighbour(gateway, ifindex);
  if (r) stats_.nexthop_refreshes += *r;
  return r;
}

Status FibOffload::local_address_changed(const IpAddr& addr) {
  return hosts_.local_changed(addr);
}

Result<size_t> FibOffload::link_changed(uint32_t ifindex) {
  // The XDP program routes only frames sent to the port's own MAC: follow its changes.
  if (auto s = refresh_port(ifindex); !s) return s.error();
  // A master (VRF) appeared, vanished or changed its table: the entries of
  // its ports and of its routed subinterfaces follow.
  std::vector<uint32_t> enslaved;
  for (const auto& [entry, _] : port_entries_) {
    if (entry == ifindex) continue;
    if (auto l = links_.link(entry); l && l->master == ifindex) enslaved.push_back(entry);
  }
  for (uint32_t entry : enslaved) {
    if (auto s = refresh_port(entry); !s) return s.error();
    if (auto s = hosts_.link_changed(entry); !s) note(s.error());  // its table changed
  }
  if (auto s = hosts_.link_changed(ifindex); !s) note(s.error());
  auto r = nexthops_.refresh_link(ifindex);
  if (!r) return r;
  stats_.nexthop_refreshes += *r;
  // A parent's carrier and MTU are its subinterfaces' too (nexthop_table.cpp).
  for (const auto& [sub, s] : subs_) {
    if (s.parent != ifindex) continue;
    if (auto st = hosts_.link_changed(sub); !st) note(st.error());
    auto rs = nexthops_.refresh_link(sub);
    if (!rs) return rs;
    stats_.nexthop_refreshes += *rs;
    *r += *rs;
  }
  return r;
}

FibOffloadStats FibOffload::stats() const {
  FibOffloadStats s = stats_;
  s.groups = groups_.size();
  s.groups_forwarding = group_alloc_.in_use();
  s.nexthops = nexthops_.size();
  return s;
}

}  // namespace fpm_sink
