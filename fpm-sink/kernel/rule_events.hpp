// Policy routing rules (ip rule) from rtnetlink RTM_NEWRULE / RTM_DELRULE
// messages. Pure: bytes in, values out.
//
// XDP looks a packet up in main, or in its port's VRF table. A rule is
// *standard* when it cannot send a forwarded packet anywhere else:
//   - "lookup local|main|default" with no selector at all (the rules of a
//     fresh namespace: 0 local, 32766 main, 32767 default; IPv6 has no
//     default-table rule);
//   - the l3mdev rule (`ip rule add l3mdev`, set up with VRFs), which sends a
//     VRF port's packets to the VRF's table, as XDP does.
// Anything else (other tables, goto / nop / blackhole / unreachable /
// prohibit, any selector, an attribute this parser does not know) is not:
// while one exists the fast path leaves the family to the kernel, or only
// the packets received on one interface when the rule names it (iif X, not
// inverted): the kernel matches a rule only if all its selectors match.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/ip.hpp"
#include "common/result.hpp"

struct nlmsghdr;

namespace fpm_sink {

struct RuleInfo {
  Family family = Family::V4;
  uint32_t priority = 0;  // FRA_PRIORITY (0: the first rule)
  uint32_t table = 0;     // FRA_TABLE, else fib_rule_hdr.table
  uint8_t action = 0;     // FR_ACT_*
  // Empty for a standard rule; otherwise what makes it non-standard, for logs.
  std::string nonstandard;
  // FRA_IIFNAME of a rule that is not inverted: it matches only packets
  // received on that interface (or, for a VRF device, on its ports). Empty:
  // any interface.
  std::string only_iif;
  // The message payload (fib_rule_hdr and attributes) with the flags the
  // kernel sets from its own state (unresolved goto, detached iif / oif)
  // cleared: the RTM_DELRULE of a rule carries the same bytes as its
  // RTM_NEWRULE, so this tells rules apart.
  std::vector<uint8_t> key;

  bool standard() const { return nonstandard.empty(); }
  auto operator<=>(const RuleInfo&) const = default;
};

struct RuleChange {
  RuleInfo info;
  bool removed = false;  // RTM_DELRULE
};

// nullopt for families that are not mirrored (IPv4 / IPv6 multicast routing
// rules share the rule groups). Error for malformed or truncated messages.
Result<std::optional<RuleChange>> parse_rule(const nlmsghdr* nlh);

}  // namespace fpm_sink
