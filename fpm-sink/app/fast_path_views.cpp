#include "app/fast_path_views.hpp"

#include <linux/neighbour.h>
#include <net/if.h>

#include <algorithm>
#include <chrono>
#include <iterator>
#include <utility>
#include <vector>

#include "app/offload_feedback.hpp"

namespace fpm_sink {

std::string_view verdict_name(uint32_t v) {
  switch (v) {
    case FPM_VERDICT_REDIRECT:
      return "redirect";
    case FPM_VERDICT_PASS:
      return "pass";
    case FPM_VERDICT_DROP:
      return "drop";
    default:
      return "";
  }
}

std::string_view reason_name(uint32_t r) {
  switch (r) {
    case FPM_REASON_NONE:
      return "none";
    case FPM_REASON_NO_IFACE:
      return "no_iface";
    case FPM_REASON_NON_IP:
      return "non_ip";
    case FPM_REASON_VLAN:
      return "vlan";
    case FPM_REASON_MALFORMED:
      return "malformed";
    case FPM_REASON_BAD_CSUM:
      return "bad_csum";
    case FPM_REASON_MULTICAST:
      return "multicast";
    case FPM_REASON_LINK_LOCAL:
      return "link_local";
    case FPM_REASON_LOCAL:
      return "local";
    case FPM_REASON_TTL:
      return "ttl";
    case FPM_REASON_IP_OPTIONS:
      return "ip_options";
    case FPM_REASON_IPV6_HBH:
      return "ipv6_hbh";
    case FPM_REASON_NO_TABLE:
      return "no_table";
    case FPM_REASON_NO_ROUTE:
      return "no_route";
    case FPM_REASON_UNREACHABLE:
      return "unreachable";
    case FPM_REASON_PROHIBIT:
      return "prohibit";
    case FPM_REASON_CONNECTED:
      return "connected";
    case FPM_REASON_OFFLOAD_FAILED:
      return "offload_failed";
    case FPM_REASON_NO_GROUP:
      return "no_group";
    case FPM_REASON_UNRESOLVED:
      return "unresolved";
    case FPM_REASON_NH_FAILED:
      return "nh_failed";
    case FPM_REASON_MTU:
      return "mtu";
    case FPM_REASON_NO_TX_PORT:
      return "no_tx_port";
    case FPM_REASON_BLACKHOLE:
      return "blackhole";
    case FPM_REASON_MARTIAN:
      return "martian";
    case FPM_REASON_OTHER_HOST:
      return "other_host";
    case FPM_REASON_ENSLAVED:
      return "enslaved";
    case FPM_REASON_FWD_DISABLED:
      return "fwd_disabled";
    case FPM_REASON_VLAN_UNKNOWN:
      return "vlan_unknown";
    case FPM_REASON_TAGS_STRIPPED:
      return "tags_stripped";
    case FPM_REASON_POLICY_RULES:
      return "policy_rules";
    case FPM_REASON_HAIRPIN:
      return "hairpin";
    default:
      return "";
  }
}

namespace {

void add_counter(google::protobuf::RepeatedPtrField<control::Counter>* list, std::string_view name,
                 const fpm_counter& c) {
  auto* out = list->Add();
  out->set_name(std::string(name));
  out->set_packets(c.packets);
  out->set_bytes(c.bytes);
}

control::Offload to_proto(OffloadState s) {
  switch (s) {
    case OffloadState::Installed:
      return control::OFFLOAD_INSTALLED;
    case OffloadState::Failed:
      return control::OFFLOAD_FAILED;
    case OffloadState::NotOffloaded:
      return control::OFFLOAD_NOT_OFFLOADED;
  }
  return control::OFFLOAD_UNSPECIFIED;
}

void fill_pool(const lpm::LpmStats& s, control::PoolUsage* out) {
  out->set_used(s.nodes_used);
  out->set_quarantined(s.nodes_in_grace);
  out->set_capacity(s.nodes_total);
}

void fill_pool(const IndexAllocator& a, control::PoolUsage* out) {
  out->set_used(a.in_use());
  out->set_quarantined(a.in_grace());
  out->set_capacity(a.capacity());
}

// Occupancy of the tables the XDP program reads: what an operator watches
// for exhaustion, and what a churn soak checks returns to its baseline.
void fill_table_usage(const XdpDataplane& fp, control::TableUsage* out) {
  fill_pool(fp.writer().v4().stats(), out->mutable_v4_tbl8_groups());
  fill_pool(fp.writer().v6().stats(), out->mutable_v6_nodes());
  fill_pool(fp.offload().group_slots(), out->mutable_groups());
  fill_pool(fp.offload().nexthops().allocator(), out->mutable_nexthops());
  fill_pool(fp.offload().vrf_slots(), out->mutable_vrf_tables());
}

}  // namespace

Status fill_counters(const XdpDataplane* fp, control::CountersReply* out) {
  out->set_fast_path(fp != nullptr);
  if (!fp) return ok_status();
  auto counters = fp->counters();
  if (!counters) return counters.error();
  for (uint32_t v = 0; v < FPM_VERDICT_MAX; ++v) {
    if (auto name = verdict_name(v); !name.empty())
      add_counter(out->mutable_verdicts(), name, (*counters)[FPM_CNT_VERDICT + v]);
  }
  for (uint32_t r = 1; r < FPM_REASON_MAX; ++r) {
    if (auto name = reason_name(r); !name.empty())
      add_counter(out->mutable_reasons(), name, (*counters)[FPM_CNT_REASON + r]);
  }
  for (const auto& port : fp->port_counters()) {
    auto* p = out->add_interfaces();
    p->set_ifindex(port.ifindex);
    p->set_name(port.name);
    for (uint32_t v = 0; v < FPM_VERDICT_MAX; ++v) {
      if (auto name = verdict_name(v); !name.empty())
        add_counter(p->mutable_verdicts(), name, port.totals.verdict[v]);
    }
    // Only what the port has seen: most of the 31 reasons never happen on a port.
    for (uint32_t r = 1; r < FPM_REASON_MAX; ++r) {
      if (port.reasons[r].packets == 0) continue;
      if (auto name = reason_name(r); !name.empty())
        add_counter(p->mutable_reasons(), name, port.reasons[r]);
    }
  }
  fill_table_usage(*fp, out->mutable_tables());
  return ok_status();
}

void annotate_offload(const XdpDataplane& fp, control::RoutesReply* routes) {
  const bool staging = fp.staging();
  for (auto& r : *routes->mutable_routes()) {
    auto prefix = Prefix::parse(r.prefix());
    if (!prefix) continue;
    auto st = fp.offload().offload_state(r.table(), *prefix);
    if (!st) continue;
    r.set_offload(to_proto(st->state));
    if (st->reason != OffloadReason::None) r.set_offload_reason(std::string(to_string(st->reason)));
    // Warm restart: written to the staged tables, which XDP does not read yet.
    if (staging && st->state == OffloadState::Installed) r.set_offload_reason("staged");
    if (st->reported)
      r.set_zebra_flags(std::string(reply_flags_name(offload_reply_flags(*st->reported))));
  }
}

namespace {

const std::string& interface_name(const XdpDataplane* fp, InterfaceNames& names, uint32_t ifindex) {
  auto [it, fresh] = names.try_emplace(ifindex);
  if (!fresh) return it->second;
  if (fp) {
    if (const LinkInfo* link = fp->kernel().link(ifindex)) it->second = link->name;
  } else {
    char buf[IF_NAMESIZE];
    if (if_indextoname(ifindex, buf)) it->second = buf;
  }
  return it->second;
}

}  // namespace

void name_interfaces(const XdpDataplane* fp, InterfaceNames& names, control::RoutesReply* routes) {
  for (auto& r : *routes->mutable_routes()) {
    for (auto& nh : *r.mutable_nexthops())
      if (nh.ifindex() != 0) nh.set_ifname(interface_name(fp, names, nh.ifindex()));
  }
}

void name_interfaces(const XdpDataplane* fp, control::NexthopGroupsReply* groups) {
  InterfaceNames names;
  for (auto& g : *groups->mutable_groups()) {
    if (g.has_nexthop() && g.nexthop().ifindex() != 0)
      g.mutable_nexthop()->set_ifname(interface_name(fp, names, g.nexthop().ifindex()));
  }
}

std::string nud_name(uint16_t nud) {
  static constexpr std::pair<uint16_t, std::string_view> kNames[] = {
      {NUD_INCOMPLETE, "incomplete"}, {NUD_REACHABLE, "reachable"}, {NUD_STALE, "stale"},
      {NUD_DELAY, "delay"},           {NUD_PROBE, "probe"},         {NUD_FAILED, "failed"},
      {NUD_NOARP, "noarp"},           {NUD_PERMANENT, "permanent"}};
  std::string out;
  for (const auto& [bit, name] : kNames) {
    if (!(nud & bit)) continue;
    if (!out.empty()) out += "|";
    out += name;
  }
  return out.empty() ? "none" : out;
}

namespace {

control::NexthopState to_proto_nh_state(uint8_t state) {
  switch (state) {
    case FPM_NH_VALID:
      return control::NEXTHOP_STATE_VALID;
    case FPM_NH_FAILED:
      return control::NEXTHOP_STATE_FAILED;
    case FPM_NH_UNRESOLVED:
      return control::NEXTHOP_STATE_UNRESOLVED;
  }
  return control::NEXTHOP_STATE_UNSPECIFIED;
}

}  // namespace

void fill_nexthop_entries(const NextHopTable& table, const KernelState& kernel,
                          control::NexthopsReply* out) {
  table.for_each([&](const NextHopKey& key, uint32_t index, const fpm_nexthop& nh, uint32_t refs) {
    auto* e = out->add_nexthops();
    e->set_index(index);
    e->set_gateway(key.gateway.to_string());
    e->set_ifindex(key.ifindex);
    if (const LinkInfo* link = kernel.link(key.ifindex)) e->set_ifname(link->name);
    e->set_state(to_proto_nh_state(nh.state));
    MacAddr mac;
    std::copy(std::begin(nh.dst_mac), std::end(nh.dst_mac), mac.begin());
    e->set_mac(mac_to_string(mac));
    e->set_refs(refs);
    if (const NeighInfo* n = kernel.neighbour(key.gateway, key.ifindex))
      e->set_neighbour(nud_name(n->nud));
  });
}

void count_nexthop_users(const FibOffload& fast_path, control::NexthopsReply* out) {
  struct Users {
    uint32_t groups = 0;
    uint64_t routes = 0;
  };
  std::unordered_map<uint32_t, Users> users;
  fast_path.for_each_forwarding_group([&](std::span<const uint32_t> nexthops, uint64_t routes) {
    std::vector<uint32_t> distinct(nexthops.begin(), nexthops.end());
    std::sort(distinct.begin(), distinct.end());
    distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
    for (uint32_t nh : distinct) {
      users[nh].groups++;
      users[nh].routes += routes;
    }
  });
  for (auto& e : *out->mutable_nexthops()) {
    auto it = users.find(e.index());
    if (it == users.end()) continue;
    e.set_groups(it->second.groups);
    e.set_routes(it->second.routes);
  }
}

void fill_neighbour_refresh(const NeighbourRefreshOptions& options,
                            const NeighbourRefreshStats& stats, control::NeighbourRefresh* out) {
  out->set_period_seconds(std::chrono::duration<double>(options.period).count());
  out->set_tick_seconds(std::chrono::duration<double>(options.tick).count());
  out->set_max_per_tick(options.max_per_tick);
  out->set_sent(stats.sent);
  out->set_rejected(stats.rejected);
  out->set_rounds(stats.schedule.rounds);
  out->set_deferred(stats.schedule.deferred);
  out->set_capped_ticks(stats.schedule.capped_ticks);
  out->set_targets(stats.schedule.targets);
}

void fill_nexthops(const XdpDataplane* fp, control::NexthopsReply* out) {
  out->set_fast_path(fp != nullptr);
  if (!fp) return;
  fill_nexthop_entries(fp->offload().nexthops(), fp->kernel(), out);
  count_nexthop_users(fp->offload(), out);
  const NeighbourRefresher* refresher = fp->neighbour_refresh();
  fill_neighbour_refresh(fp->neighbour_refresh_options(),
                         refresher ? refresher->stats() : NeighbourRefreshStats{},
                         out->mutable_neighbour_refresh());
  const HostTable& hosts = fp->offload().hosts();
  const HostTableStats st = hosts.stats();
  auto* h = out->mutable_hosts();
  // What XDP reads, counted in the maps themselves.
  h->set_v4(fp->program().count_keys("fpm_hosts4"));
  h->set_v6(fp->program().count_keys("fpm_hosts6"));
  h->set_capacity(hosts.capacity());
  h->set_refused(st.refused);
  h->set_full_events(st.full_events);
  h->set_writes(st.writes);
}

}  // namespace fpm_sink
