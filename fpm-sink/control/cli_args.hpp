// fpm-sinkctl's words, vtysh style: what CLI11 cannot express on its own.
//   show routes ADDRESS from SOURCE proto udp sport 1234 dport 80
//   show fpm json          (a trailing "json" is --json, as in vtysh)
// Pure functions, so the grammar is unit-tested without a daemon.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "control.pb.h"

namespace fpm_sink::control {

// A trailing "json" becomes "--json" (argv[0] is never touched).
std::vector<std::string> vtysh_json(std::vector<std::string> args);

// The words after `show routes`:
//   [PREFIX | ADDRESS [from SOURCE proto PROTO [sport PORT dport PORT]]]
// PROTO is tcp, udp, sctp, udplite, icmp, icmpv6, gre, esp or a number 0-255.
// Ports are required for tcp / udp / sctp / udplite (the XDP hash reads them)
// and refused for the others (it does not). Errors: id "usage".
struct RouteQuery {
  std::optional<std::string> prefix;
  std::optional<Flow> flow;
};
Result<RouteQuery> parse_route_words(const std::vector<std::string>& words);

// IPPROTO_* of a name or number; nullopt if neither.
std::optional<uint32_t> protocol_number(std::string_view word);

}  // namespace fpm_sink::control
