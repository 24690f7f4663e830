#include "dataplane/bpf_map_writer.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace fpm_sink {

namespace {

Error map_error(const char* map, const std::string& what, int err) {
  return Error{
      "bpf.map.update",
      std::string(map) + " " + what + ": " + std::strerror(err) + " (-" + std::to_string(err) + ")",
      err};
}

}  // namespace

BpfMapWriter::BpfMapWriter(XdpProgram& program, lpm::LpmOptions lpm_options)
    : program_(program),
      nexthops_fd_(program.map_fd("fpm_nexthops")),
      ifaces_fd_(program.map_fd("fpm_ifaces")),
      tx_ports_fd_(program.map_fd("fpm_tx_ports")),
      hosts4_fd_(program.map_fd("fpm_hosts4")),
      hosts6_fd_(program.map_fd("fpm_hosts6")),
      vlans_fd_(program.map_fd("fpm_vlans")),
      iface_stats_fd_(program.map_fd("fpm_iface_stats")),
      iface_reasons_fd_(program.map_fd("fpm_iface_reasons")),
      vrf_(program.map_fd("fpm_vrf4"), program.map_fd("fpm_vrf6"),
           program.config().vrf_tables + 1) {
  const MapMemory& m = program.memory();
  v4_ = std::make_unique<lpm::Lpm4Table>(
      std::span<uint32_t>(m.lpm4_tbl24, size_t{LPM4_TBL24_ROWS} * LPM_ROW_ENTRIES),
      std::span<uint32_t>(m.lpm4_tbl8, size_t{m.tbl8_groups} * LPM_ROW_ENTRIES), lpm_options);
  v6_ = std::make_unique<lpm::Lpm6Table>(
      std::span<uint32_t>(m.lpm6_root, size_t{LPM6_ROOT_ROWS} * LPM_ROW_ENTRIES),
      std::span<uint32_t>(m.lpm6_nodes, size_t{m.v6_nodes} * LPM_ROW_ENTRIES), lpm_options);
}

Status BpfMapWriter::write_nexthop(uint32_t index, const fpm_nexthop& nh) {
  if (bpf_map_update_elem(nexthops_fd_, &index, &nh, BPF_ANY) != 0)
    return map_error("fpm_nexthops", "[" + std::to_string(index) + "]", errno);
  return ok_status();
}

Status BpfMapWriter::write_buckets(uint32_t group, std::span<const uint32_t> changed,
                                   std::span<const uint32_t, FPM_NHG_BUCKETS> buckets,
                                   uint32_t n_members) {
  const MapMemory& m = program_.memory();
  if (group >= m.max_groups)
    return map_error("fpm_nhg", "[" + std::to_string(group) + "] out of range", ERANGE);
  fpm_nhg& g = m.nhg[group];
  // One 32-bit store per bucket: a racing packet sees the old or the new
  // member, never a torn index.
  for (uint32_t b : changed) __atomic_store_n(&g.buckets[b], buckets[b], __ATOMIC_RELEASE);
  __atomic_store_n(&g.n_members, n_members, __ATOMIC_RELEASE);
  return ok_status();
}

Status BpfMapWriter::publish_group(uint32_t group, uint32_t flags) {
  const MapMemory& m = program_.memory();
  if (group >= m.max_groups)
    return map_error("fpm_nhg", "[" + std::to_string(group) + "] out of range", ERANGE);
  // Release: the buckets written before are visible before the flag is.
  __atomic_store_n(&m.nhg[group].flags, flags, __ATOMIC_RELEASE);
  return ok_status();
}

Result<RouteWrite> BpfMapWriter::route_set(const Prefix& prefix, uint32_t action) {
  lpm::LpmTable& t = prefix.family() == Family::V4 ? static_cast<lpm::LpmTable&>(*v4_) : *v6_;
  Status s = t.insert(prefix, action);
  if (s) return RouteWrite::Installed;
  if (s.error().err == ENOSPC) return RouteWrite::NoSpace;  // range punted by the table
  return s.error();
}

