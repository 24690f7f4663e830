// In-memory MapWriter for unit tests: holds what the XDP program would read
// and counts writes per kind, so tests can assert both contents and cost
// (e.g. "a neighbour change is exactly one next-hop write").
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "dataplane/map_writer.hpp"

namespace fpm_sink {

class FakeMapWriter final : public MapWriter {
 public:
  // Routes beyond `route_capacity` report NoSpace (their range "punted").
  explicit FakeMapWriter(size_t route_capacity = SIZE_MAX) : route_capacity_(route_capacity) {}

  Status write_nexthop(uint32_t index, const fpm_nexthop& nh) override;
  Status write_buckets(uint32_t group, std::span<const uint32_t> changed,
                       std::span<const uint32_t, FPM_NHG_BUCKETS> buckets,
                       uint32_t n_members) override;
  Status publish_group(uint32_t group, uint32_t flags) override;
  Result<RouteWrite> route_set(const Prefix& prefix, uint32_t action) override;
  Status route_remove(const Prefix& prefix) override;
  Status vrf_table_attach(uint16_t slot, uint32_t max_routes) override;
  Status vrf_table_detach(uint16_t slot) override;
  Result<RouteWrite> vrf_route_set(uint16_t slot, const Prefix& prefix, uint32_t action) override;
  Status vrf_route_remove(uint16_t slot, const Prefix& prefix) override;
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

  // What the fast path holds.
  std::map<uint32_t, fpm_nexthop> nexthops;
  std::map<uint32_t, fpm_nhg> groups;
  std::map<Prefix, uint32_t> routes;  // installed prefix -> action
  std::set<Prefix> punted;            // prefixes that hit NoSpace and are not installed
  struct VrfTrie {
    uint32_t max_routes = 0;  // per family
    std::map<Prefix, uint32_t> routes;
  };
  std::map<uint16_t, VrfTrie> vrf;                           // published VRF tables by slot
  std::map<std::pair<uint16_t, IpAddr>, fpm_nexthop> hosts;  // (table slot, address), both families
  size_t host_capacity = SIZE_MAX;                           // per family, like the two BPF maps
  // Host entries found under a slot as it was detached: the slot may go to
  // another table next, whose ports would read them.
  size_t hosts_at_detach = 0;
  std::map<uint32_t, fpm_iface> ifaces;
  std::set<uint32_t> tx_ports;
  // Packets counted per counter slot: tests add what XDP would count, a clear erases the slot's.
  std::map<uint32_t, uint64_t> slot_packets;
  std::vector<uint32_t> cleared_slots;  // every clear_port_counters, in order
  // Clears of a slot an fpm_ifaces entry named at that moment (XDP could still count in it).
  size_t slots_cleared_in_use = 0;
  std::map<uint32_t, uint32_t> tx_via;                      // subinterface -> parent
  std::map<std::pair<uint32_t, uint16_t>, uint32_t> vlans;  // (parent, vid) -> subinterface

  // Longest-prefix match over the installed routes (0 = no route, like the LPM).
  uint32_t lookup(const IpAddr& addr) const;
  // The same over a VRF slot's trie; FPM_VRF_NO_TABLE's action if the slot has none.
  uint32_t vrf_lookup(uint16_t slot, const IpAddr& addr) const;

  struct Counts {
    uint64_t nexthop = 0, bucket = 0, bucket_calls = 0, publish = 0, route_set = 0,
             route_remove = 0, iface = 0, tx_port = 0, host = 0, vrf_route = 0, vrf_table = 0,
             counters = 0;
    uint64_t total() const {
      return nexthop + bucket_calls + publish + route_set + route_remove + iface + tx_port + host +
             vrf_route + vrf_table + counters;
    }
  } writes;

  size_t route_capacity_;
  bool fail_next_write = false;  // inject one "bpf.map.update" error

 private:
  std::optional<Error> injected();
};

}  // namespace fpm_sink
