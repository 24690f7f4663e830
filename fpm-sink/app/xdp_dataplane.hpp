// Everything the XDP fast path needs at run time, owned in one place:
//   XdpProgram (skeleton, pins, attachments) -> BpfMapWriter -> FibOffload (RIB observer)
//   KernelMirror (rtnetlink) -> KernelState -> KernelView (answers FibOffload's questions)
// and the glue between them: neighbour / link changes rewrite next-hop entries,
// the router's own addresses go into fpm_local4/6, configured interfaces are
// attached when they appear and dropped when they vanish, failed routes are
// retried on a timer, and the send_redirects switches are polled on another.
#pragma once

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "app/counter_baseline.hpp"
#include "common/result.hpp"
#include "dataplane/bpf_map_writer.hpp"
#include "dataplane/fib_offload.hpp"
#include "dataplane/xdp_program.hpp"
#include "kernel/kernel_mirror.hpp"
#include "kernel/kernel_state.hpp"
#include "kernel/kernel_view.hpp"
#include "kernel/neighbour_refresh.hpp"
#include "kernel/send_redirects.hpp"

namespace fpm_sink {

class Rib;

struct XdpDataplaneOptions {
  std::vector<std::string> interfaces;  // names; "all" = every non-loopback link
  XdpMode mode = XdpMode::Native;
  std::string pin_dir = "/sys/fs/bpf/fpm-sink";
  bool keep_on_exit = false;
  // Where `clear counters` keeps its baseline across restarts (beside the
  // control socket); empty: a clear lasts as long as the process.
  std::string counter_baseline_file;
  uint32_t v4_tbl8_groups = LPM4_TBL8_GROUPS_DEFAULT;
  uint32_t v6_nodes = LPM6_NODES_DEFAULT;
  uint32_t max_groups = FPM_MAX_NHG;
  uint32_t max_nexthops = FPM_MAX_NEXTHOPS;
  // Connected hosts XDP forwards to directly, per family (fpm_hosts4 / 6).
  uint32_t max_hosts = FPM_MAX_HOSTS;
  // VRF tables (dataplane/fib_offload_vrf.cpp): slots, default size, own sizes.
  uint32_t vrf_tables = FPM_VRF_TABLES_DEFAULT;
  uint32_t vrf_routes = FPM_VRF_ROUTES_DEFAULT;
  std::map<uint32_t, uint32_t> vrf_routes_by_table;
  std::chrono::milliseconds retry_interval{200};
  // Warm restart: when every forwarding map of a previous run is adopted from
  // its pin, that run's tables keep forwarding while the new ones are staged,
  // and are replaced in one pass once zebra's replay has caught up
  // (replay_caught_up() true) or after warm_restart_timeout. Zero: start cold
  // (the tables are emptied at start and everything punts until routes arrive).
  std::chrono::seconds warm_restart_timeout{60};
  std::function<bool()> replay_caught_up;
  // Routes to pre-size the fast path's tables for (--rib-reserve), split like
  // a full Internet table: four IPv4 routes to one IPv6 route.
  size_t reserve_routes = 0;
  // Marks the neighbours behind programmed next hops used (NTF_USE), so the kernel
  // keeps probing them although it sees none of the forwarded traffic.
  NeighbourRefreshOptions neighbour_refresh;

  bool enabled() const { return !interfaces.empty(); }
  bool all_interfaces() const;
};

struct PortCounters {
  uint32_t ifindex = 0;
  std::string name;
  fpm_iface_stats totals{};  // summed over CPUs
  // fpm_iface_reasons of the port's slot, summed over CPUs: packets not
  // redirected, by reason (NONE stays zero).
  std::array<fpm_counter, FPM_REASON_MAX> reasons{};
};

class XdpDataplane final : private KernelListener {
 public:
  // Loads the program, dumps the kernel state, attaches the configured ports.
  // Start-up errors end start-up (the caller logs and exits).
  // `routes` is the RIB whose observer() this becomes: it keeps each route's
  // offload state (FibOffload).
  static Result<std::unique_ptr<XdpDataplane>> start(boost::asio::io_context& io,
                                                     const XdpDataplaneOptions& options,
                                                     const AnnouncedRoutes& routes);
  ~XdpDataplane() override;

