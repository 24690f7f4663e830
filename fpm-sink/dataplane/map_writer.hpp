// The only way FibOffload touches the forwarding maps. Two implementations:
// BpfMapWriter (libbpf + the mmap'd LPM arrays) and FakeMapWriter (in memory,
// for unit tests). Values are the ABI structs of bpf/fpm_abi.h, so a test
// asserts exactly what the XDP program would read.
//
// Every call is one logical map write; FibOffload relies on that to promise
// prefix-independent convergence (a next-hop change is one write_nexthop()).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "common/ip.hpp"
#include "common/result.hpp"
#include "fpm_abi.h"

namespace fpm_sink {

enum class RouteWrite : uint8_t {
  Installed,  // the prefix now resolves to the action
  NoSpace,    // the table is full: the prefix's range was set to punt instead
};

class MapWriter {
 public:
  virtual ~MapWriter() = default;

  // fpm_nexthops[index] = nh.
  virtual Status write_nexthop(uint32_t index, const fpm_nexthop& nh) = 0;

  // Rewrites the buckets listed in `changed` (indices into `buckets`) of
  // fpm_nhg[group] and its member count, leaving flags alone. Each bucket
  // store is atomic, so a live group moves flow by flow, never torn.
  virtual Status write_buckets(uint32_t group, std::span<const uint32_t> changed,
                               std::span<const uint32_t, FPM_NHG_BUCKETS> buckets,
                               uint32_t n_members) = 0;
  // fpm_nhg[group].flags = flags, after the buckets (release order).
  virtual Status publish_group(uint32_t group, uint32_t flags) = 0;

  // LPM tables (main table slot). `action` is an fpm_act_make() value.
  virtual Result<RouteWrite> route_set(const Prefix& prefix, uint32_t action) = 0;
  virtual Status route_remove(const Prefix& prefix) = 0;
  // Gives a full table the chance to re-offload punted ranges now that space
  // may have freed (FibOffload::poll() calls it before retrying routes).
  virtual void route_retry() {}
  // Routes (prefixes given to route_set) whose range the table set to punt
  // since the last call, after a NoSpace write or route_retry(): however long
  // ago they were written, they punt now.
  virtual std::vector<Prefix> take_punted_routes() { return {}; }
  // Hint: route_set/route_remove(prefix) may follow; start loading what it reads.
  virtual void prefetch_route(const Prefix& /*prefix*/) const {}
  // Start-up sizing of whatever the LPM writers keep per route.
  virtual void reserve_routes(size_t /*v4*/, size_t /*v6*/) {}

  // VRF tables (bpf/lib/vrf.h), slot >= 1. vrf_table_attach creates the
  // slot's two empty tries (max_routes entries per family) and publishes them
  // in fpm_vrf4 / fpm_vrf6[slot]; vrf_table_detach unpublishes and frees
  // them, after which XDP punts the slot's ports with NO_TABLE.
  virtual Status vrf_table_attach(uint16_t slot, uint32_t max_routes) = 0;
  virtual Status vrf_table_detach(uint16_t slot) = 0;
  // One trie write; NoSpace when the slot's trie of that family is full
  // (nothing written: the caller must keep the table's ports from using it).
  virtual Result<RouteWrite> vrf_route_set(uint16_t slot, const Prefix& prefix,
                                           uint32_t action) = 0;
  // Removing a prefix the trie does not hold is not an error.
  virtual Status vrf_route_remove(uint16_t slot, const Prefix& prefix) = 0;

  // Connected hosts: fpm_hosts4 / fpm_hosts6[table_slot, addr] = nh, one
  // whole-value write (a packet sees the old entry or the new one). Error id
  // "dataplane.host.full" (ENOSPC) when the family's map has no room for a new key.
  virtual Status write_host(uint16_t table_slot, const IpAddr& addr, const fpm_nexthop& nh) = 0;
  // Removing a key the map does not hold is not an error.
  virtual Status remove_host(uint16_t table_slot, const IpAddr& addr) = 0;

  // Ingress ports (fpm_ifaces) and egress ports (fpm_tx_ports).
  virtual Status write_iface(uint32_t ifindex, const fpm_iface& iface) = 0;
  virtual Status remove_iface(uint32_t ifindex) = 0;
  virtual Status add_tx_port(uint32_t ifindex) = 0;
  virtual Status remove_tx_port(uint32_t ifindex) = 0;

  // Zeroes a counter slot on every CPU: fpm_iface_stats[slot] and the slot's
  // FPM_REASON_MAX entries of fpm_iface_reasons. Only for a slot no
  // fpm_ifaces entry names and past its quarantine, so that no XDP run can
  // add to it meanwhile (an increment racing the write would survive it).
  virtual Status clear_port_counters(uint32_t slot) = 0;

  // 802.1Q subinterfaces (bpf/lib/vlan.h). fpm_tx_ports[ifindex] = parent: a
  // redirect to the subinterface leaves through its parent (remove_tx_port()
  // drops it). fpm_vlans[{parent, vid}] = ifindex: tagged frames enter it.
  virtual Status add_tx_via(uint32_t ifindex, uint32_t parent) = 0;
  virtual Status write_vlan(uint32_t parent, uint16_t vid, uint32_t ifindex) = 0;
  // Removing a key the map does not hold is not an error.
  virtual Status remove_vlan(uint32_t parent, uint16_t vid) = 0;
};

}  // namespace fpm_sink
