// Command-line options of the fpm-sink daemon as a plain struct. Parsing lives
// here (not in main) so tests and later options stay in one place; every
// option is also a config file key without further work (app/config_file.hpp).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace CLI {
class App;
}

namespace fpm_sink {

constexpr uint16_t kDefaultFpmPort = 2620;
// In the range Prometheus exporters use (9100-9999); see README "Metrics".
constexpr uint16_t kDefaultMetricsPort = 9476;

struct ListenEndpoint {
  std::string address = "127.0.0.1";  // literal IPv4 / IPv6 address, no brackets
  uint16_t port = kDefaultFpmPort;
  std::string to_string() const;  // "127.0.0.1:2620", "[::1]:2620"
};

// "127.0.0.1:2620", "127.0.0.1", "[::1]:2620", "[::1]", "::1" (bare IPv6, default port).
// Error: app.options.bad_listen.
Result<ListenEndpoint> parse_listen(std::string_view text, uint16_t default_port = kDefaultFpmPort);

struct Options {
  std::string fpm_listen = "127.0.0.1:2620";
  ListenEndpoint fpm_endpoint;  // parsed from fpm_listen
  // Who may feed the FIB (app/peer_policy.hpp): users by name or uid (empty:
  // root and frr), and peer addresses (required for a non-loopback listen).
  std::vector<std::string> fpm_allow_users;
  std::vector<std::string> fpm_allow_peers;
  std::string control_socket = "/run/fpm-sink/control.sock";
  std::string log_level = "info";  // trace, debug, info, warn, error, critical, off
  double sweep_delay_seconds = 30;
  // Routes to size the RIB for at start (0: grow as routes arrive). A full table
  // then loads without rehashing; the RIB keeps its size across reconnects.
  uint64_t rib_reserve = 0;
  // RibLimits (rib/rib.hpp): routes the RIB accepts (0: no limit; past it the
  // fast path punts everything) and the entries of one next-hop group.
  uint64_t max_routes = 0;
  uint32_t max_group_members = 1024;
  // How long the fast path keeps forwarding a lost session's routes before
  // they punt to the kernel, unless a new session replays (0: forever).
  uint32_t fpm_hold_time_seconds = 120;
  // Tell zebra what the fast path does with each route (RTM_F_OFFLOAD replies).
  bool offload_feedback = true;
  // Prometheus /metrics (app/metrics_exporter.hpp): ADDR:PORT, or "off".
  std::string metrics_listen = "127.0.0.1:9476";
  std::optional<ListenEndpoint> metrics_endpoint;  // parsed from metrics_listen; none if off

  // Fast path: without --interface the daemon keeps the RIB only.
  std::vector<std::string> interfaces;  // names, or "all"
  std::string xdp_mode = "native";      // native | generic
  std::string bpffs = "/sys/fs/bpf/fpm-sink";
  bool keep_fast_path = false;
  uint32_t warm_restart_timeout_seconds = 60;
  double neighbour_refresh_seconds = 10;
  uint32_t neighbour_refresh_max = 512;
  uint32_t v4_tbl8_groups = 16384;
  uint32_t v6_nodes = 65536;
  // Connected hosts (resolved neighbours) XDP forwards to directly, per family.
  uint32_t max_hosts = 16384;
  uint32_t nexthop_groups = 8192;  // entries of fpm_nhg (FPM_MAX_NHG)
  uint32_t nexthops = 65536;       // entries of fpm_nexthops (FPM_MAX_NEXTHOPS)
  // VRF tables (tables besides main) in the fast path, and their sizes.
  uint32_t vrf_tables = 16;                   // FPM_VRF_TABLES_DEFAULT
  uint32_t vrf_routes = 65536;                // per family and table, FPM_VRF_ROUTES_DEFAULT
  std::vector<std::string> vrf_table_routes;  // "TABLE=ROUTES" (vrf_routes_by_table())

  // Where the rest may come from (app/config_file.hpp), and whether to stop
  // after validating it.
  std::string config_path = "/etc/fpm-sink/fpm-sink.toml";
  bool check_config = false;

  std::chrono::milliseconds sweep_delay() const {
    return std::chrono::milliseconds(static_cast<int64_t>(sweep_delay_seconds * 1000));
  }
};

// Registers every option on app, bound to opts. Each option's group is its
// config file section ("Options": the top level); --config and --check-config
// are not configurable. After app.parse() and the config file
// (app/option_loader.hpp), finish_options() checks what spans options and
// fills the derived fields.
void add_options(CLI::App& app, Options& opts);
// Throws CLI::ValidationError on a bad value (config errors end start-up).
void finish_options(Options& opts);

// --vrf-table-routes as table id -> routes (the option's check validated each).
std::map<uint32_t, uint32_t> vrf_routes_by_table(const Options& opts);

}  // namespace fpm_sink
