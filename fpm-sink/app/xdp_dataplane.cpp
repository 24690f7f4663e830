#include "app/xdp_dataplane.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/magic.h>
#include <spdlog/spdlog.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "dataplane/vlan_stripping.hpp"

namespace fpm_sink {

bool XdpDataplaneOptions::all_interfaces() const {
  return std::find(interfaces.begin(), interfaces.end(), "all") != interfaces.end();
}

Status ensure_bpffs(const std::string& pin_dir) {
  const std::filesystem::path mount_point = std::filesystem::path(pin_dir).parent_path();
  struct statfs fs {};
  if (statfs(mount_point.c_str(), &fs) == 0 && fs.f_type == BPF_FS_MAGIC) return ok_status();
  std::error_code ec;
  std::filesystem::create_directories(mount_point, ec);
  if (mount("bpf", mount_point.c_str(), "bpf", 0, "mode=0700") != 0) {
    const int e = errno;
    return Error{
        "bpf.bpffs",
        "no bpffs at " + mount_point.string() + " and mounting one failed: " + std::strerror(e), e};
  }
  spdlog::info("bpf.bpffs mounted bpffs at {}", mount_point.string());
  return ok_status();
}

namespace {

// Deletes every key of a hash map (or devmap) that `stale` selects.
template <typename Key, typename Pred>
size_t purge_keys(int fd, Pred stale) {
  if (fd < 0) return 0;
  std::vector<Key> doomed;
  Key key{}, next{};
  const void* prev = nullptr;
  while (bpf_map_get_next_key(fd, prev, &next) == 0) {
    if (stale(next)) doomed.push_back(next);
    key = next;
    prev = &key;
  }
  size_t n = 0;
  for (const Key& k : doomed) n += bpf_map_delete_elem(fd, &k) == 0;
  return n;
}

// ifindex -> counter slot of every entry of a pinned fpm_ifaces.
std::map<uint32_t, uint32_t> pinned_port_slots(int fd) {
  std::map<uint32_t, uint32_t> slots;
  if (fd < 0) return slots;
  uint32_t key = 0, next = 0;
  const void* prev = nullptr;
  while (bpf_map_get_next_key(fd, prev, &next) == 0) {
    fpm_iface iface{};
    if (bpf_map_lookup_elem(fd, &next, &iface) == 0) slots[next] = iface.slot;
    key = next;
    prev = &key;
  }
  return slots;
}

}  // namespace

XdpDataplane::XdpDataplane(boost::asio::io_context& io, const XdpDataplaneOptions& options,
                           const AnnouncedRoutes& routes)
    : io_(io), options_(options), routes_(routes), retry_timer_(io), redirects_timer_(io) {}

XdpDataplane::~XdpDataplane() {
  retry_timer_.cancel();
  redirects_timer_.cancel();
  if (neighbour_refresh_) neighbour_refresh_->stop();
  if (mirror_) mirror_->stop();
  if (program_) program_->set_keep_on_exit(options_.keep_on_exit);
  if (!options_.keep_on_exit) counter_baseline_.drop_saved();
}

Result<std::unique_ptr<XdpDataplane>> XdpDataplane::start(boost::asio::io_context& io,
                                                          const XdpDataplaneOptions& options,
                                                          const AnnouncedRoutes& routes) {
  std::unique_ptr<XdpDataplane> rt(new XdpDataplane(io, options, routes));
  if (auto st = rt->init(); !st) return st.error();
  return rt;
}

Status XdpDataplane::init() {
  if (auto st = ensure_bpffs(options_.pin_dir); !st) return st;
  XdpProgramConfig pc;
  pc.pin_dir = options_.pin_dir;
  pc.keep_on_exit = options_.keep_on_exit;
  pc.v4_tbl8_groups = options_.v4_tbl8_groups;
  pc.v6_nodes = options_.v6_nodes;
  pc.max_groups = options_.max_groups;
  pc.max_nexthops = options_.max_nexthops;
  pc.max_hosts = options_.max_hosts;
  pc.vrf_tables = options_.vrf_tables;
  auto program = XdpProgram::load(pc);
  if (!program) return program.error();
  program_ = std::move(*program);
  persist_counter_baseline();
  // Adopt the previous run's tables only if all of them survived: a group
  // table without its LPM tables (or the reverse) is not a forwarding state.
  static constexpr std::string_view kForwardingMaps[] = {"lpm4_tbl24", "lpm4_tbl8", "lpm6_root",
                                                         "lpm6_nodes", "fpm_nhg",   "fpm_nexthops"};
  lpm::LpmOptions lpm_options;
  lpm_options.adopt_live = options_.warm_restart_timeout.count() > 0 &&
                           std::all_of(std::begin(kForwardingMaps), std::end(kForwardingMaps),
                                       [&](std::string_view m) { return program_->reused_map(m); });
  writer_ = std::make_unique<BpfMapWriter>(*program_, lpm_options);
  FibOffloadLimits fc;
  fc.max_groups = pc.max_groups;
  fc.max_nexthops = pc.max_nexthops;
  fc.max_ports = pc.max_ifaces;
  fc.max_hosts = pc.max_hosts;
  fc.vrf_tables = options_.vrf_tables;
  fc.vrf_routes = options_.vrf_routes;
  fc.vrf_routes_by_table = options_.vrf_routes_by_table;
  offload_ = std::make_unique<FibOffload>(fc, *writer_, view_, view_, routes_);
  // The ports' counters go on in the slots they had, which pinned counter
  // maps still hold (with fresh counter maps any slot is as good).
  if (program_->reused_map("fpm_ifaces"))
    offload_->adopt_port_slots(pinned_port_slots(program_->map_fd("fpm_ifaces")));
  if (writer_->staging()) {
    const auto live = writer_->live_indices();
    offload_->hold_indices(live.groups, live.nexthops);
    for (uint32_t i : live.nexthops)
      if (auto nh = writer_->read_nexthop(i)) held_nexthops_.emplace_back(i, nh->ifindex);
    staging_since_ = std::chrono::steady_clock::now();
    spdlog::info(
        "dataplane.warm_restart.staging the adopted tables keep forwarding until zebra's replay "
        "has caught up (at most {}s): groups={} nexthops={} v4_nodes={} v6_nodes={}",
        options_.warm_restart_timeout.count(), live.groups.size(), live.nexthops.size(),
        writer_->v4().stats().nodes_used, writer_->v6().stats().nodes_used);
  } else if (lpm_options.adopt_live) {
    spdlog::warn(
        "dataplane.warm_restart.cold the pinned tables are not a table this build "
        "wrote; starting empty");
  }
  if (options_.reserve_routes > 0)
    offload_->reserve(options_.reserve_routes * 4 / 5, options_.reserve_routes / 5);

  // A previous run's host entries name neighbours this run has not checked
  // yet: they go, and come back from the kernel dump below once their
  // connected routes are replayed (meanwhile those hosts punt).
  for (const char* map : {"fpm_hosts4", "fpm_hosts6"}) {
    if (!program_->reused_map(map)) continue;
    const int fd = program_->map_fd(map);
    const size_t n = std::string_view(map) == "fpm_hosts4"
                         ? purge_keys<fpm_host4_key>(fd, [](const auto&) { return true; })
                         : purge_keys<fpm_host6_key>(fd, [](const auto&) { return true; });
    if (n > 0) spdlog::info("dataplane.hosts.purged map={} entries={}", map, n);
  }

  // The dump inside start() announces every existing link, address and
  // neighbour through the listener, which attaches the configured ports.
  kernel_.add_listener(this);
  mirror_ = std::make_unique<KernelMirror>(io_, kernel_);
  if (auto st = mirror_->start(); !st) return st;
  warn_unattachable();
  if (!options_.all_interfaces()) {
    for (const auto& name : options_.interfaces) {
      if (!kernel_.link_by_name(name))
        spdlog::warn(
            "dataplane.port.missing interface {} does not exist (yet); it is attached "
            "when it appears",
            name);
    }
  }
  if (auto st = start_neighbour_refresh(); !st) return st;
  if (program_->reused_pinned_maps()) purge_stale_state();
  // After the purge: no fpm_ifaces entry names these slots any more.
  if (size_t n = offload_->release_adopted_port_slots(); n > 0)
    spdlog::info("dataplane.port.slots_freed {} counter slots of ports gone since the last run", n);
  if (staging_since_) fail_held_nexthops(std::nullopt);  // links that died while we were down
  spdlog::info("dataplane.started ports={} pin_dir={} reused_pins={} map_bytes={}", ports_.size(),
               options_.pin_dir, program_->reused_pinned_maps(), program_->memory().bytes);
  arm_retry();
  arm_redirects_check();
  return ok_status();
}

void XdpDataplane::persist_counter_baseline() {
  if (options_.counter_baseline_file.empty()) return;
  CounterMapsIdentity maps{current_boot_id(), {}};
  for (const char* name : {"fpm_stats", "fpm_iface_stats", "fpm_iface_reasons"}) {
    auto id = program_->map_id(name);
    if (!id) {
      spdlog::warn("app.counter_baseline.off no id for map {}: clear counters lasts until exit",
                   name);
      return;
    }
    maps.map_ids.push_back(*id);
  }
  counter_baseline_.persist(options_.counter_baseline_file, std::move(maps));
}

// VLAN devices are never attached (native XDP cannot attach to them): their
// parent's program routes them (sync_vlans_of), named or not.
bool XdpDataplane::wanted(const LinkInfo& link) const {
  if (link.vlan || link.kind == "vlan") return false;
  if (options_.all_interfaces()) return !link.is_loopback;
  return std::find(options_.interfaces.begin(), options_.interfaces.end(), link.name) !=
         options_.interfaces.end();
}

bool XdpDataplane::named(const LinkInfo& link) const {
  return std::find(options_.interfaces.begin(), options_.interfaces.end(), link.name) !=
         options_.interfaces.end();
}

void XdpDataplane::warn_unattachable() const {
  for (const auto& [ifindex, link] : kernel_.links()) {
    if (!link.vlan || !named(link)) continue;
    const LinkInfo* parent = kernel_.link(link.vlan->parent);
    spdlog::warn(
        "dataplane.port.vlan interface {} is a VLAN subinterface: XDP is attached to its parent "
        "{}, which routes it; name the parent in --interface",
        link.name, parent ? parent->name : "(unknown)");
  }
}

void XdpDataplane::sync_vlans_of(uint32_t parent) {
  std::vector<uint32_t> vlans;
  for (const auto& [ifindex, link] : kernel_.links())
    if (link.vlan && link.vlan->parent == parent) vlans.push_back(ifindex);
  for (const auto& [ifindex, sub] : offload_->subinterfaces())
    if (sub.parent == parent) vlans.push_back(ifindex);
  for (uint32_t ifindex : vlans) sync_subinterface(ifindex);
  check_tag_stripping(parent);
}

void XdpDataplane::check_tag_stripping(uint32_t port) {
  const LinkInfo* link = kernel_.link(port);
  if (!link || !ports_.contains(port)) return;
  bool has_vlans = false;
  for (const auto& [ifindex, l] : kernel_.links()) has_vlans |= l.vlan && l.vlan->parent == port;
  // veth reports rx-vlan-offload but never strips (its sender's tx offload does).
  const bool stripped =
      has_vlans && link->kind != "veth" && strips_vlan_tags(link->name).value_or(false);
  if (stripped == offload_->tags_stripped(port)) return;
  if (auto st = offload_->set_tags_stripped(port, stripped); !st) {
    spdlog::error("{} (interface {})", st.error().to_string(), link->name);
    return;
  }
  if (stripped)
    spdlog::warn(
        "dataplane.port.tags_stripped {} strips VLAN tags in hardware (rx-vlan-offload on) and "
        "has VLAN subinterfaces: XDP cannot tell their frames from {}'s, so every frame on {} "
        "goes to the kernel (reason tags_stripped); run ethtool -K {} rxvlan off",
        link->name, link->name, link->name, link->name);
  else
    spdlog::info("dataplane.port.tags_visible {}: routed again", link->name);
}

void XdpDataplane::sync_subinterface(uint32_t ifindex) {
  const bool was = offload_->subinterfaces().contains(ifindex);
  if (auto st = offload_->sync_subinterface(ifindex); !st) {
    spdlog::error("{} (subinterface ifindex {})", st.error().to_string(), ifindex);
    return;
  }
  const auto& subs = offload_->subinterfaces();
  auto it = subs.find(ifindex);
  if (it != subs.end() && !was) {
    check_redirects(ifindex);
    const LinkInfo* link = kernel_.link(ifindex);
    spdlog::info("dataplane.port.vlan_routed {} ifindex={} parent={} vid={}{}",
                 link ? link->name : "?", ifindex, it->second.parent, it->second.vid,
                 it->second.egress ? "" : " (egress-qos-map set: egress punts)");
  } else if (it == subs.end() && was) {
    spdlog::info("dataplane.port.vlan_unrouted ifindex={}", ifindex);
  }
}

void XdpDataplane::set_interfaces(std::vector<std::string> interfaces) {
  options_.interfaces = std::move(interfaces);
  warn_unattachable();
  std::vector<uint32_t> unwanted;
  for (uint32_t ifindex : ports_) {
    const LinkInfo* link = kernel_.link(ifindex);
    if (!link || !wanted(*link)) unwanted.push_back(ifindex);
  }
  for (uint32_t ifindex : unwanted) {
    drop_port(ifindex);
    // Its next hops now punt: the redirect to a port not in fpm_tx_ports falls back to XDP_PASS.
    if (auto r = offload_->link_changed(ifindex); !r) spdlog::warn("{}", r.error().to_string());
  }
  for (const auto& [ifindex, link] : kernel_.links())
    if (!ports_.contains(ifindex) && wanted(link)) add_port(link);
  if (!options_.all_interfaces())
    for (const auto& name : options_.interfaces)
      if (!kernel_.link_by_name(name))
        spdlog::warn(
            "dataplane.port.missing interface {} does not exist (yet); it is attached "
            "when it appears",
            name);
}

void XdpDataplane::add_port(const LinkInfo& link) {
  // Before the entry's first write, so that it says the right thing at once.
  check_redirects(link.ifindex);
  if (auto st = program_->attach(link.ifindex, options_.mode); !st) {
    spdlog::error("{} (interface {})", st.error().to_string(), link.name);
    attach_errors_[link.ifindex] = st.error().to_string();
    return;
  }
  if (auto st = offload_->add_port(link.ifindex); !st) {
    spdlog::error("{} (interface {})", st.error().to_string(), link.name);
    attach_errors_[link.ifindex] = st.error().to_string();
    return;
  }
  attach_errors_.erase(link.ifindex);
  ports_.insert(link.ifindex);
  spdlog::info("dataplane.port.attached {} ifindex={} mode={}", link.name, link.ifindex,
               options_.mode == XdpMode::Native ? "native" : "generic");
  sync_vlans_of(link.ifindex);
}

const std::string* XdpDataplane::attach_error(uint32_t ifindex) const {
  auto it = attach_errors_.find(ifindex);
  return it == attach_errors_.end() ? nullptr : &it->second;
}

void XdpDataplane::drop_port(uint32_t ifindex) {
  attach_errors_.erase(ifindex);
  if (ports_.erase(ifindex) == 0) return;
  if (auto st = offload_->remove_port(ifindex); !st) spdlog::warn("{}", st.error().to_string());
  // The kernel already detached XDP from a vanished device; this only drops our link.
  if (auto st = program_->detach(ifindex); !st) spdlog::debug("{}", st.error().to_string());
  spdlog::info("dataplane.port.removed ifindex={}", ifindex);
}

void XdpDataplane::link_changed(uint32_t ifindex, const LinkInfo* link) {
  if (!link) {
    drop_port(ifindex);
  } else if (!ports_.contains(ifindex) && wanted(*link)) {
    add_port(*link);
  }
  // A VLAN link appeared, changed (VID, parent, MAC, master) or vanished.
  std::optional<uint32_t> vlan_parent;
  if (link && link->vlan) vlan_parent = link->vlan->parent;
  if (auto sub = offload_->subinterfaces().find(ifindex); sub != offload_->subinterfaces().end())
    vlan_parent = sub->second.parent;
  if (vlan_parent) {
    sync_subinterface(ifindex);
    check_tag_stripping(*vlan_parent);
  } else if (ports_.contains(ifindex)) {
    // The kernel reports a feature change (ethtool -K rxvlan) as a link change.
    check_tag_stripping(ifindex);
  } else if (!link) {
    // A vanished link no longer says whose VLAN it was: the ports it may have
    // kept punting look again.
    for (uint32_t port : ports_)
      if (offload_->tags_stripped(port)) check_tag_stripping(port);
  }
  // A rule names an interface that appeared, was renamed or changed master.
  for (Family f : {Family::V4, Family::V6})
    if (!kernel_.policy_rule_iifs(f).empty() || offload_->has_policy_rule_ports(f))
      mark_rule_ports(f);
  // Carrier, MAC or MTU changed: one rewrite per next hop on that link, whatever
  // the number of routes (a dead link fails its next hops before zebra reacts).
  if (staging_since_) fail_held_nexthops(ifindex);
  auto r = offload_->link_changed(ifindex);
  if (!r) spdlog::warn("{}", r.error().to_string());
}

// A forwarding switch: one fpm_ifaces write for the port it belongs to, one
// per port when IPv6's "all" switch flips (the kernel reports each port too).
void XdpDataplane::forwarding_changed(Family family, int32_t ifindex) {
  std::vector<uint32_t> routed(ports_.begin(), ports_.end());
  for (const auto& [sub, _] : offload_->subinterfaces()) routed.push_back(sub);
  for (uint32_t port : routed) {
    if (ifindex != kNetconfIfindexAll && static_cast<uint32_t>(ifindex) != port) continue;
    if (auto st = offload_->refresh_port(port); !st) {
      spdlog::warn("{}", st.error().to_string());
      continue;
    }
    const auto link = view_.link(port);
    spdlog::info(
        "dataplane.port.forwarding ifindex={} ({} switch changed) forward_v4={} forward_v6={}",
        port, family == Family::V4 ? "ipv4" : "ipv6", link && link->forward_v4,
        link && link->forward_v6);
  }
}

// XDP knows one table per port: while a rule could pick another, the kernel
// routes the family: on every port, or on those an iif rule names.
void XdpDataplane::policy_rules_changed(Family family) {
  const bool everywhere = kernel_.policy_rules(family);
  const char* name = family == Family::V4 ? "ipv4" : "ipv6";
  if (auto st = offload_->set_policy_rules(family, everywhere); !st)
    spdlog::error("{} (policy rules, {})", st.error().to_string(), name);
  mark_rule_ports(family);
  const RuleInfo* rule = kernel_.nonstandard_rule(family);  // set while either is
  std::string iifs;
  for (const auto& iif : kernel_.policy_rule_iifs(family)) iifs += (iifs.empty() ? "" : ", ") + iif;
  if (everywhere && rule)
    spdlog::warn(
        "dataplane.policy_rules {} punts: the kernel has policy routing rules the fast path does "
        "not apply (first: priority {}, {}), so every {} packet goes to the kernel (reason "
        "policy_rules) until only the standard rules are left",
        name, rule->priority, rule->nonstandard, name);
  else if (!iifs.empty() && rule)
    spdlog::warn(
        "dataplane.policy_rules {} punts on {} only: the kernel has policy routing rules the fast "
        "path does not apply for packets received there (first: priority {}, {}); they go to the "
        "kernel (reason policy_rules)",
        name, iifs, rule->priority, rule->nonstandard);
  else
    spdlog::info("dataplane.policy_rules {} routes again: only standard policy rules are left",
                 name);
}

void XdpDataplane::mark_rule_ports(Family family) {
  const auto iifs = kernel_.policy_rule_iifs(family);
  std::set<uint32_t> marked;
  if (!iifs.empty())
    for (const auto& [ifindex, link] : kernel_.links()) {
      // A VRF port's packets are routed as received on the VRF device.
      const LinkInfo* master = link.master ? kernel_.link(link.master) : nullptr;
      if (iifs.contains(link.name) || (master && iifs.contains(master->name)))
        marked.insert(ifindex);
    }
  if (auto st = offload_->set_policy_rule_ports(family, std::move(marked)); !st)
    spdlog::error("{} (policy rules by interface)", st.error().to_string());
}

void XdpDataplane::neighbour_changed(const IpAddr& addr, uint32_t ifindex, const NeighInfo*) {
  auto r = offload_->neighbour_changed(addr, ifindex);
  if (!r) spdlog::warn("{}", r.error().to_string());
}

// After a restart on pinned maps, and once the kernel dump has attached the
// configured ports and listed the router's addresses: what the previous run
// left that this one does not serve goes, so a port dropped from the
// configuration stops being forwarded on (and redirected to).
void XdpDataplane::purge_stale_state() {
  for (uint32_t ifindex : program_->stale_pinned_links()) {
    if (auto st = program_->detach_pinned(ifindex); !st)
      spdlog::warn("{}", st.error().to_string());
    else
      spdlog::info(
          "dataplane.port.stale detached ifindex={}: attached by a previous run, not "
          "configured now",
          ifindex);
  }
  const auto& subs = offload_->subinterfaces();
  auto not_a_port = [&](uint32_t ifindex) {
    return !ports_.contains(ifindex) && !subs.contains(ifindex);
  };
  const size_t ifaces = purge_keys<uint32_t>(program_->map_fd("fpm_ifaces"), not_a_port);
  // A subinterface routed inbound only (egress-qos-map) must not keep an old redirect.
  const size_t tx = purge_keys<uint32_t>(program_->map_fd("fpm_tx_ports"), [&](uint32_t ifindex) {
    auto sub = subs.find(ifindex);
    return sub != subs.end() ? !sub->second.egress : !ports_.contains(ifindex);
  });
  const size_t vlans =
      purge_keys<fpm_vlan_key>(program_->map_fd("fpm_vlans"), [&](const fpm_vlan_key& k) {
        for (const auto& [_, s] : subs)
          if (s.parent == k.ifindex && s.vid == k.vid) return false;
        return true;
      });
  const size_t l4 = purge_keys<std::array<uint8_t, 4>>(
      program_->map_fd("fpm_local4"), [this](const std::array<uint8_t, 4>& a) {
        IpAddr ip = IpAddr::v4(uint32_t(a[0]) << 24 | uint32_t(a[1]) << 16 | a[2] << 8 | a[3]);
        return !kernel_.is_local(ip);
      });
  const size_t l6 = purge_keys<std::array<uint8_t, 16>>(
      program_->map_fd("fpm_local6"), [this](const std::array<uint8_t, 16>& a) {
        IpAddr ip;
        ip.family = Family::V6;
        std::copy(a.begin(), a.end(), ip.bytes.begin());
        return !kernel_.is_local(ip);
      });
  if (ifaces + tx + vlans + l4 + l6 > 0)
    spdlog::info("dataplane.stale_state removed ifaces={} tx_ports={} local4={} local6={} vlans={}",
                 ifaces, tx, l4, l6, vlans);
}

void XdpDataplane::local_address_changed(const IpAddr& addr, bool present) {
  if (auto st = offload_->local_address_changed(addr); !st)
    spdlog::warn("{}", st.error().to_string());
  const bool v4 = addr.family == Family::V4;
  const int fd = program_->map_fd(v4 ? "fpm_local4" : "fpm_local6");
  if (fd < 0) return;
  const uint32_t value = 0;
  const int rc = present ? bpf_map_update_elem(fd, addr.bytes.data(), &value, BPF_ANY)
                         : bpf_map_delete_elem(fd, addr.bytes.data());
  // Removing an address the map never held (ENOENT) is not worth a warning.
  if (rc != 0 && !(errno == ENOENT && !present))
    spdlog::warn("bpf.map.local {} {}: {}", present ? "add" : "remove", addr.to_string(),
                 std::strerror(errno));
}

// Every neighbour a programmed next hop points at (each has a gateway: connected
// routes never get a next-hop entry), and every connected host XDP forwards to:
// the kernel sees none of their traffic either, and must notice one that leaves.
Status XdpDataplane::start_neighbour_refresh() {
  if (options_.neighbour_refresh.period.count() == 0) return ok_status();
  neighbour_refresh_ =
      std::make_unique<NeighbourRefresher>(io_, options_.neighbour_refresh, [this] {
        std::vector<NeighbourRefresher::Key> keys;
        offload_->nexthops().for_each([&](const NextHopKey& k, uint32_t, const fpm_nexthop&,
                                          uint32_t) { keys.emplace_back(k.gateway, k.ifindex); });
        offload_->hosts().for_each([&](const IpAddr& addr, uint32_t ifindex, const fpm_nexthop&) {
          keys.emplace_back(addr, ifindex);
        });
        // A gateway on a connected subnet is both a next hop and a host: once a round.
        std::sort(keys.begin(), keys.end());
        keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
        std::erase_if(keys, [this](const NeighbourRefresher::Key& k) {
          const NeighInfo* n = kernel_.neighbour(k.first, k.second);
          return n && !worth_refreshing(n->nud);
        });
        return keys;
      });
  return neighbour_refresh_->start();
}

void XdpDataplane::check_redirects(uint32_t ifindex) {
  const LinkInfo* link = kernel_.link(ifindex);
  if (!link) return;
  const bool sends = send_redirects_.effective(link->name);
  if (sends == offload_->sends_redirects(ifindex)) return;
  if (auto st = offload_->set_sends_redirects(ifindex, sends); !st) {
    spdlog::error("{} (interface {})", st.error().to_string(), link->name);
    return;
  }
  if (sends)
    spdlog::info(
        "dataplane.port.redirects {} sends IPv4 redirects again: IPv4 routed back out of it goes "
        "to the kernel (reason hairpin)",
        link->name);
  else
    spdlog::info(
        "dataplane.port.redirects {} sends no IPv4 redirects (send_redirects 0 for all and {}): "
        "XDP forwards IPv4 routed back out of it",
        link->name, link->name);
}

// send_redirects has no rtnetlink notification, so a change made with sysctl
// reaches the fast path on the next tick: until then a port's IPv4 hairpins
// are punted or forwarded as before, which costs a few seconds of redirects
// sent or missed, never a wrong route.
void XdpDataplane::arm_redirects_check() {
  static constexpr std::chrono::seconds kRedirectsRecheck{2};
  redirects_timer_.expires_after(kRedirectsRecheck);
  redirects_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    std::vector<uint32_t> routed(ports_.begin(), ports_.end());
    for (const auto& [sub, _] : offload_->subinterfaces()) routed.push_back(sub);
    for (uint32_t ifindex : routed) check_redirects(ifindex);
    arm_redirects_check();
  });
}

