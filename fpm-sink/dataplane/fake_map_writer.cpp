#include "dataplane/fake_map_writer.hpp"

#include <cerrno>

namespace fpm_sink {

std::optional<Error> FakeMapWriter::injected() {
  if (!fail_next_write) return std::nullopt;
  fail_next_write = false;
  return Error{"bpf.map.update", "injected failure", 5};
}

Status FakeMapWriter::write_nexthop(uint32_t index, const fpm_nexthop& nh) {
  if (auto e = injected()) return *e;
  ++writes.nexthop;
  nexthops[index] = nh;
  return ok_status();
}

Status FakeMapWriter::write_host(uint16_t table_slot, const IpAddr& addr, const fpm_nexthop& nh) {
  if (auto e = injected()) return *e;
  if (!hosts.contains({table_slot, addr})) {
    size_t same_family = 0;
    for (const auto& [key, _] : hosts) same_family += key.second.family == addr.family;
    if (same_family >= host_capacity)
      return Error{"dataplane.host.full", "no room for host " + addr.to_string(), ENOSPC};
  }
  ++writes.host;
  hosts[{table_slot, addr}] = nh;
  return ok_status();
}

Status FakeMapWriter::remove_host(uint16_t table_slot, const IpAddr& addr) {
  if (auto e = injected()) return *e;
  ++writes.host;
  hosts.erase({table_slot, addr});
  return ok_status();
}

Status FakeMapWriter::write_buckets(uint32_t group, std::span<const uint32_t> changed,
                                    std::span<const uint32_t, FPM_NHG_BUCKETS> buckets,
                                    uint32_t n_members) {
  if (auto e = injected()) return *e;
  ++writes.bucket_calls;
  auto& g = groups[group];
  for (uint32_t b : changed) {
    g.buckets[b] = buckets[b];
    ++writes.bucket;
  }
  g.n_members = n_members;
  return ok_status();
}

Status FakeMapWriter::publish_group(uint32_t group, uint32_t flags) {
  if (auto e = injected()) return *e;
  ++writes.publish;
  groups[group].flags = flags;
  return ok_status();
}

Result<RouteWrite> FakeMapWriter::route_set(const Prefix& prefix, uint32_t action) {
  if (auto e = injected()) return *e;
  ++writes.route_set;
  auto it = routes.find(prefix);
  if (it == routes.end() && routes.size() >= route_capacity_) {
    punted.insert(prefix);
    return RouteWrite::NoSpace;
  }
  routes[prefix] = action;
  punted.erase(prefix);
  return RouteWrite::Installed;
}

Status FakeMapWriter::route_remove(const Prefix& prefix) {
  if (auto e = injected()) return *e;
  ++writes.route_remove;
  routes.erase(prefix);
  punted.erase(prefix);
  return ok_status();
}

Status FakeMapWriter::write_iface(uint32_t ifindex, const fpm_iface& iface) {
  ++writes.iface;
  ifaces[ifindex] = iface;
  return ok_status();
}

Status FakeMapWriter::remove_iface(uint32_t ifindex) {
  ++writes.iface;
  ifaces.erase(ifindex);
  return ok_status();
}

Status FakeMapWriter::clear_port_counters(uint32_t slot) {
  if (auto e = injected()) return *e;
  ++writes.counters;
  for (const auto& [ifindex, iface] : ifaces) slots_cleared_in_use += iface.slot == slot;
  cleared_slots.push_back(slot);
  slot_packets.erase(slot);
  return ok_status();
}

Status FakeMapWriter::add_tx_port(uint32_t ifindex) {
  ++writes.tx_port;
  tx_ports.insert(ifindex);
  return ok_status();
}

Status FakeMapWriter::add_tx_via(uint32_t ifindex, uint32_t parent) {
  ++writes.tx_port;
  tx_via[ifindex] = parent;
  return ok_status();
}

Status FakeMapWriter::write_vlan(uint32_t parent, uint16_t vid, uint32_t ifindex) {
  ++writes.iface;
  vlans[{parent, vid}] = ifindex;
  return ok_status();
}

Status FakeMapWriter::remove_vlan(uint32_t parent, uint16_t vid) {
  ++writes.iface;
  vlans.erase({parent, vid});
  return ok_status();
}

Status FakeMapWriter::remove_tx_port(uint32_t ifindex) {
  ++writes.tx_port;
  tx_ports.erase(ifindex);
  tx_via.erase(ifindex);
  return ok_status();
}

Status FakeMapWriter::vrf_table_attach(uint16_t slot, uint32_t max_routes) {
  if (auto e = injected()) return *e;
  ++writes.vrf_table;
  vrf[slot] = VrfTrie{max_routes, {}};
  return ok_status();
}

Status FakeMapWriter::vrf_table_detach(uint16_t slot) {
  if (auto e = injected()) return *e;
  ++writes.vrf_table;
  vrf.erase(slot);
  for (const auto& [key, _] : hosts) hosts_at_detach += key.first == slot;
  return ok_status();
}

Result<RouteWrite> FakeMapWriter::vrf_route_set(uint16_t slot, const Prefix& prefix,
                                                uint32_t action) {
  if (auto e = injected()) return *e;
  auto t = vrf.find(slot);
  if (t == vrf.end())
    return Error{"bpf.map.update", "no VRF trie in slot " + std::to_string(slot), ENOENT};
  if (!t->second.routes.contains(prefix)) {
    size_t same_family = 0;
    for (const auto& [p, _] : t->second.routes) same_family += p.family() == prefix.family();
    if (same_family >= t->second.max_routes) return RouteWrite::NoSpace;
  }
  ++writes.vrf_route;
  t->second.routes[prefix] = action;
  return RouteWrite::Installed;
}

Status FakeMapWriter::vrf_route_remove(uint16_t slot, const Prefix& prefix) {
  if (auto e = injected()) return *e;
  ++writes.vrf_route;
  if (auto t = vrf.find(slot); t != vrf.end()) t->second.routes.erase(prefix);
  return ok_status();
}

uint32_t FakeMapWriter::vrf_lookup(uint16_t slot, const IpAddr& addr) const {
  auto t = vrf.find(slot);
  if (t == vrf.end()) return fpm_act_make(FPM_ACT_PUNT, FPM_REASON_NO_TABLE);
  for (int len = static_cast<int>(max_prefix_len(addr.family)); len >= 0; --len) {
    auto p = Prefix::make(addr, static_cast<unsigned>(len));
    if (auto it = t->second.routes.find(*p); it != t->second.routes.end()) return it->second;
  }
  return 0;
}

uint32_t FakeMapWriter::lookup(const IpAddr& addr) const {
  for (int len = static_cast<int>(max_prefix_len(addr.family)); len >= 0; --len) {
    auto p = Prefix::make(addr, static_cast<unsigned>(len));
    if (auto it = routes.find(*p); it != routes.end()) return it->second;
  }
  return 0;
}

}  // namespace fpm_sink