  RibObserver& observer() { return *offload_; }
  const FibOffload& offload() const { return *offload_; }
  FibOffload& offload() { return *offload_; }
  // The configured ports changed (SIGHUP): ports no longer named are detached,
  // newly named ones attached now or when they appear.
  void set_interfaces(std::vector<std::string> interfaces);
  // Session hold expired (true) or a replay settled after it (false).
  void set_withheld(bool withheld) { offload_->set_withheld(withheld); }
  const XdpProgram& program() const { return *program_; }
  const BpfMapWriter& writer() const { return *writer_; }
  const KernelState& kernel() const { return kernel_; }
  // The fast path's view of the kernel's links and neighbours.
  const KernelView& view() const { return view_; }
  // Null when the refresh is off (--neighbour-refresh 0).
  const NeighbourRefresher* neighbour_refresh() const { return neighbour_refresh_.get(); }
  const NeighbourRefreshOptions& neighbour_refresh_options() const {
    return options_.neighbour_refresh;
  }
  Result<std::vector<fpm_counter>> counters() const { return program_->counters(); }
  std::vector<PortCounters> port_counters() const;
  // ifindex -> counter slot of every port and routed subinterface.
  CounterSlots counter_slots() const;
  void reserve(size_t v4_routes, size_t v6_routes) { offload_->reserve(v4_routes, v6_routes); }
  // True while a warm restart stages new tables behind the adopted ones.
  bool staging() const { return writer_->staging(); }
  // Publishes the staged tables now (no-op when not staging).
  void commit_staged(std::string_view reason);

  // For `show interfaces`: the mode ports are attached in, whether a link is
  // one the configuration names, and why a named one is not attached.
  XdpMode xdp_mode() const { return options_.mode; }
  bool configured(const LinkInfo& link) const { return wanted(link); }
  const std::string* attach_error(uint32_t ifindex) const;
  // What `clear counters` subtracts from the CLI's counter views. A view
  // setting, not forwarding state: the per-CPU maps are never written.
  // Saved in options.counter_baseline_file while the counter maps last.
  CounterBaseline& counter_baseline() const { return counter_baseline_; }

 private:
  XdpDataplane(boost::asio::io_context& io, const XdpDataplaneOptions& options,
               const AnnouncedRoutes& routes);
  Status init();
  void link_changed(uint32_t ifindex, const LinkInfo* link) override;
  void neighbour_changed(const IpAddr& addr, uint32_t ifindex, const NeighInfo* neigh) override;
  void local_address_changed(const IpAddr& addr, bool present) override;
  void forwarding_changed(Family family, int32_t ifindex) override;
  void policy_rules_changed(Family family) override;
  // Marks the ports and subinterfaces the family's iif rules name, or whose
  // master (a VRF) they name; checked when those rules or links change.
  void mark_rule_ports(Family family);
  bool wanted(const LinkInfo& link) const;
  bool named(const LinkInfo& link) const;
  // Logs every VLAN device named in --interface: its parent must be named instead.
  void warn_unattachable() const;
  // Routes (or stops routing) the VLAN links of `parent` / one VLAN link, and logs it.
  void sync_vlans_of(uint32_t parent);
  void sync_subinterface(uint32_t ifindex);
  // A port whose NIC strips 802.1Q tags punts every frame while it has VLAN
  // subinterfaces (FibOffload::set_tags_stripped); checked when those change.
  void check_tag_stripping(uint32_t port);
  // Whether the kernel sends IPv4 redirects for a routed device's hairpins
  // (FibOffload::set_sends_redirects): read when a port is added or a
  // subinterface routed, and again on every redirects_timer_ tick.
  void check_redirects(uint32_t ifindex);
  void arm_redirects_check();
  void add_port(const LinkInfo& link);
  void drop_port(uint32_t ifindex);
  void arm_retry();
  void maybe_commit();
  void purge_stale_state();
  // Restores a clear saved for these counter maps, and saves the next ones.
  void persist_counter_baseline();
  Status start_neighbour_refresh();

  // Warm restart in progress: since when, and the adopted tables' next hops
  // (index, egress ifindex), which nothing else updates until the commit.
  std::optional<std::chrono::steady_clock::time_point> staging_since_;
  std::vector<std::pair<uint32_t, uint32_t>> held_nexthops_;
  void fail_held_nexthops(std::optional<uint32_t> only_ifindex);

  boost::asio::io_context& io_;
  XdpDataplaneOptions options_;
  const AnnouncedRoutes& routes_;
  KernelState kernel_;
  KernelView view_{kernel_};
  std::unique_ptr<KernelMirror> mirror_;
  std::unique_ptr<NeighbourRefresher> neighbour_refresh_;
  std::unique_ptr<XdpProgram> program_;
  std::unique_ptr<BpfMapWriter> writer_;
  std::unique_ptr<FibOffload> offload_;
  std::set<uint32_t> ports_;
  std::map<uint32_t, std::string> attach_errors_;  // ifindex -> last attach failure
  mutable CounterBaseline counter_baseline_;
  boost::asio::steady_timer retry_timer_;
  SendRedirects send_redirects_;
  boost::asio::steady_timer redirects_timer_;
};

// Mounts bpffs on the pin directory's parent when nothing is mounted there
// (e.g. inside `ip netns exec`, which remounts /sys). Error id: bpf.bpffs.
Status ensure_bpffs(const std::string& pin_dir);

}  // namespace fpm_sink
