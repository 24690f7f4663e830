// fpm-sink: accepts zebra's FPM stream, keeps the RIB model, answers fpm-sinkctl.
#include <fmt/format.h>
#include <google/protobuf/stubs/common.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <functional>
#include <memory>

#include "app/config_reload.hpp"
#include "app/control_handler.hpp"
#include "app/fpm_server.hpp"
#include "app/logging.hpp"
#include "app/metrics_exporter.hpp"
#include "app/offload_feedback.hpp"
#include "app/option_loader.hpp"
#include "app/options.hpp"
#include "app/service_notify.hpp"
#include "app/session_hold.hpp"
#include "app/xdp_dataplane.hpp"
#include "common/version.hpp"
#include "control/server.hpp"
#include "rib/rib.hpp"

int main(int argc, char** argv) {
  using namespace fpm_sink;
  GOOGLE_PROTOBUF_VERIFY_VERSION;

  Options opts;
  CLI::App app{"fpm-sink: FRR FPM receiver feeding an XDP fast path"};
  app.set_version_flag("--version", std::string("fpm-sink ") + kVersion);
  add_options(app, opts);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 1;  // --help: 0; a bad option: 1, as for a bad config file
  }
  auto loaded = complete_options(app, opts);
  if (!loaded) {
    fmt::print(stderr, "{}\n", loaded.error().message);
    return 1;
  }
  if (opts.check_config) {
    fmt::print("config.ok source={}\n", loaded->config_source.empty()
                                            ? "(no file, command line only)"
                                            : loaded->config_source);
    return 0;
  }
  setup_logging(opts.log_level);

  boost::asio::io_context io(1);
  ServiceNotifier notifier(io);
  Rib rib;
  if (opts.rib_reserve) rib.reserve(opts.rib_reserve);
  rib.set_limits(
      RibLimits{.max_routes = opts.max_routes, .max_group_members = opts.max_group_members});
  FpmServer fpm(io, rib, opts.sweep_delay());
  auto peer_policy = make_peer_policy(opts.fpm_allow_users, opts.fpm_allow_peers);
  if (!peer_policy) {
    spdlog::critical("{}", peer_policy.error().to_string());
    return 1;
  }
  if (!opts.fpm_allow_peers.empty()) {
    std::string peers;
    for (const auto& p : opts.fpm_allow_peers) peers += (peers.empty() ? "" : ",") + p;
    spdlog::warn("fpm.listen.remote_peers listen={} peers={}: FPM is unauthenticated plain TCP",
                 opts.fpm_endpoint.to_string(), peers);
  }
  fpm.set_peer_policy(std::move(*peer_policy));
  ConfigReloader reloader(std::vector<std::string>(argv + 1, argv + argc), std::move(*loaded));
  auto apply_peer_policy = [&fpm](const Options& o) -> Status {
    auto policy = make_peer_policy(o.fpm_allow_users, o.fpm_allow_peers);
    if (!policy) return policy.error();
    fpm.set_peer_policy(std::move(*policy));  // ends the live session if it is now refused
    return ok_status();
  };
  reloader.on_change("--fpm-allow-user", apply_peer_policy);
  reloader.on_change("--fpm-allow-peer", apply_peer_policy);
  reloader.on_change("--log-level", [](const Options& o) -> Status {
    spdlog::set_level(spdlog::level::from_str(o.log_level));
    return ok_status();
  });
  // SIGHUP (systemctl reload): read the config again, apply what can change
  // live. Caught from here on; handled once io.run() starts.
  boost::asio::signal_set hangups(io, SIGHUP);
  std::function<void()> wait_for_hangup = [&] {
    hangups.async_wait([&](const boost::system::error_code& ec, int) {
      if (ec) return;
      notifier.reloading();
      const auto outcome = reloader.reload();
      notifier.ready(outcome.loaded ? "configuration reloaded"
                                    : "configuration reload failed: running config kept");
      wait_for_hangup();
    });
  };
  wait_for_hangup();

  std::unique_ptr<XdpDataplane> fast_path;
  if (!opts.interfaces.empty()) {
    XdpDataplaneOptions fo;
    fo.interfaces = opts.interfaces;
    fo.mode = opts.xdp_mode == "generic" ? XdpMode::Generic : XdpMode::Native;
    fo.pin_dir = opts.bpffs;
    fo.keep_on_exit = opts.keep_fast_path;
    // The control socket's directory is fpm-sink's runtime directory
    // (/run/fpm-sink): it lasts the boot, as the pinned counter maps can.
    fo.counter_baseline_file = counter_baseline_path(opts.control_socket);
    fo.v4_tbl8_groups = opts.v4_tbl8_groups;
    fo.v6_nodes = opts.v6_nodes;
    fo.max_groups = opts.nexthop_groups;
    fo.max_nexthops = opts.nexthops;
    fo.max_hosts = opts.max_hosts;
    fo.vrf_tables = opts.vrf_tables;
    fo.vrf_routes = opts.vrf_routes;
    fo.vrf_routes_by_table = vrf_routes_by_table(opts);
    fo.reserve_routes = opts.rib_reserve;
    fo.warm_restart_timeout = std::chrono::seconds(opts.warm_restart_timeout_seconds);
    fo.neighbour_refresh.period =
        std::chrono::milliseconds(static_cast<int64_t>(opts.neighbour_refresh_seconds * 1000));
    fo.neighbour_refresh.max_per_tick = opts.neighbour_refresh_max;
    // zebra replays in one burst: a second of silence means it is done.
    fo.replay_caught_up = [&fpm] { return fpm.replay_caught_up(std::chrono::seconds(1)); };
    auto rt = XdpDataplane::start(io, fo, rib);
    if (!rt) {
      spdlog::critical("{}", rt.error().to_string());
      return 1;
    }
    fast_path = std::move(*rt);
    rib.set_observer(&fast_path->observer());
    reloader.on_change("--interface", [&fast_path](const Options& o) -> Status {
      fast_path->set_interfaces(o.interfaces);
      return ok_status();
    });
  } else {
    spdlog::info("dataplane.off no --interface given: keeping the RIB only, no XDP fast path");
  }

  std::unique_ptr<OffloadFeedback> feedback;
  if (fast_path && opts.offload_feedback) {
    // While a warm restart stages new tables the old ones forward: what is
    // staged is not the truth yet.
    feedback = std::make_unique<OffloadFeedback>(rib, fast_path->offload(),
                                                 [rt = fast_path.get()] { return rt->staging(); });
    fpm.set_feedback(feedback.get());
  }

  SessionHold hold(
      io, std::chrono::seconds(opts.fpm_hold_time_seconds), [&fpm] { return fpm.replay_started(); },
      [&fast_path](bool withheld) {
        if (fast_path) fast_path->set_withheld(withheld);
      });
  fpm.set_hold(&hold);

  control::ControlServer ctl(io, [&](const control::Request& req) {
    return handle_control_request(req, rib, fpm, fast_path.get());
  });

  if (auto st = fpm.listen(opts.fpm_endpoint); !st) {
    spdlog::critical("{}", st.error().to_string());
    return 1;
  }
  if (auto st = ctl.open(opts.control_socket); !st) {
    spdlog::critical("{}", st.error().to_string());
    return 1;
  }

  // Metrics are for watching: a router that cannot serve them keeps forwarding.
  std::unique_ptr<MetricsExporter> metrics;
  if (opts.metrics_endpoint) {
    auto m = MetricsExporter::start(io, *opts.metrics_endpoint, [&] {
      return take_metrics_snapshot(rib, fpm, fast_path.get());
    });
    if (m)
      metrics = std::move(*m);
    else
      spdlog::critical("{} (running on without metrics)", m.error().to_string());
  }

  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int signo) {
    if (ec) return;
    spdlog::info("app.shutdown signal={}", signo);
    notifier.stopping();
    notifier.stop_watchdog();
    hangups.cancel();
    fpm.stop();
    ctl.close();
    io.stop();
  });
  // A vanished fpm-sinkctl must not kill the daemon with SIGPIPE.
  std::signal(SIGPIPE, SIG_IGN);

  spdlog::info(
      "app.started fpm={} control={} sweep_delay={}s config={}", opts.fpm_endpoint.to_string(),
      opts.control_socket, opts.sweep_delay_seconds,
      reloader.running().config_source.empty() ? "(none)" : reloader.running().config_source);
  const std::string serving = "serving: FPM on " + opts.fpm_endpoint.to_string() + ", " +
                              (fast_path ? "fast path on" : "RIB only (no interface)");
  notifier.ready(serving);
  notifier.start_watchdog();
  io.run();
  metrics.reset();  // a scrape in progress times out: nothing runs the io_context now
  fpm.set_hold(nullptr);
  fpm.set_feedback(nullptr);
  ctl.close();
  rib.set_observer(nullptr);
  fast_path.reset();  // detaches XDP and removes pins unless --keep-fast-path
  google::protobuf::ShutdownProtobufLibrary();
  return 0;
}