void XdpDataplane::arm_retry() {
  retry_timer_.expires_after(options_.retry_interval);
  retry_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    maybe_commit();
    if (size_t n = offload_->poll(); n > 0) spdlog::info("dataplane.retry installed={}", n);
    arm_retry();
  });
}

void XdpDataplane::maybe_commit() {
  if (!staging_since_) return;
  if (options_.replay_caught_up && options_.replay_caught_up()) {
    commit_staged("replay caught up");
  } else if (std::chrono::steady_clock::now() - *staging_since_ >= options_.warm_restart_timeout) {
    commit_staged("timeout: no replay from zebra");
  }
}

// While staging, the adopted tables still forward: a next hop of theirs whose
// link is down or gone is marked failed, so ECMP moves its flows to the
// surviving members (or the kernel takes them) instead of sending them into a
// dead port. Coming back up is left to the commit: the new tables know.
void XdpDataplane::fail_held_nexthops(std::optional<uint32_t> only_ifindex) {
  size_t failed = 0;
  for (const auto& [index, ifindex] : held_nexthops_) {
    if (only_ifindex && ifindex != *only_ifindex) continue;
    const auto link = view_.link(ifindex);
    if (link && link->up) continue;
    auto nh = writer_->read_nexthop(index);
    if (!nh || nh->state == FPM_NH_FAILED) continue;
    nh->state = FPM_NH_FAILED;
    if (auto st = writer_->write_nexthop(index, *nh); !st)
      spdlog::warn("{}", st.error().to_string());
    else
      ++failed;
  }
  if (failed > 0)
    spdlog::info("dataplane.warm_restart.nexthops_failed count={} (their link is down)", failed);
}

