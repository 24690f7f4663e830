// FibOffload: the RIB observer that programs the XDP fast path through a
// MapWriter.
//
//   route_changed  -> LPM entry of the main table (254) with an action:
//                     FORWARD(group index) | DROP (blackhole) | PUNT(reason)
//   group_changed  -> dense group index, member next hops (deduplicated by
//                     (gateway, ifindex), refcounted), resilient bucket table
//   neighbour / link changes -> one next-hop entry rewrite each
//   connected routes + resolved neighbours -> host entries (host_table.hpp)
//
// VRF tables (fib_offload_vrf.cpp, bpf/lib/vrf.h): routes of any other table
// go into that table's own tries, in a table slot taken when its first route
// arrives (up to vrf_tables slots; the rest stay failed(NoTableSlot)
// and punt). A port enslaved to a VRF gets its table's slot, other masters
// (bridge, bond) make it punt every frame (FPM_IFACE_F_ENSLAVED).
//
// Per-route state: none kept here. Each route's offload state lives in the
// RIB's own entry for it (route_state.hpp), and the routes are found again
// through the RIB (AnnouncedRoutes): one store, one lookup per route.
//
// Capacity: when an LPM table, the group array or the next-hop array is full
// the route is marked offload-failed and its range punted to the kernel;
// poll() retries failed routes and groups once space (past quarantine) frees.
//
// One class, a file per room: fib_offload_routes.cpp (routes, retries, the
// offload-change queue), fib_offload_groups.cpp (next-hop groups),
// fib_offload_ports.cpp (ports), fib_offload_vlans.cpp (802.1Q subinterfaces of
// ports), fib_offload_vrf.cpp (tables besides main), fib_offload.cpp (the rest: set-up,
// warm-restart holds, kernel changes, stats).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/result.hpp"
#include "dataplane/host_table.hpp"
#include "dataplane/index_allocator.hpp"
#include "dataplane/map_writer.hpp"
#include "dataplane/neighbour_source.hpp"
#include "dataplane/nexthop_table.hpp"
#include "dataplane/offload_changes.hpp"
#include "dataplane/route_state.hpp"
#include "rib/rib_events.hpp"

