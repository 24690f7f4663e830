#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include <fmt/format.h>

#include <ctime>

#include "common/main_table.hpp"
#include "control/format.hpp"
#include "control/text_table.hpp"

namespace fpm_sink::control {
namespace {

std::string nexthop_text(const control::NextHop& nh) {
  if (nh.blackhole()) return "blackhole";
  std::string s = nh.has_gateway() ? "via " + nh.gateway() : std::string("directly connected");
  if (nh.ifindex() != 0) s += ", " + interface_text(nh.ifname(), nh.ifindex());
  if (nh.onlink()) s += ", onlink";
  if (nh.weight() > 1) s += ", weight " + std::to_string(nh.weight());
  return s;
}

std::string state_text(control::EntryState s, bool stale) {
  std::string t(state_name(s));
  if (stale) t += ",stale";
  return t;
}

std::string id_or_dash(uint32_t id) {
  return id == 0 ? "-" : std::to_string(id);
}

void append_counters(const google::protobuf::Message& msg, const std::string& prefix,
                     TextTable& table) {
  const auto* desc = msg.GetDescriptor();
  const auto* refl = msg.GetReflection();
  for (int i = 0; i < desc->field_count(); ++i) {
    const auto* f = desc->field(i);
    if (f->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_UINT64)
      table.add_row({prefix + f->name(), std::to_string(refl->GetUInt64(msg, f))});
  }
}

}  // namespace

std::string routes_text(const RoutesReply& reply) {
  TextTable t({"Table", "Prefix", "Type", "Proto", "Metric", "NHG", "Group", "State", "XDP",
               "Zebra told", "Next hops"});
  for (const auto& r : reply.routes()) {
    std::string xdp(offload_name(r.offload()));
    if (xdp.empty()) xdp = "-";
    if (!r.offload_reason().empty()) xdp += " (" + r.offload_reason() + ")";
    std::vector<std::string> row{std::to_string(r.table()),
                                 r.prefix(),
                                 std::string(route_type_name(r.type())),
                                 r.protocol(),
                                 std::to_string(r.metric()),
                                 id_or_dash(r.nhg_id()),
                                 id_or_dash(r.group_id()),
                                 state_text(r.state(), r.stale()),
                                 xdp,
                                 r.zebra_flags().empty() ? "-" : r.zebra_flags(),
                                 r.nexthops_size() ? nexthop_text(r.nexthops(0)) : "-"};
    t.add_row(std::move(row));
    // Further next hops go on their own lines under the first, as vtysh does.
    for (int i = 1; i < r.nexthops_size(); ++i) {
      std::vector<std::string> more(10);
      more.push_back(nexthop_text(r.nexthops(i)));
      t.add_row(std::move(more));
    }
  }
  return t.render() + std::to_string(reply.routes_size()) + " routes\n" + flow_paths_text(reply);
}

std::string flow_paths_text(const RoutesReply& reply) {
  std::string out;
  for (const auto& r : reply.routes()) {
    if (!r.has_flow_path()) continue;
    const FlowPath& p = r.flow_path();
    out += "Flow via " + r.prefix() + " (table " + std::to_string(r.table()) + "): ";
    if (p.state() != NEXTHOP_STATE_UNSPECIFIED) {
      out += (p.forwarded() ? "XDP sends it to " : "its member is ") +
             (p.gateway().empty() ? std::string("next hop") : p.gateway()) + ", " +
             interface_text(p.ifname(), p.ifindex());
      if (p.forwarded()) out += ", MAC " + p.mac();
      out += fmt::format(" (next hop #{}, {}; bucket {} of hash {:#010x}{})", p.nexthop_index(),
                         nexthop_state_name(p.state()), p.bucket(), p.hash(),
                         p.failover() ? "; its own member failed, XDP failed over" : "");
      if (!p.note().empty()) out += "; " + p.note();
    } else {
      out += p.note();
    }
    out += "\n";
  }
  return out;
}

std::string groups_text(const NexthopGroupsReply& reply) {
  TextTable t({"ID", "Kind", "Family", "Proto", "Refs", "State", "Next hop / members"});
  for (const auto& g : reply.groups()) {
    std::string body;
    if (g.kind() == GROUP_KIND_SINGLE) {
      body = nexthop_text(g.nexthop());
    } else {
      for (const auto& m : g.members()) {
        if (!body.empty()) body += ", ";
        body += std::to_string(m.id());
        if (m.weight() > 1) body += "(w" + std::to_string(m.weight()) + ")";
      }
    }
    t.add_row({std::to_string(g.id()), g.kind() == GROUP_KIND_SINGLE ? "single" : "group",
               std::string(family_name(g.family())), g.protocol(), std::to_string(g.refcount()),
               state_text(g.state(), g.stale()), body});
  }
  return t.render() + std::to_string(reply.groups_size()) + " next-hop groups\n";
}

std::string fpm_text(const FpmReply& f) {
  TextTable t({"Field", "Value"});
  t.add_row({"listen", f.listen_address()});
  t.add_row({"session", std::string(session_state_name(f.session_state()))});
  t.add_row({"peer", f.peer_address().empty() ? "-" : f.peer_address()});
  t.add_row({"connected_since", unix_time_text(f.connected_since())});
  t.add_row({"sessions_accepted", std::to_string(f.sessions_accepted())});
  t.add_row({"sessions_replaced", std::to_string(f.sessions_replaced())});
  t.add_row({"peers_refused", std::to_string(f.peers_refused())});
  t.add_row({"frames", std::to_string(f.frames())});
  t.add_row({"bytes", std::to_string(f.bytes())});
  t.add_row({"netlink_frames", std::to_string(f.netlink_frames())});
  t.add_row({"protobuf_frames", std::to_string(f.protobuf_frames())});
  append_counters(f.decode(), "messages.", t);
  t.add_row({"decode_errors", std::to_string(f.decode_errors())});
  t.add_row({"incomplete_frames", std::to_string(f.incomplete_frames())});
  t.add_row({"framing_errors", std::to_string(f.framing_errors())});
  t.add_row({"apply_errors", std::to_string(f.apply_errors())});
  t.add_row({"last_error", f.last_error().empty() ? "-" : f.last_error()});
  t.add_row({"pending_routes", std::to_string(f.pending_routes())});
  t.add_row({"pending_groups", std::to_string(f.pending_groups())});
  t.add_row({"replay", std::string(replay_state_name(f.replay_state()))});
  t.add_row({"sweep_delay_seconds", fmt::format("{:g}", f.sweep_delay_seconds())});
  t.add_row({"stale_routes", std::to_string(f.stale_routes())});
  t.add_row({"stale_groups", std::to_string(f.stale_groups())});
  t.add_row({"swept_routes", std::to_string(f.swept_routes())});
  t.add_row({"swept_groups", std::to_string(f.swept_groups())});
  t.add_row({"last_sweep", std::to_string(f.last_sweep())});
  if (f.has_hold()) {
    const auto& h = f.hold();
    t.add_row({"hold", std::string(hold_state_name(h.state()))});
    t.add_row({"hold_time_seconds",
               h.hold_time_seconds() ? std::to_string(h.hold_time_seconds()) : "forever"});
    t.add_row({"hold_expires_at", unix_time_text(h.expires_at())});
    t.add_row({"hold_expired_at", unix_time_text(h.expired_at())});
    t.add_row({"hold_expiries", std::to_string(h.expiries())});
  }
  append_counters(f.rib(), "rib.", t);
  if (f.has_feedback()) append_counters(f.feedback(), "offload_feedback.", t);
  return t.render();
}

std::string counters_text(const CountersReply& reply) {
  if (!reply.fast_path()) return "fast path: off (fpm-sink runs without --interface)\n";
  std::string out;
  if (reply.cleared_at())
    out += "Counters since clear counters at " + unix_time_text(reply.cleared_at()) + "\n\n";
  out += "Verdicts\n";
  TextTable v({"Verdict", "Packets", "Bytes"});
  for (const auto& c : reply.verdicts())
    v.add_row({c.name(), std::to_string(c.packets()), std::to_string(c.bytes())});
  out += v.render() + "\nPunted to the kernel, by reason\n";
  TextTable r({"Reason", "Packets", "Bytes"});
  for (const auto& c : reply.reasons()) {
    if (c.packets() == 0) continue;
    r.add_row({c.name(), std::to_string(c.packets()), std::to_string(c.bytes())});
  }
  out += r.render() + "\nPer ingress interface\n";
  TextTable p({"Interface", "Ifindex", "Redirect", "Pass", "Drop"});  // packets
  for (const auto& port : reply.interfaces()) {
    std::vector<std::string> row{port.name(), std::to_string(port.ifindex())};
    for (const auto& c : port.verdicts()) row.push_back(std::to_string(c.packets()));
    row.resize(5);
    p.add_row(std::move(row));
  }
  out += p.render();
  if (!reply.has_tables()) return out;
  out += "\nTable usage (freed slots wait in quarantine until no XDP run can read them)\n";
  TextTable u({"Table", "Used", "Quarantined", "Capacity"});
  auto add = [&u](const std::string& name, const PoolUsage& pool) {
    u.add_row({name, std::to_string(pool.used()), std::to_string(pool.quarantined()),
               std::to_string(pool.capacity())});
  };
  const auto& t = reply.tables();
  add("IPv4 tbl8 groups", t.v4_tbl8_groups());
  add("IPv6 trie nodes", t.v6_nodes());
  add("next-hop groups", t.groups());
  add("next hops", t.nexthops());
  add("VRF table slots", t.vrf_tables());
  return out + u.render();
}

std::string nexthops_text(const NexthopsReply& reply) {
  if (!reply.fast_path()) return "fast path: off (fpm-sink runs without --interface)\n";
  TextTable t(
      {"Index", "Gateway", "Interface", "State", "MAC", "Groups", "Routes", "Kernel neighbour"});
  for (const auto& e : reply.nexthops()) {
    t.add_row({std::to_string(e.index()), e.gateway(), interface_text(e.ifname(), e.ifindex()),
               std::string(nexthop_state_name(e.state())),
               e.state() == NEXTHOP_STATE_VALID ? e.mac() : "-", std::to_string(e.groups()),
               std::to_string(e.routes()), e.neighbour().empty() ? "-" : e.neighbour()});
  }
  std::string out = t.render() + std::to_string(reply.nexthops_size()) + " next hops\n";
  if (reply.has_hosts()) {
    out += "\nConnected hosts (resolved neighbours XDP forwards to directly)\n";
    TextTable hosts({"Field", "Value"});
    append_counters(reply.hosts(), "", hosts);
    out += hosts.render();
  }
  if (!reply.has_neighbour_refresh()) return out;
  const auto& r = reply.neighbour_refresh();
  out += "\nNeighbour refresh (NTF_USE, so the kernel re-probes what XDP forwards to)\n";
  TextTable f({"Field", "Value"});
  f.add_row(
      {"period_seconds", r.period_seconds() > 0 ? fmt::format("{:g}", r.period_seconds()) : "off"});
  f.add_row({"tick_seconds", fmt::format("{:g}", r.tick_seconds())});
  append_counters(r, "", f);
  return out + f.render();
}

std::string neighbors_text(const NeighborsReply& reply) {
  if (!reply.fast_path()) return "kernel mirror: off (fpm-sink runs without --interface)\n";
  TextTable t({"Address", "MAC", "State", "Interface", "Fast-path next hops"});
  for (const auto& n : reply.neighbors()) {
    std::string users;
    for (uint32_t index : n.nexthop_indices())
      users += (users.empty() ? "#" : ", #") + std::to_string(index);
    t.add_row({n.address(), n.mac().empty() ? "-" : n.mac(), n.state(),
               interface_text(n.ifname(), n.ifindex()), users.empty() ? "-" : users});
  }
  return t.render() + std::to_string(reply.neighbors_size()) + " neighbours\n";
}

// One block per interface, as vtysh's `show interface` prints them.
std::string interfaces_text(const InterfacesReply& reply) {
  if (!reply.fast_path()) return "fast path: off (fpm-sink runs without --interface)\n";
  auto sw = [](const std::string& s) { return s.empty() ? std::string("unknown") : s; };
  std::string out;
  if (reply.cleared_at())
    out += "Counters since clear counters at " + unix_time_text(reply.cleared_at()) + "\n\n";
  for (const auto& i : reply.interfaces()) {
    out += fmt::format("Interface {} is {}\n", i.name(), i.up() ? "up" : "down");
    out += fmt::format("  ifindex {}, MAC {}, MTU {}{}\n", i.ifindex(), i.mac(), i.mtu(),
                       i.kind().empty() ? "" : ", kind " + i.kind());
    std::string xdp(attach_mode_name(i.attach()));
    if (i.attach() == ATTACH_MODE_NONE) xdp = "not attached (" + i.not_attached() + ")";
    out += "  XDP: " + xdp + "\n";
    out += fmt::format("  Forwarding: IPv4 {}, IPv6 {} (all {})\n", sw(i.forwarding_v4()),
                       sw(i.forwarding_v6()), sw(reply.ipv6_forwarding_all()));
    if (i.vlan_parent_ifindex() || i.vlan_id())
      out += fmt::format("  VLAN: id {} ({}) on {}{}\n", i.vlan_id(), i.vlan_protocol(),
                         interface_text(i.vlan_parent_name(), i.vlan_parent_ifindex()),
                         i.vlan_routed() ? ", routed by the fast path" : "");
    if (i.master_ifindex())
      out += fmt::format(
          "  Master: {}{}{}\n", interface_text(i.master_name(), i.master_ifindex()),
          i.master_kind().empty() ? "" : ", " + i.master_kind(),
          i.master_kind() == "vrf" ? "" : " (enslaved: XDP passes everything to the kernel)");
    if (i.vrf_table()) out += fmt::format("  VRF table: {}\n", i.vrf_table());
    if (i.attach() != ATTACH_MODE_NONE && i.table()) {
      out += fmt::format(
          "  Table: {}{}\n", i.table() == kMainTable ? "main (254)" : std::to_string(i.table()),
          i.table_slot() >= 0 ? fmt::format(", fast-path slot {}", i.table_slot())
                              : std::string(", no fast-path slot: punted (no_table)"));
    }
    for (const auto& c : i.verdicts()) {
      std::string_view what = c.name() == "redirect" ? "forwarded"
                              : c.name() == "pass"   ? "punted"
                              : c.name() == "drop"   ? "dropped"
                                                     : std::string_view(c.name());
      out += fmt::format("  {:<9} {} packets, {} bytes\n", std::string(what) + ":", c.packets(),
                         c.bytes());
    }
    if (i.punt_reasons_size()) {
      out += "  Not forwarded, by reason:\n";
      for (const auto& c : i.punt_reasons())
        out += fmt::format("    {:<16} {} packets, {} bytes\n", c.name() + ":", c.packets(),
                           c.bytes());
    }
  }
  return out;
}

}  // namespace fpm_sink::control