void XdpDataplane::commit_staged(std::string_view reason) {
  if (!staging_since_) return;
  const auto t0 = std::chrono::steady_clock::now();
  writer_->commit();
  // The adopted tables are unreachable now: their groups and next hops go
  // through the usual quarantine before reuse.
  offload_->release_held();
  held_nexthops_.clear();
  const auto t1 = std::chrono::steady_clock::now();
  const auto ms = [](auto d) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  };
  const auto st = offload_->stats();
  spdlog::info(
      "dataplane.warm_restart.committed reason=\"{}\" staged_ms={} commit_ms={} "
      "routes_offloaded={}",
      reason, ms(t0 - *staging_since_), ms(t1 - t0), st.routes_installed);
  staging_since_.reset();
}

CounterSlots XdpDataplane::counter_slots() const {
  // Ports, then routed subinterfaces: each has its own counter slot.
  CounterSlots slots(offload_->ports().begin(), offload_->ports().end());
  for (const auto& [ifindex, sub] : offload_->subinterfaces()) slots.emplace(ifindex, sub.slot);
  return slots;
}

std::vector<PortCounters> XdpDataplane::port_counters() const {
  std::vector<PortCounters> out;
  const int fd = program_->map_fd("fpm_iface_stats");
  const int reasons_fd = program_->map_fd("fpm_iface_reasons");
  const int ncpu = libbpf_num_possible_cpus();
  if (fd < 0 || ncpu <= 0) return out;
  std::vector<fpm_iface_stats> per_cpu(static_cast<size_t>(ncpu));
  std::vector<fpm_counter> per_cpu_reason(static_cast<size_t>(ncpu));
  const CounterSlots slots = counter_slots();
  for (const auto& [ifindex, slot] : slots) {
    PortCounters pc;
    pc.ifindex = ifindex;
    if (const LinkInfo* l = kernel_.link(ifindex)) pc.name = l->name;
    uint32_t key = slot;
    if (bpf_map_lookup_elem(fd, &key, per_cpu.data()) == 0) {
      for (const auto& c : per_cpu) {
        for (size_t v = 0; v < FPM_VERDICT_MAX; ++v) {
          pc.totals.verdict[v].packets += c.verdict[v].packets;
          pc.totals.verdict[v].bytes += c.verdict[v].bytes;
        }
      }
    }
    // One lookup per reason: the slot's 32 entries are contiguous keys, but a
    // batch lookup would cost as much for so few.
    for (uint32_t r = 1; reasons_fd >= 0 && r < FPM_REASON_MAX; ++r) {
      key = slot * FPM_REASON_MAX + r;
      if (bpf_map_lookup_elem(reasons_fd, &key, per_cpu_reason.data()) != 0) continue;
      for (const auto& c : per_cpu_reason) {
        pc.reasons[r].packets += c.packets;
        pc.reasons[r].bytes += c.bytes;
      }
    }
    out.push_back(std::move(pc));
  }
  return out;
}

}  // namespace fpm_sink