namespace fpm_sink {

struct FibOffloadLimits {
  uint32_t max_groups = FPM_MAX_NHG;                 // entries of fpm_nhg
  uint32_t max_nexthops = FPM_MAX_NEXTHOPS;          // entries of fpm_nexthops
  uint32_t max_ports = FPM_MAX_IFACES;               // counter slots
  uint32_t max_hosts = FPM_MAX_HOSTS;                // entries of fpm_hosts4, and of fpm_hosts6
  uint32_t vrf_tables = FPM_VRF_TABLES_DEFAULT;      // VRF table slots (tables besides main)
  uint32_t vrf_routes = FPM_VRF_ROUTES_DEFAULT;      // routes per family in a VRF table's trie
  std::map<uint32_t, uint32_t> vrf_routes_by_table;  // table id -> its own size, if not vrf_routes
  // How long a freed group / next-hop index or counter slot stays unused (fpm_abi.h: >= 1 s).
  std::chrono::nanoseconds index_grace = std::chrono::seconds(1);
  // Routes retried per poll(), so a retry storm cannot stall event handling.
  size_t retry_batch = 4096;
  SteadyClock clock = [] { return std::chrono::steady_clock::now(); };
};

// Why the fast path cannot route a VLAN link whatever its parent, or nullopt:
// only 802.1Q tags with a VID of 1..4094 on a parent in this namespace that is
// not a VLAN itself (QinQ) are routed; XDP punts the rest, the kernel routes them.
std::optional<std::string_view> subinterface_refusal(const LinkSource& links,
                                                     const VlanEntry& vlan);

std::string_view to_string(OffloadState s);
std::string_view to_string(OffloadReason r);

struct RouteOffload {
  OffloadState state = OffloadState::NotOffloaded;
  OffloadReason reason = OffloadReason::None;
  uint32_t action = 0;  // what the LPM holds for the prefix (fpm_act_make), 0 if nothing
  // The state zebra was last told in this session (offload replies), if any.
  std::optional<OffloadState> reported;
};

// Routes of one family by offload state.
struct RouteStateCounts {
  uint64_t installed = 0, failed = 0, not_offloaded = 0;
};

// A table besides main that has routes, for show commands and metrics.
struct VrfTableInfo {
  uint32_t table = 0;
  std::optional<uint16_t> slot;  // nullopt: no slot (over --vrf-tables), the kernel routes it
  bool overflowed = false;       // more routes than its trie holds: its ports punt (NO_TABLE)
  uint32_t capacity = 0;         // routes per family its trie holds
  uint64_t routes_v4 = 0, routes_v6 = 0;
};

struct FibOffloadStats {
  uint64_t routes_installed = 0, routes_failed = 0, routes_not_offloaded = 0;
  // The same split by the prefix's family; each total above is v4 + v6.
  RouteStateCounts routes_v4, routes_v6;
  uint64_t groups = 0, groups_forwarding = 0, nexthops = 0;
  uint64_t route_writes = 0, bucket_writes = 0, nexthop_refreshes = 0;
  uint64_t write_errors = 0, retries = 0;
};

class FibOffload final : public RibObserver {
 public:
  // `routes` is the RIB that announces routes to this observer: each route's
  // offload state lives in its entry there (route_state.hpp).
  FibOffload(const FibOffloadLimits& config, MapWriter& writer, const NeighbourSource& neighbours,
             const LinkSource& links, const AnnouncedRoutes& routes);
  ~FibOffload() override;
  FibOffload(const FibOffload&) = delete;
  FibOffload& operator=(const FibOffload&) = delete;

  // RibObserver. Failures are recorded in the offload state and the last
  // error (the RIB cannot do anything about them).
  void group_changed(ChangeKind kind, const FibGroup& group) override;
  void route_changed(ChangeKind kind, const RouteView& route) override;
  void prefetch_route(uint32_t table, const Prefix& prefix) const override;
  // Nothing to reprogram; only queues the route's offload reply again.
  void route_confirmed(const RouteView& route) override;

  // Kernel knowledge changed: rewrite the affected next-hop (and host) entries only.
  Result<size_t> neighbour_changed(const IpAddr& gateway, uint32_t ifindex);
  // The address became or stopped being one of the router's own: it is never a host entry.
  Status local_address_changed(const IpAddr& addr);
  Result<size_t> link_changed(uint32_t ifindex);
  // Rewrites a port's fpm_ifaces entry from what the LinkSource now says (MAC,
  // MTU, master, forwarding switches): one map write if it changed, none otherwise.
  Status refresh_port(uint32_t ifindex);
  // The port's NIC strips 802.1Q tags on receive while it has VLAN
  // subinterfaces (true): XDP cannot tell their frames from the port's own,
  // so the port punts every frame (FPM_IFACE_F_TAGS_STRIPPED). One write.
  Status set_tags_stripped(uint32_t ifindex, bool stripped);
  bool tags_stripped(uint32_t ifindex) const { return tags_stripped_.contains(ifindex); }
  // Whether the kernel sends ICMP redirects for IPv4 routed back out of this
  // port or routed subinterface (send_redirects, kernel/send_redirects.hpp):
  // while it does, XDP punts such hairpins (FPM_IFACE_F_REDIRECTS4). Until
  // told otherwise an entry counts as sending; removing the port or
  // subinterface forgets what it was told. One write if it changes.
  Status set_sends_redirects(uint32_t ifindex, bool sends);
  bool sends_redirects(uint32_t ifindex) const { return !no_redirects_.contains(ifindex); }
  // The kernel holds policy routing rules for the family that could route a
  // packet through another table than the one XDP looks up (true): every port
  // and routed subinterface, now and later, punts the family
  // (FPM_IFACE_F_RULES4 / RULES6). One write per entry. The first error is
  // returned; the other entries are still written.
  Status set_policy_rules(Family family, bool present);
  bool policy_rules(Family family) const {
    return family == Family::V4 ? policy_rules_v4_ : policy_rules_v6_;
  }
  // The same for the entries of these ports and subinterfaces only: the
  // kernel's rules for the family name them (iif). Rewrites the entries
  // whose flag changes.
  Status set_policy_rule_ports(Family family, std::set<uint32_t> ifindexes);
  bool has_policy_rule_ports(Family family) const {
    return !(family == Family::V4 ? rule_ports_v4_ : rule_ports_v6_).empty();
  }

