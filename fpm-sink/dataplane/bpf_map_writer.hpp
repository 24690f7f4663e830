// MapWriter over the loaded fpm_xdp maps: LPM rows and group buckets through
// their mmap (plain release stores, no syscall per entry), next hops, ports
// and the devmap through bpf_map_update_elem().
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "dataplane/lpm/lpm_table.hpp"
#include "dataplane/map_writer.hpp"
#include "dataplane/vrf_tries.hpp"
#include "dataplane/xdp_program.hpp"

namespace fpm_sink {

class BpfMapWriter final : public MapWriter {
 public:
  // The program must outlive the writer. Constructing the LPM writers clears
  // the LPM maps (they start empty: everything punts until routes arrive),
  // unless lpm_options.adopt_live: then they stage (see lpm::StrideTrie) and
  // the maps keep forwarding as they are until commit().
  explicit BpfMapWriter(XdpProgram& program, lpm::LpmOptions lpm_options = {});

  Status write_nexthop(uint32_t index, const fpm_nexthop& nh) override;
  Status write_buckets(uint32_t group, std::span<const uint32_t> changed,
                       std::span<const uint32_t, FPM_NHG_BUCKETS> buckets,
                       uint32_t n_members) override;
  Status publish_group(uint32_t group, uint32_t flags) override;
  Result<RouteWrite> route_set(const Prefix& prefix, uint32_t action) override;
  Status route_remove(const Prefix& prefix) override;
  void route_retry() override;
  std::vector<Prefix> take_punted_routes() override;
  void reserve_routes(size_t v4, size_t v6) override;
  void prefetch_route(const Prefix& prefix) const override;
  Status vrf_table_attach(uint16_t slot, uint32_t max_routes) override {
    return vrf_.attach(slot, max_routes);
  }
  Status vrf_table_detach(uint16_t slot) override { return vrf_.detach(slot); }
  Result<RouteWrite> vrf_route_set(uint16_t slot, const Prefix& prefix, uint32_t action) override {
    return vrf_.set(slot, prefix, action);
  }
  Status vrf_route_remove(uint16_t slot, const Prefix& prefix) override {
    return vrf_.remove(slot, prefix);
  }
  Status write_host(uint16_t table_slot, const IpAddr& addr, const fpm_nexthop& nh) override;
  Status remove_host(uint16_t table_slot, const IpAddr& addr) override;
  Status write_iface(uint32_t ifindex, const fpm_iface& iface) override;
  Status remove_iface(uint32_t ifindex) override;
  Status add_tx_port(uint32_t ifindex) override;
  Status remove_tx_port(uint32_t ifindex) override;
  Status clear_port_counters(uint32_t slot) override;
  Status add_tx_via(uint32_t ifindex, uint32_t parent) override;
  Status write_vlan(uint32_t parent, uint16_t vid, uint32_t ifindex) override;
  Status remove_vlan(uint32_t parent, uint16_t vid) override;

  // Warm restart. Indices of fpm_nhg and fpm_nexthops the adopted tables may
  // use: every published group and the next hops in its buckets.
  struct LiveIndices {
    std::vector<uint32_t> groups, nexthops;
  };
  LiveIndices live_indices() const;
  bool staging() const { return v4_->staging() || v6_->staging(); }
  // fpm_nexthops[index] as the kernel holds it.
  std::optional<fpm_nexthop> read_nexthop(uint32_t index) const;
  // Publishes the staged IPv4 and IPv6 tables.
  void commit();

  const lpm::Lpm4Table& v4() const { return *v4_; }
  const lpm::Lpm6Table& v6() const { return *v6_; }

 private:
  XdpProgram& program_;
  int nexthops_fd_, ifaces_fd_, tx_ports_fd_, hosts4_fd_, hosts6_fd_, vlans_fd_;
  int iface_stats_fd_, iface_reasons_fd_;
  std::unique_ptr<lpm::Lpm4Table> v4_;
  std::unique_ptr<lpm::Lpm6Table> v6_;
  VrfTries vrf_;
};

}  // namespace fpm_sink
