#include "control/cli_args.hpp"

#include <charconv>
#include <map>

#include "common/ip.hpp"

namespace fpm_sink::control {
namespace {

fpm_sink::Error usage(std::string message) {
  return fpm_sink::Error{"usage", std::move(message)};
}

std::optional<uint32_t> number(std::string_view word, uint32_t max) {
  uint32_t v = 0;
  auto [end, ec] = std::from_chars(word.data(), word.data() + word.size(), v);
  if (ec != std::errc{} || end != word.data() + word.size() || v > max) return std::nullopt;
  return v;
}

bool has_ports(uint32_t protocol) {
  return protocol == 6 || protocol == 17 || protocol == 132 || protocol == 136;
}

}  // namespace

std::vector<std::string> vtysh_json(std::vector<std::string> args) {
  if (args.size() > 1 && args.back() == "json") args.back() = "--json";
  return args;
}

std::optional<uint32_t> protocol_number(std::string_view word) {
  static const std::map<std::string_view, uint32_t> kNames = {
      {"icmp", 1}, {"tcp", 6},     {"udp", 17},   {"gre", 47},
      {"esp", 50}, {"icmpv6", 58}, {"sctp", 132}, {"udplite", 136}};
  if (auto it = kNames.find(word); it != kNames.end()) return it->second;
  return number(word, 255);
}

Result<RouteQuery> parse_route_words(const std::vector<std::string>& words) {
  RouteQuery q;
  if (words.empty()) return q;
  q.prefix = words[0];
  if (words.size() == 1) return q;

  std::map<std::string, std::string> kw;
  for (size_t i = 1; i < words.size(); i += 2) {
    const std::string& key = words[i];
    if (key != "from" && key != "proto" && key != "sport" && key != "dport")
      return usage("unexpected '" + key + "': expected from, proto, sport or dport");
    if (i + 1 >= words.size()) return usage("'" + key + "' needs a value");
    if (!kw.emplace(key, words[i + 1]).second) return usage("'" + key + "' given twice");
  }
  const auto dst = IpAddr::parse(*q.prefix);
  if (!dst) return usage("a flow's destination is an address, not '" + *q.prefix + "'");
  if (!kw.contains("from")) return usage("a flow needs its source: from ADDRESS");
  const auto src = IpAddr::parse(kw["from"]);
  if (!src) return usage("not an address: '" + kw["from"] + "'");
  if (src->family != dst->family) return usage("source and destination are of different families");
  if (!kw.contains("proto")) return usage("a flow needs its protocol: proto tcp|udp|sctp|icmp|N");
  const auto proto = protocol_number(kw["proto"]);
  if (!proto) return usage("unknown protocol '" + kw["proto"] + "'");

  Flow flow;
  flow.set_source(kw["from"]);
  flow.set_protocol(*proto);
  if (has_ports(*proto)) {
    for (const char* key : {"sport", "dport"}) {
      if (!kw.contains(key))
        return usage("protocol " + kw["proto"] + " hashes on ports: give sport PORT dport PORT");
      const auto port = number(kw[key], 65535);
      if (!port) return usage("not a port: '" + kw[key] + "'");
      if (std::string_view(key) == "sport")
        flow.set_source_port(*port);
      else
        flow.set_destination_port(*port);
    }
  } else if (kw.contains("sport") || kw.contains("dport")) {
    return usage("protocol " + kw["proto"] +
                 " has no ports (the hash uses addresses and protocol)");
  }
  q.flow = std::move(flow);
  return q;
}

}  // namespace fpm_sink::control
