#include "app/options.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <charconv>

#include "common/main_table.hpp"
#include "fpm_abi.h"

namespace fpm_sink {

static_assert(Options{}.nexthop_groups == FPM_MAX_NHG && Options{}.nexthops == FPM_MAX_NEXTHOPS &&
                  Options{}.vrf_tables == FPM_VRF_TABLES_DEFAULT &&
                  Options{}.vrf_routes == FPM_VRF_ROUTES_DEFAULT,
              "the defaults are the BPF maps' own sizes");

namespace {

Result<uint16_t> parse_port(std::string_view text) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || value == 0 ||
      value > 65535) {
    return Error{"app.options.bad_listen", "bad port '" + std::string(text) + "'"};
  }
  return static_cast<uint16_t>(value);
}

}  // namespace

std::string ListenEndpoint::to_string() const {
  const bool v6 = address.find(':') != std::string::npos;
  return (v6 ? "[" + address + "]" : address) + ":" + std::to_string(port);
}

Result<ListenEndpoint> parse_listen(std::string_view text, uint16_t default_port) {
  ListenEndpoint ep;
  ep.port = default_port;
  std::string_view host = text;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos)
      return Error{"app.options.bad_listen", "missing ']' in '" + std::string(text) + "'"};
    host = text.substr(1, close - 1);
    const auto rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':')
        return Error{"app.options.bad_listen", "junk after ']' in '" + std::string(text) + "'"};
      port = rest.substr(1);
    }
  } else if (std::count(text.begin(), text.end(), ':') == 1) {
    const auto colon = text.find(':');
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  // Several colons and no brackets: a bare IPv6 address on the default port.
  boost::system::error_code ec;
  const auto addr = boost::asio::ip::make_address(std::string(host), ec);
  if (ec) return Error{"app.options.bad_listen", "not an IP address: '" + std::string(host) + "'"};
  ep.address = addr.to_string();
  if (!port.empty() || (text.size() && text.back() == ':')) {
    auto p = parse_port(port);
    if (!p) return p.error();
    ep.port = *p;
  }
  return ep;
}

