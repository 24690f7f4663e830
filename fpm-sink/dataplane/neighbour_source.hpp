// What FibOffload needs to know about the kernel's neighbours and links to fill a
// next-hop entry. The daemon answers them from its rtnetlink mirror
// (kernel/kernel_view.hpp); StaticKernelView serves tests and benches, and
// SysfsLinkSource reads real links for BPF tests.
//
// Sources answer questions; they do not push. Whoever learns of a change calls
// FibOffload::neighbour_changed() / link_changed(), which rewrite only the
// affected next-hop entries.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "common/ip.hpp"
#include "common/main_table.hpp"

namespace fpm_sink {

using EthAddr = std::array<uint8_t, 6>;

struct NeighbourEntry {
  EthAddr mac{};
  bool usable = false;  // false: incomplete/failed, the kernel must resolve it
  // Not usable because it stopped answering (FAILED, or lost its MAC): the next hop is
  // FPM_NH_FAILED so XDP moves its flows to the group's other members at once; otherwise
  // FPM_NH_UNRESOLVED and the kernel resolves it.
  bool failed = false;
};

// A VLAN device (kind "vlan"): the fast path routes it through its parent
// when it is an 802.1Q subinterface of an attached port (fib_offload_vlans.cpp).
struct VlanEntry {
  uint32_t parent = 0;      // ifindex, 0 = unknown / another namespace
  uint16_t id = 0;          // VID
  uint16_t protocol = 0;    // tag protocol, host order (0x8100 = 802.1Q)
  bool egress_qos = false;  // egress-qos-map set: the kernel may write a PCP we would not
};

struct LinkEntry {
  EthAddr mac{};
  uint32_t mtu = 1500;
  bool up = false;          // admin up and carrier
  uint32_t master = 0;      // ifindex of its VRF / bridge / bond, 0 = routed in the main table
  std::string master_kind;  // that master's kind ("vrf", "bridge", "bond"), "" if unknown
  uint32_t vrf_table = 0;   // a "vrf" master's table (IFLA_VRF_TABLE), 0 if none / unknown
  // The kernel would route IPv4 / IPv6 received on this port (its forwarding
  // switches, see kernel/netconf_events.hpp). Unknown counts as off: punted.
  bool forward_v4 = false;
  bool forward_v6 = false;
  std::optional<VlanEntry> vlan;  // set for VLAN devices only
};

// The table a link's packets are routed in: main without a master, its VRF's
// under a VRF; nullopt under any other master (bridge, bond) or a VRF whose
// table is not known yet, whose packets the fast path punts.
inline std::optional<uint32_t> routing_table(const LinkEntry& link) {
  if (!link.master) return kMainTable;
  if (link.master_kind == "vrf" && link.vrf_table != 0) return link.vrf_table;
  return std::nullopt;
}

class NeighbourSource {
 public:
  virtual ~NeighbourSource() = default;
  virtual std::optional<NeighbourEntry> neighbour(const IpAddr& gateway,
                                                  uint32_t ifindex) const = 0;
  // Every neighbour whose address lies in `within`, on any interface: the host
  // table walks them when a connected subnet or a port comes or goes.
  using NeighbourFn = std::function<void(const IpAddr& addr, uint32_t ifindex)>;
  virtual void for_each_neighbour(const Prefix& within, const NeighbourFn& fn) const = 0;
  // One of the router's own addresses: never a host entry (XDP punts it as local).
  virtual bool is_local(const IpAddr& addr) const = 0;
};

class LinkSource {
 public:
  virtual ~LinkSource() = default;
  virtual std::optional<LinkEntry> link(uint32_t ifindex) const = 0;
};

// A map you fill by hand: tests, and routers whose neighbours are static.
class StaticKernelView final : public NeighbourSource, public LinkSource {
 public:
  void set_neighbour(const IpAddr& gw, uint32_t ifindex, NeighbourEntry n) {
    neighbours_[{gw, ifindex}] = n;
  }
  void erase_neighbour(const IpAddr& gw, uint32_t ifindex) { neighbours_.erase({gw, ifindex}); }
  void set_local(const IpAddr& addr, bool local) {
    if (local)
      locals_.insert(addr);
    else
      locals_.erase(addr);
  }
  void set_link(uint32_t ifindex, LinkEntry l) { links_[ifindex] = l; }
  void erase_link(uint32_t ifindex) { links_.erase(ifindex); }

  std::optional<NeighbourEntry> neighbour(const IpAddr& gw, uint32_t ifindex) const override {
    auto it = neighbours_.find({gw, ifindex});
    if (it == neighbours_.end()) return std::nullopt;
    return it->second;
  }
  void for_each_neighbour(const Prefix& within, const NeighbourFn& fn) const override {
    for (const auto& [key, _] : neighbours_)
      if (within.contains(key.first)) fn(key.first, key.second);
  }
  bool is_local(const IpAddr& addr) const override { return locals_.contains(addr); }
  std::optional<LinkEntry> link(uint32_t ifindex) const override {
    auto it = links_.find(ifindex);
    if (it == links_.end()) return std::nullopt;
    return it->second;
  }

 private:
  std::map<std::pair<IpAddr, uint32_t>, NeighbourEntry> neighbours_;
  std::map<uint32_t, LinkEntry> links_;
  std::set<IpAddr> locals_;
};

// Reads /sys/class/net/<name>/{address,mtu,operstate,flags} and the forwarding
// sysctls under /proc/sys/net on every call.
// Good enough for start-up and tests; the rtnetlink mirror replaces it.
class SysfsLinkSource final : public LinkSource {
 public:
  std::optional<LinkEntry> link(uint32_t ifindex) const override;
};

}  // namespace fpm_sink