  // Ports the fast path receives on (fpm_ifaces) and may redirect to
  // (fpm_tx_ports). The XDP attachment itself is XdpProgram's job.
  Status add_port(uint32_t ifindex, bool v4 = true, bool v6 = true);
  // Drops the port's routed subinterfaces with it.
  Status remove_port(uint32_t ifindex);

  // 802.1Q subinterfaces (fib_offload_vlans.cpp). A VLAN link is routed when it
  // can be (subinterface_refusal() says nothing) and its parent is a port:
  // its own fpm_ifaces entry and counter slot, fpm_vlans[parent, VID] and, for
  // egress, fpm_tx_ports[it] = parent. Call it whenever a VLAN link appears,
  // changes or vanishes, and for a port's VLAN links after add_port(): it
  // routes, re-keys or stops routing the link to match.
  Status sync_subinterface(uint32_t ifindex);
  struct Subinterface {
    uint32_t parent = 0;
    uint16_t vid = 0;
    uint32_t slot = 0;   // counter slot, from the ports' pool
    bool egress = true;  // has its fpm_tx_ports entry (no egress-qos-map)
  };
  // Routed subinterfaces by ifindex.
  const std::map<uint32_t, Subinterface>& subinterfaces() const { return subs_; }

  // Retries failed groups and routes (bounded by retry_batch). Call it from a
  // timer (e.g. every 100 ms-1 s); returns how many routes were installed.
  size_t poll();

  // nullopt if the route is unknown. Control plane: FRR offload replies, CLI.
  std::optional<RouteOffload> offload_state(uint32_t table, const Prefix& prefix) const;

  // Offload replies to zebra (app/offload_feedback.hpp). While on, every route
  // programmed or confirmed, and every route whose state changes, is queued
  // once until taken; off (the default) costs nothing.
  void set_offload_changes(bool on) { offload_changes_.enable(on); }
  // Hands out up to `max` queued routes with their state now, marking that
  // state as the one zebra was told. Returns how many it handed out.
  using OffloadChangeFn = std::function<void(const RouteKey&, const RouteOffload&)>;
  size_t take_offload_changes(size_t max, const OffloadChangeFn& fn);
  size_t offload_changes_queued() const { return offload_changes_.queued(); }
  // zebra's session ended: nothing queued is sent, nothing told is known to
  // its successor, which replays (and so queues) every route anyway.
  void drop_offload_changes();
  // Fast-path group index of a FibGroup id (nullopt if none is assigned).
  std::optional<uint32_t> group_index(uint32_t group_id) const;
  // Every forwarding group (one with an fpm_nhg slot): its next-hop indices
  // (one per member) and how many routes (of every table) use it. For the CLI.
  using GroupUseFn = std::function<void(std::span<const uint32_t> nexthops, uint64_t routes)>;
  void for_each_forwarding_group(const GroupUseFn& fn) const;
  FibOffloadStats stats() const;
  const NextHopTable& nexthops() const { return nexthops_; }
  const HostTable& hosts() const { return hosts_; }
  const IndexAllocator& group_slots() const { return group_alloc_; }
  const IndexAllocator& vrf_slots() const { return vrf_alloc_; }
  // ifindex -> counter slot of fpm_iface_stats, for every port added.
  const std::map<uint32_t, uint32_t>& ports() const { return ports_; }
  // What fpm_ifaces holds for a port now (nullopt if it is not a port).
  std::optional<fpm_iface> port_entry_now(uint32_t ifindex) const;
  // Every table besides main that has routes, by table id.
  std::vector<VrfTableInfo> vrf_tables() const;
  const std::optional<Error>& last_error() const { return last_error_; }
  // Pre-sizes (and faults in) the LPM control copy for the expected table
  // sizes, so a full replay allocates nothing: call once at start-up.
  void reserve(size_t v4_routes, size_t v6_routes);

