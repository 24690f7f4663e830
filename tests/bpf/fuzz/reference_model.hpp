// An independent C++ model of the XDP program's routing decision, written
// from the ABI contract (fpm_abi.h) and DESIGN.md, not from the BPF code: it
// parses raw frame bytes itself and finds routes by exact match per prefix
// length over the route list, so it also cross-checks the DIR-24-8 / trie
// tables the harness writes.
//
// ECMP: the model does not recompute the flow hash. For a route to a group it
// names the group's members that may carry the packet and the reason a packet
// punts when it hashes to a member that cannot (see GroupOutcome); the test
// checks the redirect went to one of those members, with its MACs. Sharing the
// hash would make the model depend on the code under test; the spread and the
// resilience of the hash are ecmp_test.cpp's job.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>
#include <vector>

#include "fpm_abi.h"
#include "packet_builder.hpp"

namespace fpm_test {

struct RefIface {
  uint16_t flags = 0;  // FPM_IFACE_F_*
  uint16_t table_slot = FPM_TABLE_SLOT_MAIN;
  Mac mac{};  // the port's own address: only frames sent to it are routed
};

struct RefNexthop {
  uint32_t ifindex = 0;
  uint32_t mtu = 0;
  Mac dst{}, src{};
  uint8_t state = FPM_NH_UNRESOLVED;
};

struct RefGroup {
  bool valid = false;
  std::vector<uint32_t> members;  // next-hop indexes
};

// What a frame must produce. For a forward to a group, `members` holds the
// next hops a redirect may use; `group_punt` is the reason when the flow
// hashes to a member that cannot forward (nullopt: no member punts).
struct RefDecision {
  uint32_t verdict = FPM_VERDICT_PASS;
  uint32_t reason = FPM_REASON_NONE;
  std::vector<uint32_t> members;
  std::optional<uint32_t> group_punt;
  uint32_t l3_len = 0;
};

class ReferenceModel {
 public:
  void set_iface(uint32_t ifindex, const RefIface& i) { ifaces_[ifindex] = i; }
  void add_tx_port(uint32_t ifindex) { tx_ports_.insert(ifindex); }
  void set_nexthop(uint32_t index, const RefNexthop& nh) { nexthops_[index] = nh; }
  void set_group(uint32_t index, const RefGroup& g) { groups_[index] = g; }
  void add_local4(const Ip4& a) { local4_.insert(a); }
  void add_local6(const Ip6& a) { local6_.insert(a); }
  // Connected hosts of a table slot: the destination's entry, a next hop
  // (set_nexthop) by index, used only behind a PUNT(CONNECTED) route of the
  // ingress port's table, and only if the port reads that slot.
  void set_host4(uint16_t slot, const Ip4& a, uint32_t nh_index) { hosts4_[{slot, a}] = nh_index; }
  void set_host6(uint16_t slot, const Ip6& a, uint32_t nh_index) { hosts6_[{slot, a}] = nh_index; }
  void route4(const Ip4& prefix, unsigned len, uint32_t action);
  void route6(const Ip6& prefix, unsigned len, uint32_t action);

  const RefNexthop* nexthop(uint32_t index) const;
  RefDecision decide(const Bytes& frame, uint32_t ingress_ifindex) const;

 private:
  // host: the destination's connected-host entry, if it has one. hairpin_dev:
  // the ingress device when a next hop leaving by it punts (FPM_REASON_HAIRPIN),
  // else 0.
  RefDecision resolve(uint32_t action, uint32_t l3_len, const uint32_t* host,
                      uint32_t hairpin_dev) const;
  RefDecision through_members(const std::vector<uint32_t>& members, uint32_t l3_len,
                              uint32_t hairpin_dev) const;
  uint32_t lookup4(uint32_t addr) const;
  uint32_t lookup6(const uint8_t* addr) const;

  std::map<uint32_t, RefIface> ifaces_;
  std::set<uint32_t> tx_ports_;
  std::map<uint32_t, RefNexthop> nexthops_;
  std::map<uint32_t, RefGroup> groups_;
  std::set<Ip4> local4_;
  std::set<Ip6> local6_;
  std::map<std::pair<uint16_t, Ip4>, uint32_t> hosts4_;  // (table slot, address)
  std::map<std::pair<uint16_t, Ip6>, uint32_t> hosts6_;
  // Routes by prefix length, keyed by the masked prefix.
  std::array<std::unordered_map<uint32_t, uint32_t>, 33> routes4_;
  std::array<std::map<Ip6, uint32_t>, 129> routes6_;
};

}  // namespace fpm_test
