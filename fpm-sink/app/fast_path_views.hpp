// Control-API views of the fast path: counters by verdict, punt reason and
// port, the per-route offload state added to `show routes`, and the next hops
// with their neighbours and the neighbour refresh (`show nexthops`).
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>

#include "app/xdp_dataplane.hpp"
#include "control.pb.h"

namespace fpm_sink {

std::string_view verdict_name(uint32_t verdict);  // FPM_VERDICT_*, "" if unused
std::string_view reason_name(uint32_t reason);    // FPM_REASON_*, "" if unused

// fp may be null (RIB-only daemon): the reply then says fast_path=false.
Status fill_counters(const XdpDataplane* fp, control::CountersReply* out);
void annotate_offload(const XdpDataplane& fp, control::RoutesReply* routes);
// Fills every next hop's ifname: from the kernel mirror when the fast path
// runs, else by asking the kernel once per ifindex (cached in `names`).
using InterfaceNames = std::unordered_map<uint32_t, std::string>;
void name_interfaces(const XdpDataplane* fp, InterfaceNames& names, control::RoutesReply* routes);
// The same for `show nexthop-groups` (single next hops carry an ifindex).
void name_interfaces(const XdpDataplane* fp, control::NexthopGroupsReply* groups);
// fp may be null, as for fill_counters.
void fill_nexthops(const XdpDataplane* fp, control::NexthopsReply* out);
// The parts of fill_nexthops, usable without a loaded XDP program.
void fill_nexthop_entries(const NextHopTable& table, const KernelState& kernel,
                          control::NexthopsReply* out);
// Sets each next hop's users: the forwarding groups that have it as a member
// and the main-table routes through those groups.
void count_nexthop_users(const FibOffload& fast_path, control::NexthopsReply* out);
void fill_neighbour_refresh(const NeighbourRefreshOptions& options,
                            const NeighbourRefreshStats& stats, control::NeighbourRefresh* out);
std::string nud_name(uint16_t nud);  // "reachable", "stale|noarp"..., "none" for 0

}  // namespace fpm_sink
