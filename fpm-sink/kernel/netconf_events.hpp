// The kernel's forwarding switches (net.ipv4.conf.<port>.forwarding,
// net.ipv6.conf.<port>.forwarding, net.ipv6.conf.all.forwarding) from
// rtnetlink netconf messages (RTM_NEWNETCONF / RTM_DELNETCONF). Pure: bytes in,
// values out.
//
// What the kernel checks before routing a packet (net/ipv4/route.c,
// net/ipv6/ip6_output.c, net/core/filter.c bpf_fib_lookup):
//   IPv4: IN_DEV_FORWARD(ingress in_dev), the port's own switch only ("all" is
//         copied to every port when written, but is not consulted).
//   IPv6: ip6_forward() consults net.ipv6.conf.all.forwarding; bpf_fib_lookup()
//         the ingress port's switch. The fast path forwards when both are on.
#pragma once

#include <cstdint>
#include <optional>

#include "common/ip.hpp"
#include "common/result.hpp"

struct nlmsghdr;

namespace fpm_sink {

// NETCONFA_IFINDEX_ALL: the "all" entry, kept for IPv6 (see above).
constexpr int32_t kNetconfIfindexAll = -1;

struct ForwardingInfo {
  Family family = Family::V4;
  int32_t ifindex = 0;  // a port, or kNetconfIfindexAll (IPv6 only)
  bool forwarding = false;

  auto operator<=>(const ForwardingInfo&) const = default;
};

struct NetconfChange {
  ForwardingInfo info;
  bool removed = false;  // RTM_DELNETCONF: the port (or its inet6_dev) went away
};

// nullopt for what is not mirrored: other families (MPLS), the "default" entry
// (NETCONFA_IFINDEX_DEFAULT, a template for future ports), IPv4's "all" entry,
// and notifications of other settings (rp_filter, proxy_neigh...), which carry
// no NETCONFA_FORWARDING. Error for malformed messages.
Result<std::optional<NetconfChange>> parse_netconf(const nlmsghdr* nlh);

}  // namespace fpm_sink