  // Warm restart: group and next-hop indices the adopted (still live) tables
  // use are not handed out until release_held(), called once the new tables
  // are published. Call before the first change.
  void hold_indices(std::span<const uint32_t> groups, std::span<const uint32_t> nexthops);
  void release_held();
  // Warm restart: the counter slot each port and routed subinterface had in
  // the adopted fpm_ifaces (ifindex -> slot). A port added again with the
  // same ifindex (the kernel does not reuse an ifindex soon: it is the same
  // device) keeps its slot, so its counters go on; no other port gets one of
  // these slots until release_adopted_port_slots(), called once the stale
  // fpm_ifaces entries are gone. Call before the first port is added.
  void adopt_port_slots(const std::map<uint32_t, uint32_t>& slots);
  // The adopted slots no port took: quarantined, then zeroed when handed out.
  // Returns how many.
  size_t release_adopted_port_slots();

  // Session hold expired (app/session_hold.hpp): every route punts
  // to the kernel (HoldExpired) while the model is kept; false reprograms
  // them as they are. One pass over the routes on each change.
  void set_withheld(bool withheld);
  bool withheld() const { return withheld_; }

  // RibObserver: the RIB refused a route, so it no longer knows every
  // more-specific zebra installed, and any route of ours might cover one.
  // Every route punts (RouteLimit) until the process restarts,
  // as BGP's maximum-prefix keeps a session down until it is cleared.
  void routes_refused() override;
  bool incomplete() const { return incomplete_; }

 private:
  // The fpm_ifaces entry of a port: its family flags plus what the kernel reports
  // (MAC, MTU, a master making it FPM_IFACE_F_ENSLAVED, the forwarding switches
  // making it FPM_IFACE_F_FWD4 / FWD6) and what it was told (tags stripped,
  // policy rules, redirects).
  fpm_iface port_entry(uint32_t ifindex, uint32_t slot, uint16_t flags) const;
  Status add_subinterface(uint32_t ifindex, const Subinterface& sub);
  // A counter slot for a new port or subinterface: the one adopted for its
  // ifindex (still held until claim_port_slot), else a fresh one with its
  // counters zeroed. nullopt when all are in use or quarantined.
  std::optional<uint32_t> take_port_slot(uint32_t ifindex);
  // The port's fpm_ifaces entry is written: an adopted slot is its own now.
  void claim_port_slot(uint32_t ifindex, uint32_t slot);
  Status drop_subinterface(uint32_t ifindex);
  struct Group;
  struct GroupOutcome;
  // Disposition of a route: the action to write and the state it implies.
  struct Decision {
    uint32_t action;
    OffloadState state;
    OffloadReason reason;
  };

  // A table besides main: its routes live in its own tries.
  struct VrfTable {
    uint16_t slot = 0;  // 0: none
    bool overflowed = false;
    uint32_t capacity = 0;
    uint64_t routes4 = 0, routes6 = 0;  // routes of the table the RIB announced
    uint64_t in_trie4 = 0, in_trie6 = 0;
    std::set<Prefix> in_trie;  // prefixes the tries hold
  };