void add_options(CLI::App& app, Options& opts) {
  // Each group is a section of the config file (app/config_file.hpp); the
  // default group "Options" is its top level, so an option added at the end
  // lands there unless it names a group.
  app.option_defaults()->group("FPM");
  app.add_option("--fpm-listen", opts.fpm_listen,
                 "address[:port] zebra connects to (IPv6 as [addr]:port or bare addr)")
      ->capture_default_str()
      ->check([](const std::string& v) {
        auto r = parse_listen(v);
        return r ? std::string() : r.error().message;
      });
  app.add_option("--fpm-allow-user", opts.fpm_allow_users,
                 "user (NAME or UID) whose sockets may open an FPM session (repeatable; "
                 "default: root and frr)")
      ->take_all();
  app.add_option("--fpm-allow-peer", opts.fpm_allow_peers,
                 "peer IP address allowed to connect (repeatable); required when --fpm-listen "
                 "is not a loopback address")
      ->take_all();
  app.add_option("--fpm-hold-time", opts.fpm_hold_time_seconds,
                 "after zebra's session drops, keep forwarding its routes this many seconds; "
                 "if no new session replays by then they punt to the kernel (0: forever)")
      ->capture_default_str()
      ->check(CLI::Range(0u, 86400u));
  app.add_option("--offload-feedback", opts.offload_feedback,
                 "reply to zebra with each route's offload state (RTM_F_OFFLOAD, "
                 "RTM_F_OFFLOAD_FAILED, RTM_F_TRAP; read by FRR >= 8.5): on or off")
      ->capture_default_str()
      ->transform(CLI::Transformer(std::map<std::string, bool>{{"on", true}, {"off", false}})
                      .description("on|off"));
  app.add_option("--sweep-delay", opts.sweep_delay_seconds,
                 "seconds of quiet after a (re)connect before unrefreshed entries are swept")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 86400.0));
  app.option_defaults()->group("RIB");
  app.add_option("--rib-reserve", opts.rib_reserve,
                 "routes to pre-size the RIB for (e.g. 1200000 for a full IPv4+IPv6 table); "
                 "0 grows it as routes arrive")
      ->capture_default_str()
      ->check(CLI::Range(uint64_t{0}, uint64_t{1} << 31));
  app.add_option("--max-routes", opts.max_routes,
                 "routes (every table and family) the RIB accepts; past it new prefixes are "
                 "refused, counted, and every route punts to the kernel until restart "
                 "(0: no limit)")
      ->capture_default_str()
      ->check(CLI::Range(uint64_t{0}, uint64_t{1} << 40));
  app.add_option("--max-group-members", opts.max_group_members,
                 "entries of one next-hop group; a larger group is refused and its previous "
                 "version stays")
      ->capture_default_str()
      ->check(CLI::Range(1u, 1u << 20));
  app.option_defaults()->group("Fast path");
  app.add_option("--interface", opts.interfaces,
                 "port to attach the XDP fast path to (repeatable); 'all' = every non-loopback "
                 "interface, including ones that appear later. None: RIB only, no fast path")
      ->take_all();
  app.add_option("--xdp-mode", opts.xdp_mode,
                 "native (driver XDP) or generic (skb mode: slower than the kernel, for testing)")
      ->capture_default_str()
      ->check(CLI::IsMember({"native", "generic"}));
  app.add_option("--bpffs", opts.bpffs,
                 "bpffs directory where maps and XDP links are pinned (bpffs is mounted on its "
                 "parent if absent)")
      ->capture_default_str();
  app.add_flag("--keep-fast-path", opts.keep_fast_path,
               "leave XDP attached and maps pinned on exit, so forwarding continues while "
               "fpm-sink restarts");
  app.add_option("--warm-restart-timeout", opts.warm_restart_timeout_seconds,
                 "when a previous run's tables are still pinned (--keep-fast-path), keep them "
                 "forwarding until zebra's replay has caught up, for at most this many seconds; "
                 "0 empties them at start instead")
      ->capture_default_str()
      ->check(CLI::Range(0u, 3600u));
  app.add_option("--neighbour-refresh", opts.neighbour_refresh_seconds,
                 "mark every neighbour behind a programmed next hop used (NTF_USE) once per "
                 "this many seconds, so the kernel re-probes them and fails dead ones; 0 = off")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 3600.0));
  app.add_option("--neighbour-refresh-max", opts.neighbour_refresh_max,
                 "at most this many neighbour refreshes per 0.5 s tick")
      ->capture_default_str()
      ->check(CLI::Range(1u, 1000000u));
  app.add_option("--v4-tbl8-groups", opts.v4_tbl8_groups,
                 "IPv4 tbl8 groups (256 entries, 1 KiB each) for prefixes longer than /24")
      ->capture_default_str()
      ->check(CLI::Range(1u, 1u << 24));
  app.add_option("--v6-nodes", opts.v6_nodes, "IPv6 trie nodes (1 KiB each)")
      ->capture_default_str()
      ->check(CLI::Range(1u, 1u << 24));
  // Changing a table size replaces its pinned map: the next start is cold.
  app.add_option("--nexthop-groups", opts.nexthop_groups,
                 "next-hop group slots (fpm_nhg, 1 KiB each): one per group zebra sends, "
                 "single next hops included")
      ->capture_default_str()
      ->check(CLI::Range(1u, 1u << 20));
  app.add_option("--nexthops", opts.nexthops,
                 "next-hop slots (fpm_nexthops, 24 bytes each): distinct (gateway, port) pairs")
      ->capture_default_str()
      ->check(CLI::Range(1u, 1u << 24));
  app.add_option("--max-hosts", opts.max_hosts,
                 "resolved neighbours on connected subnets XDP forwards to directly, per "
                 "family; past it the others punt to the kernel (counted in show nexthops)")
      ->capture_default_str()
      ->check(CLI::Range(1u, 1u << 24));
  // Slots are 16 bits in fpm_iface.table_slot, 0xffff meaning none.
  app.add_option("--vrf-tables", opts.vrf_tables,
                 "tables besides main (VRFs) XDP routes in, each in its own LPM tries; routes "
                 "of further tables, and the ports of their VRFs, are left to the kernel")
      ->capture_default_str()
      ->check(CLI::Range(0u, 4096u));
  app.add_option("--vrf-routes", opts.vrf_routes,
                 "routes per family a VRF table holds (its LPM tries' size); a table that "
                 "outgrows it is left to the kernel whole until it fits again")
      ->capture_default_str()
      ->check(CLI::Range(1u, 1u << 24));
  app.add_option("--vrf-table-routes", opts.vrf_table_routes,
                 "TABLE=ROUTES: the size of one VRF table instead of --vrf-routes (repeatable)")
      ->check([](const std::string& v) {
        const auto eq = v.find('=');
        uint32_t table = 0, routes = 0;
        auto num = [](std::string_view t, uint32_t& out) {
          auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), out);
          return ec == std::errc() && p == t.data() + t.size();
        };
        if (eq == std::string::npos || !num(std::string_view(v).substr(0, eq), table) ||
            !num(std::string_view(v).substr(eq + 1), routes) || table == 0 || table == kMainTable ||
            routes == 0 || routes > (1u << 24))
          return "expected TABLE=ROUTES (table not 0 or 254, routes 1.." +
                 std::to_string(1u << 24) + "), got '" + v + "'";
        return std::string();
      });
  app.option_defaults()->group("Options");
  app.add_option("--log-level", opts.log_level, "log level")
      ->capture_default_str()
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));
  app.add_option("--control-socket", opts.control_socket, "Unix socket for fpm-sinkctl")
      ->capture_default_str();
  app.add_option("--metrics-listen", opts.metrics_listen,
                 "address:port serving Prometheus metrics on /metrics, or 'off' (IPv6 as "
                 "[addr]:port, if the civetweb library was built with IPv6)")
      ->capture_default_str()
      ->check([](const std::string& v) {
        if (v == "off") return std::string();
        auto r = parse_listen(v, kDefaultMetricsPort);
        return r ? std::string() : r.error().message;
      });
  // Not keys of the config file: they say where it is and what to do with it.
  app.add_option("--config", opts.config_path,
                 "TOML config file: every other option is a key there (see dist/fpm-sink.toml), "
                 "and the command line wins over it. A missing default file is no error")
      ->capture_default_str()
      ->configurable(false);
  app.add_flag("--check-config", opts.check_config,
               "validate the config file and the command line, print the problems, exit 0 or 1 "
               "(touches no BPF, socket or bpffs)")
      ->configurable(false);
}

