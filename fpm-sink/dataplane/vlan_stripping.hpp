// Whether a NIC strips 802.1Q tags on receive (ethtool's rx-vlan-offload):
// the tag then travels in the receive descriptor, not in the frame XDP reads,
// so a subinterface's frames look untagged to the fast path (see README,
// "VLAN subinterfaces").
#pragma once

#include <optional>
#include <string>

namespace fpm_sink {

// nullopt when the driver does not say (ETHTOOL_GFLAGS refused).
std::optional<bool> strips_vlan_tags(const std::string& ifname);

}  // namespace fpm_sink
