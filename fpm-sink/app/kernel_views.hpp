// Control-API views of the kernel mirror and the ports: `show neighbors`
// (the mirrored neighbour table, and which fast-path next hops use each
// entry) and `show interfaces` (every link: XDP attachment, forwarding
// switches, master, per-port verdicts). Read-only over the runtime.
#pragma once

#include "app/xdp_dataplane.hpp"
#include "control.pb.h"

namespace fpm_sink {

// Fills from the mirror and the next-hop table; usable without a loaded program.
void fill_neighbor_entries(const KernelState& kernel, const NextHopTable& nexthops,
                           control::NeighborsReply* out);
// fp may be null (RIB-only daemon): the replies then say fast_path=false.
void fill_neighbors(const XdpDataplane* fp, control::NeighborsReply* out);
Status fill_interfaces(const XdpDataplane* fp, control::InterfacesReply* out);

// "on" / "off" / "" (not reported yet).
std::string switch_name(std::optional<bool> on);

}  // namespace fpm_sink