void finish_options(Options& opts) {
  auto ep = parse_listen(opts.fpm_listen);
  if (!ep) throw CLI::ValidationError("--fpm-listen", ep.error().message);
  opts.fpm_endpoint = *ep;
  const auto addr = boost::asio::ip::make_address(opts.fpm_endpoint.address);
  if (!addr.is_loopback() && opts.fpm_allow_peers.empty())
    throw CLI::ValidationError("--fpm-listen", "non-loopback address " +
                                                   opts.fpm_endpoint.to_string() +
                                                   " lets other hosts feed the FIB: name them with "
                                                   "--fpm-allow-peer ADDR");
  opts.metrics_endpoint.reset();
  if (opts.metrics_listen != "off") {
    auto m = parse_listen(opts.metrics_listen, kDefaultMetricsPort);
    if (!m) throw CLI::ValidationError("--metrics-listen", m.error().message);
    opts.metrics_endpoint = *m;
  }
  for (const auto& p : opts.fpm_allow_peers) {
    boost::system::error_code ec;
    boost::asio::ip::make_address(p, ec);
    if (ec) throw CLI::ValidationError("--fpm-allow-peer", "not an IP address: '" + p + "'");
  }
}

std::map<uint32_t, uint32_t> vrf_routes_by_table(const Options& opts) {
  std::map<uint32_t, uint32_t> out;
  for (const auto& v : opts.vrf_table_routes) {
    const auto eq = v.find('=');
    if (eq == std::string::npos) continue;  // the option's check refused it already
    out[static_cast<uint32_t>(std::stoul(v.substr(0, eq)))] =
        static_cast<uint32_t>(std::stoul(v.substr(eq + 1)));
  }
  return out;
}

}  // namespace fpm_sink