Status BpfMapWriter::route_remove(const Prefix& prefix) {
  lpm::LpmTable& t = prefix.family() == Family::V4 ? static_cast<lpm::LpmTable&>(*v4_) : *v6_;
  Status s = t.remove(prefix);
  if (!s && s.error().err == ENOENT) return ok_status();
  return s;
}

BpfMapWriter::LiveIndices BpfMapWriter::live_indices() const {
  LiveIndices out;
  const MapMemory& m = program_.memory();
  const uint32_t max_nexthops = program_.config().max_nexthops;
  std::vector<bool> nh(max_nexthops);
  for (uint32_t g = 0; g < m.max_groups; ++g) {
    const fpm_nhg& grp = m.nhg[g];
    if (grp.flags == 0 && grp.n_members == 0) continue;
    out.groups.push_back(g);
    for (uint32_t b : grp.buckets)
      if (b < max_nexthops && !nh[b]) {
        nh[b] = true;
        out.nexthops.push_back(b);
      }
  }
  return out;
}

std::optional<fpm_nexthop> BpfMapWriter::read_nexthop(uint32_t index) const {
  fpm_nexthop nh{};
  if (bpf_map_lookup_elem(nexthops_fd_, &index, &nh) != 0) return std::nullopt;
  return nh;
}

void BpfMapWriter::commit() {
  v4_->commit();
  v6_->commit();
}

void BpfMapWriter::prefetch_route(const Prefix& prefix) const {
  if (prefix.family() == Family::V4)
    v4_->prefetch(prefix);
  else
    v6_->prefetch(prefix);
}

void BpfMapWriter::reserve_routes(size_t v4, size_t v6) {
  v4_->reserve(v4);
  v6_->reserve(v6);
}

void BpfMapWriter::route_retry() {
  (void)v4_->retry_failed();
  (void)v6_->retry_failed();
}

std::vector<Prefix> BpfMapWriter::take_punted_routes() {
  std::vector<Prefix> out = v4_->take_newly_punted();
  for (const Prefix& p : v6_->take_newly_punted()) out.push_back(p);
  return out;
}

namespace {

// fpm_host4_key or fpm_host6_key, by the address's family.
union HostKey {
  fpm_host4_key v4;
  fpm_host6_key v6;
};

HostKey host_key(uint16_t table_slot, const IpAddr& addr) {
  HostKey key{};
  if (addr.family == Family::V4) {
    key.v4.table_slot = table_slot;
    std::memcpy(key.v4.addr, addr.bytes.data(), sizeof key.v4.addr);
  } else {
    key.v6.table_slot = table_slot;
    std::memcpy(key.v6.addr, addr.bytes.data(), sizeof key.v6.addr);
  }
  return key;
}

}  // namespace

Status BpfMapWriter::write_host(uint16_t table_slot, const IpAddr& addr, const fpm_nexthop& nh) {
  const bool v4 = addr.family == Family::V4;
  const char* map = v4 ? "fpm_hosts4" : "fpm_hosts6";
  const HostKey key = host_key(table_slot, addr);
  if (bpf_map_update_elem(v4 ? hosts4_fd_ : hosts6_fd_, &key, &nh, BPF_ANY) != 0) {
    // A hash map at max_entries refuses new keys with E2BIG.
    if (errno == E2BIG)
      return Error{"dataplane.host.full", std::string(map) + " is full: " + addr.to_string(),
                   ENOSPC};
    return map_error(map, "[" + std::to_string(table_slot) + ", " + addr.to_string() + "]", errno);
  }
  return ok_status();
}

Status BpfMapWriter::remove_host(uint16_t table_slot, const IpAddr& addr) {
  const bool v4 = addr.family == Family::V4;
  const HostKey key = host_key(table_slot, addr);
  if (bpf_map_delete_elem(v4 ? hosts4_fd_ : hosts6_fd_, &key) != 0 && errno != ENOENT)
    return map_error(v4 ? "fpm_hosts4" : "fpm_hosts6",
                     "delete [" + std::to_string(table_slot) + ", " + addr.to_string() + "]",
                     errno);
  return ok_status();
}