  Decision decide(RouteType type, uint32_t group_id) const;
  // fib_offload_vrf.cpp
  void vrf_route_changed(ChangeKind kind, const RouteView& route);
  void program_vrf(VrfTable& t, const RouteView& route);
  // One trie write; false (and why) if the prefix is not in the trie now.
  bool vrf_write(VrfTable& t, const Prefix& prefix, uint32_t action, OffloadReason& why);
  void remove_vrf_route(VrfTable& t, const RouteView& route);
  bool vrf_assign_slot(uint32_t table, VrfTable& t);
  void vrf_release_slot(VrfTable& t);
  void vrf_overflow(uint32_t table, VrfTable& t);
  void vrf_retry();
  // Walks every route of every table: for the rare events that reprogram a table whole.
  void for_each_vrf_route(uint32_t table, const std::function<void(const RouteView&)>& fn);
  // Reprograms every route of every table (hold, route limit).
  void reprogram_all();
  // The slot of a port routing in `table` (routing_table()), or FPM_TABLE_SLOT_NONE.
  uint16_t port_table_slot(uint32_t table) const;
  void refresh_ports();
  void program(const RouteView& route);
  // Marks the installed routes inside ranges the table just punted as failed.
  void fail_routes_in_punted_ranges();
  void remove_route(const RouteView& route);
  // Tells the host table whether the route punts as connected now (false once
  // it is removed), and out of which port.
  void track_connected(const RouteView& route, bool present);
  // What the route's table holds for it now (fpm_act_make), 0 if nothing.
  uint32_t held_action(const RouteView& route) const;
  // Brings a group in line with its FibGroup, then moves its routes if its
  // kind or slot changed.
  void sync_group(uint32_t id, Group& g, const FibGroup& fib);
  // Writes a forwarding group's members and buckets, or says which kind it
  // must become instead (its references are then for drop_group to release).
  GroupOutcome program_group(uint32_t id, Group& g, const FibGroup& fib);
  void drop_group(Group& g);
  void reprogram_routes_of(uint32_t group_id);
  void note(Error e);
  // Moves a programmed route in or out of its state's totals (and its family's): O(1).
  void count(const RouteView& route, int64_t delta);
  // Queues the route's offload reply unless it is queued already.
  void reply_due(const RouteView& route);
  // Routes programmed now, of every table.
  uint64_t routes_programmed() const;

  FibOffloadLimits config_;
  MapWriter& writer_;
  const LinkSource& links_;
  const AnnouncedRoutes& routes_;  // the RIB, which holds each route's RouteState
  NextHopTable nexthops_;
  HostTable hosts_;
  IndexAllocator group_alloc_;
  IndexAllocator port_alloc_;
  std::unordered_map<uint32_t, std::unique_ptr<Group>> groups_;  // by FibGroup id
  std::map<uint32_t, VrfTable> vrf_tables_;                      // tables besides main
  IndexAllocator vrf_alloc_;                                     // VRF table slots
  std::set<Prefix> failed_routes_;                               // retry queue (main)
  std::set<uint32_t> failed_groups_;
  std::map<uint32_t, uint32_t> ports_;  // ifindex -> counter slot
  // Warm restart: ifindex -> counter slot the previous run gave it, not taken yet.
  std::map<uint32_t, uint32_t> adopted_slots_;
  // ifindex -> what fpm_ifaces holds, for ports and routed subinterfaces
  std::map<uint32_t, fpm_iface> port_entries_;
  std::map<uint32_t, Subinterface> subs_;
  std::set<uint32_t> tags_stripped_;  // ports whose frames may be a subinterface's, untagged
  std::set<uint32_t> no_redirects_;   // entries whose device sends no IPv4 redirects
  bool policy_rules_v4_ = false;      // set_policy_rules()
  bool policy_rules_v6_ = false;
  std::set<uint32_t> rule_ports_v4_;  // set_policy_rule_ports()
  std::set<uint32_t> rule_ports_v6_;
  FibOffloadStats stats_;
  std::optional<Error> last_error_;
  bool withheld_ = false;
  bool incomplete_ = false;  // routes_refused() was called
  OffloadChanges offload_changes_;
};

}  // namespace fpm_sink
