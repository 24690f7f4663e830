// What fpm-sink mirrors from the kernel over rtnetlink: links (for egress MAC,
// MTU and carrier), neighbours (for next-hop MACs), the router's own
// addresses (punted to the kernel), the forwarding switches
// (netconf_events.hpp) and the policy routing rules (rule_events.hpp).
// Parsing is pure: bytes in, values out.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <variant>

#include "common/ip.hpp"
#include "common/result.hpp"
#include "kernel/netconf_events.hpp"
#include "kernel/rule_events.hpp"

namespace fpm_sink {

using MacAddr = std::array<uint8_t, 6>;
std::string mac_to_string(const MacAddr& mac);

// IFLA_INFO_DATA of a link of kind "vlan" (IFLA_VLAN_*).
struct VlanLinkInfo {
  uint32_t parent = 0;      // IFLA_LINK; 0 when the parent sits in another namespace
  uint16_t id = 0;          // IFLA_VLAN_ID (VID)
  uint16_t protocol = 0;    // IFLA_VLAN_PROTOCOL, host order: 0x8100 (802.1Q), 0x88a8 (802.1ad)
  bool egress_qos = false;  // IFLA_VLAN_EGRESS_QOS maps a priority: PCP is not always 0

  auto operator<=>(const VlanLinkInfo&) const = default;
};

struct LinkInfo {
  uint32_t ifindex = 0;
  std::string name;
  MacAddr mac{};
  uint32_t mtu = 1500;
  bool up = false;  // administratively up AND carrier (IFF_UP && IFF_LOWER_UP / oper up)
  bool is_loopback = false;
  uint32_t master = 0;     // IFLA_MASTER: the VRF, bridge or bond it is enslaved to, 0 = none
  std::string kind;        // IFLA_LINKINFO / IFLA_INFO_KIND ("vrf", "bridge", "bond", "veth"...)
  uint32_t vrf_table = 0;  // a "vrf" link's routing table (IFLA_INFO_DATA / IFLA_VRF_TABLE)
  std::optional<VlanLinkInfo> vlan;  // set for kind "vlan" only

  auto operator<=>(const LinkInfo&) const = default;
};

// What a neighbour entry means to a next hop (fpm_nexthop.state):
//   REACHABLE/STALE/DELAY/PROBE/PERMANENT/NOARP with a lladdr -> Usable (FPM_NH_VALID)
//   FAILED                                                   -> Failed (FPM_NH_FAILED)
//   INCOMPLETE/NONE after having been Usable or Failed       -> Failed (KernelState decides:
//                                                               the neighbour stopped answering)
//   INCOMPLETE/NONE never resolved, or valid without lladdr  -> Unresolved (FPM_NH_UNRESOLVED,
//                                                               the kernel resolves it)
// Failed, unlike Unresolved, lets XDP move the flows to the group's other members at once.
enum class NeighState : uint8_t {
  Usable,
  Unresolved,
  Failed,
};

struct NeighInfo {
  IpAddr addr;
  uint32_t ifindex = 0;
  MacAddr mac{};
  NeighState state = NeighState::Unresolved;
  uint16_t nud = 0;  // raw NUD_* bits, for display

  auto operator<=>(const NeighInfo&) const = default;
};

struct AddrInfo {
  IpAddr addr;
  uint32_t ifindex = 0;
  uint8_t prefix_len = 0;

  auto operator<=>(const AddrInfo&) const = default;
};

template <typename T>
struct Upsert {
  T value;
};
template <typename T>
struct Removal {
  T value;
};

using KernelEvent =
    std::variant<Upsert<LinkInfo>, Removal<LinkInfo>, Upsert<NeighInfo>, Removal<NeighInfo>,
                 Upsert<AddrInfo>, Removal<AddrInfo>, Upsert<ForwardingInfo>,
                 Removal<ForwardingInfo>, Upsert<RuleInfo>, Removal<RuleInfo>>;

NeighState classify_nud(uint16_t nud_state, bool has_lladdr);

// Parses one rtnetlink message (RTM_NEW/DELLINK, RTM_NEW/DELNEIGH, RTM_NEW/DELADDR,
// RTM_NEW/DELNETCONF, RTM_NEW/DELRULE).
// nullopt for message types or families that are not mirrored (bridge FDB entries,
// neighbours without an address); Error for malformed messages.
Result<std::optional<KernelEvent>> parse_kernel_message(std::span<const uint8_t> nlmsg);

}  // namespace fpm_sink