Status BpfMapWriter::write_iface(uint32_t ifindex, const fpm_iface& iface) {
  if (bpf_map_update_elem(ifaces_fd_, &ifindex, &iface, BPF_ANY) != 0)
    return map_error("fpm_ifaces", "[" + std::to_string(ifindex) + "]", errno);
  return ok_status();
}

Status BpfMapWriter::clear_port_counters(uint32_t slot) {
  const int ncpu = libbpf_num_possible_cpus();
  if (ncpu <= 0) return map_error("fpm_iface_stats", "possible CPUs", -ncpu);
  // A per-CPU value is written for every possible CPU at once, each rounded up to 8 bytes.
  static_assert(sizeof(fpm_iface_stats) % 8 == 0 && sizeof(fpm_counter) % 8 == 0);
  const std::vector<uint8_t> zeros(static_cast<size_t>(ncpu) * sizeof(fpm_iface_stats));
  if (bpf_map_update_elem(iface_stats_fd_, &slot, zeros.data(), BPF_ANY) != 0)
    return map_error("fpm_iface_stats", "clear [" + std::to_string(slot) + "]", errno);
  for (uint32_t r = 0; r < FPM_REASON_MAX; ++r) {
    const uint32_t key = slot * FPM_REASON_MAX + r;
    if (bpf_map_update_elem(iface_reasons_fd_, &key, zeros.data(), BPF_ANY) != 0)
      return map_error("fpm_iface_reasons", "clear [" + std::to_string(key) + "]", errno);
  }
  return ok_status();
}

Status BpfMapWriter::remove_iface(uint32_t ifindex) {
  if (bpf_map_delete_elem(ifaces_fd_, &ifindex) != 0 && errno != ENOENT)
    return map_error("fpm_ifaces", "delete [" + std::to_string(ifindex) + "]", errno);
  return ok_status();
}

Status BpfMapWriter::add_tx_port(uint32_t ifindex) {
  // DEVMAP_HASH value: the target ifindex (4-byte form, no egress program).
  if (bpf_map_update_elem(tx_ports_fd_, &ifindex, &ifindex, BPF_ANY) != 0)
    return map_error("fpm_tx_ports", "[" + std::to_string(ifindex) + "]", errno);
  return ok_status();
}

Status BpfMapWriter::add_tx_via(uint32_t ifindex, uint32_t parent) {
  if (bpf_map_update_elem(tx_ports_fd_, &ifindex, &parent, BPF_ANY) != 0)
    return map_error("fpm_tx_ports",
                     "[" + std::to_string(ifindex) + "] = " + std::to_string(parent), errno);
  return ok_status();
}

Status BpfMapWriter::write_vlan(uint32_t parent, uint16_t vid, uint32_t ifindex) {
  const fpm_vlan_key key{parent, vid, 0};
  if (bpf_map_update_elem(vlans_fd_, &key, &ifindex, BPF_ANY) != 0)
    return map_error("fpm_vlans",
                     "[" + std::to_string(parent) + ", vid " + std::to_string(vid) + "]", errno);
  return ok_status();
}

Status BpfMapWriter::remove_vlan(uint32_t parent, uint16_t vid) {
  const fpm_vlan_key key{parent, vid, 0};
  if (bpf_map_delete_elem(vlans_fd_, &key) != 0 && errno != ENOENT)
    return map_error("fpm_vlans",
                     "delete [" + std::to_string(parent) + ", vid " + std::to_string(vid) + "]",
                     errno);
  return ok_status();
}

Status BpfMapWriter::remove_tx_port(uint32_t ifindex) {
  if (bpf_map_delete_elem(tx_ports_fd_, &ifindex) != 0 && errno != ENOENT)
    return map_error("fpm_tx_ports", "delete [" + std::to_string(ifindex) + "]", errno);
  return ok_status();
}

}  // namespace fpm_sink
