#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include "control/format.hpp"

namespace fpm_sink::control {
namespace {

Json nexthop_json(const control::NextHop& nh) {
  Json j;
  if (nh.has_gateway()) j["gateway"] = nh.gateway();
  j["ifindex"] = nh.ifindex();
  if (!nh.ifname().empty()) j["ifname"] = nh.ifname();
  j["weight"] = nh.weight();
  j["onlink"] = nh.onlink();
  j["blackhole"] = nh.blackhole();
  return j;
}

// Counter messages are flat uint64 fields whose names are the JSON keys, so
// new counters show up without touching this file.
Json counters_json(const google::protobuf::Message& msg) {
  Json j = Json::object();
  const auto* desc = msg.GetDescriptor();
  const auto* refl = msg.GetReflection();
  for (int i = 0; i < desc->field_count(); ++i) {
    const auto* f = desc->field(i);
    if (f->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_UINT64)
      j[f->name()] = refl->GetUInt64(msg, f);
  }
  return j;
}

}  // namespace

Json route_json(const Route& r) {
  Json j;
  j["table"] = r.table();
  j["prefix"] = r.prefix();
  j["family"] = family_name(r.family());
  j["type"] = route_type_name(r.type());
  j["protocol"] = r.protocol();
  j["protocol_id"] = r.protocol_id();
  j["metric"] = r.metric();
  j["nhg_id"] = r.nhg_id();
  j["group_id"] = r.group_id();
  j["state"] = state_name(r.state());
  j["stale"] = r.stale();
  Json nhs = Json::array();
  for (const auto& nh : r.nexthops()) nhs.push_back(nexthop_json(nh));
  j["nexthops"] = std::move(nhs);
  if (r.offload() != OFFLOAD_UNSPECIFIED) {
    j["offload"] = offload_name(r.offload());
    if (!r.offload_reason().empty()) j["offload_reason"] = r.offload_reason();
    if (!r.zebra_flags().empty()) j["zebra_flags"] = r.zebra_flags();
  }
  if (r.has_flow_path()) j["flow_path"] = flow_path_json(r.flow_path());
  return j;
}

Json flow_path_json(const FlowPath& p) {
  Json j;
  j["forwarded"] = p.forwarded();
  if (!p.note().empty()) j["note"] = p.note();
  if (p.state() != NEXTHOP_STATE_UNSPECIFIED) {
    j["hash"] = p.hash();
    j["bucket"] = p.bucket();
    j["nexthop_index"] = p.nexthop_index();
    j["gateway"] = p.gateway();
    j["ifindex"] = p.ifindex();
    j["ifname"] = p.ifname();
    j["mac"] = p.mac();
    j["state"] = nexthop_state_name(p.state());
    j["failover"] = p.failover();
  }
  return j;
}

Json routes_json(const RoutesReply& reply) {
  Json routes = Json::array();
  for (const auto& r : reply.routes()) routes.push_back(route_json(r));
  Json out;
  out["routes"] = std::move(routes);
  return out;
}

// The layout of dump(2) for {"routes": [...]}: each route sits two levels deep.
RoutesJsonWriter::RoutesJsonWriter(std::ostream& out) : out_(out) {
  out_ << "{\n  \"routes\": [";
}

void RoutesJsonWriter::add(const RoutesReply& part) {
  for (const auto& r : part.routes()) {
    out_ << (routes_ == 0 ? "\n    " : ",\n    ");
    const std::string text = route_json(r).dump(2);
    size_t from = 0;
    for (size_t nl; (nl = text.find('\n', from)) != std::string::npos; from = nl + 1)
      out_.write(text.data() + from, static_cast<std::streamsize>(nl + 1 - from)) << "    ";
    out_.write(text.data() + from, static_cast<std::streamsize>(text.size() - from));
    ++routes_;
  }
}

void RoutesJsonWriter::finish() {
  out_ << (routes_ == 0 ? "]\n}\n" : "\n  ]\n}\n");
}

Json groups_json(const NexthopGroupsReply& reply) {
  Json groups = Json::array();
  for (const auto& g : reply.groups()) {
    Json j;
    j["id"] = g.id();
    j["kind"] = g.kind() == GROUP_KIND_SINGLE ? "single" : "group";
    j["family"] = family_name(g.family());
    j["protocol"] = g.protocol();
    j["protocol_id"] = g.protocol_id();
    j["refcount"] = g.refcount();
    j["state"] = state_name(g.state());
    j["stale"] = g.stale();
    if (g.kind() == GROUP_KIND_SINGLE) {
      j["nexthop"] = nexthop_json(g.nexthop());
    } else {
      Json members = Json::array();
      for (const auto& m : g.members())
        members.push_back(Json{{"id", m.id()}, {"weight", m.weight()}});
      j["members"] = std::move(members);
    }
    groups.push_back(std::move(j));
  }
  Json out;
  out["nexthop_groups"] = std::move(groups);
  return out;
}

Json fpm_json(const FpmReply& f) {
  Json session;
  session["listen"] = f.listen_address();
  session["state"] = session_state_name(f.session_state());
  if (!f.peer_address().empty()) session["peer"] = f.peer_address();
  session["connected_since"] = f.connected_since();
  session["sessions_accepted"] = f.sessions_accepted();
  session["sessions_replaced"] = f.sessions_replaced();
  session["peers_refused"] = f.peers_refused();

  Json stream;
  stream["frames"] = f.frames();
  stream["bytes"] = f.bytes();
  stream["netlink_frames"] = f.netlink_frames();
  stream["protobuf_frames"] = f.protobuf_frames();
  stream["decode_errors"] = f.decode_errors();
  stream["incomplete_frames"] = f.incomplete_frames();
  stream["framing_errors"] = f.framing_errors();
  stream["apply_errors"] = f.apply_errors();
  stream["last_error"] = f.last_error();

  Json replay;
  replay["state"] = replay_state_name(f.replay_state());
  replay["sweep_delay_seconds"] = f.sweep_delay_seconds();
  replay["stale_routes"] = f.stale_routes();
  replay["stale_groups"] = f.stale_groups();
  replay["swept_routes"] = f.swept_routes();
  replay["swept_groups"] = f.swept_groups();
  replay["last_sweep"] = f.last_sweep();

  Json fpm;
  fpm["session"] = std::move(session);
  fpm["stream"] = std::move(stream);
  fpm["messages"] = counters_json(f.decode());
  fpm["pending"] = Json{{"routes", f.pending_routes()}, {"groups", f.pending_groups()}};
  fpm["replay"] = std::move(replay);
  fpm["rib"] = counters_json(f.rib());
  if (f.has_hold()) {
    const auto& h = f.hold();
    fpm["hold"] = Json{{"state", hold_state_name(h.state())},
                       {"hold_time_seconds", h.hold_time_seconds()},
                       {"expires_at", h.expires_at()},
                       {"expired_at", h.expired_at()},
                       {"expiries", h.expiries()}};
  }
  if (f.has_feedback()) fpm["offload_feedback"] = counters_json(f.feedback());
  Json out;
  out["fpm"] = std::move(fpm);
  return out;
}

Json counters_json(const CountersReply& reply) {
  Json c;
  c["fast_path"] = reply.fast_path();
  c["cleared_at"] = reply.cleared_at();
  Json verdicts = Json::object(), reasons = Json::object(), bytes = Json::object();
  for (const auto& v : reply.verdicts()) {
    verdicts[v.name()] = v.packets();
    bytes[v.name()] = v.bytes();
  }
  for (const auto& r : reply.reasons()) reasons[r.name()] = r.packets();
  c["verdicts"] = std::move(verdicts);
  c["verdict_bytes"] = std::move(bytes);
  c["reasons"] = std::move(reasons);
  Json ports = Json::array();
  for (const auto& p : reply.interfaces()) {
    Json j;
    j["ifindex"] = p.ifindex();
    j["name"] = p.name();
    for (const auto& v : p.verdicts()) j[v.name()] = v.packets();
    Json bytes = Json::object();
    for (const auto& v : p.verdicts()) bytes[v.name()] = v.bytes();
    j["bytes"] = std::move(bytes);
    ports.push_back(std::move(j));
  }
  c["interfaces"] = std::move(ports);
  if (reply.has_tables()) {
    const auto& t = reply.tables();
    auto pool = [](const PoolUsage& p) {
      return Json{{"used", p.used()}, {"quarantined", p.quarantined()}, {"capacity", p.capacity()}};
    };
    c["tables"]["v4_tbl8_groups"] = pool(t.v4_tbl8_groups());
    c["tables"]["v6_nodes"] = pool(t.v6_nodes());
    c["tables"]["groups"] = pool(t.groups());
    c["tables"]["nexthops"] = pool(t.nexthops());
    c["tables"]["vrf_tables"] = pool(t.vrf_tables());
  }
  Json out;
  out["counters"] = std::move(c);
  return out;
}

Json nexthops_json(const NexthopsReply& reply) {
  Json n;
  n["fast_path"] = reply.fast_path();
  Json list = Json::array();
  for (const auto& e : reply.nexthops()) {
    Json j;
    j["index"] = e.index();
    j["gateway"] = e.gateway();
    j["ifindex"] = e.ifindex();
    j["ifname"] = e.ifname();
    j["state"] = nexthop_state_name(e.state());
    j["mac"] = e.mac();
    j["refs"] = e.refs();
    j["groups"] = e.groups();
    j["routes"] = e.routes();
    j["neighbour"] = e.neighbour();
    list.push_back(std::move(j));
  }
  n["nexthops"] = std::move(list);
  if (reply.has_hosts()) n["hosts"] = counters_json(reply.hosts());
  if (reply.has_neighbour_refresh()) {
    const auto& r = reply.neighbour_refresh();
    Json j;
    j["period_seconds"] = r.period_seconds();  // 0 = off
    j["tick_seconds"] = r.tick_seconds();
    const Json counters = counters_json(r);
    for (const auto& [key, value] : counters.items()) j[key] = value;
    n["neighbour_refresh"] = std::move(j);
  }
  Json out;
  out["nexthops"] = std::move(n);
  return out;
}

Json neighbors_json(const NeighborsReply& reply) {
  Json list = Json::array();
  for (const auto& n : reply.neighbors()) {
    Json j;
    j["address"] = n.address();
    j["mac"] = n.mac();
    j["state"] = n.state();
    j["ifindex"] = n.ifindex();
    j["ifname"] = n.ifname();
    j["fast_path_nexthops"] =
        Json(std::vector<uint32_t>(n.nexthop_indices().begin(), n.nexthop_indices().end()));
    list.push_back(std::move(j));
  }
  Json out;
  out["neighbors"] = Json{{"fast_path", reply.fast_path()}, {"neighbors", std::move(list)}};
  return out;
}

Json interfaces_json(const InterfacesReply& reply) {
  Json list = Json::array();
  for (const auto& i : reply.interfaces()) {
    Json j;
    j["ifindex"] = i.ifindex();
    j["name"] = i.name();
    j["up"] = i.up();
    j["kind"] = i.kind();
    j["mac"] = i.mac();
    j["mtu"] = i.mtu();
    j["attach"] = attach_mode_name(i.attach());
    if (i.attach() == ATTACH_MODE_NONE) j["not_attached"] = i.not_attached();
    j["forwarding_v4"] = i.forwarding_v4();
    j["forwarding_v6"] = i.forwarding_v6();
    if (i.kind() == "vlan") {
      j["vlan"] = Json{{"parent_ifindex", i.vlan_parent_ifindex()},
                       {"parent_name", i.vlan_parent_name()},
                       {"id", i.vlan_id()},
                       {"protocol", i.vlan_protocol()},
                       {"routed", i.vlan_routed()}};
    }
    j["master_ifindex"] = i.master_ifindex();
    if (i.vrf_table()) j["vrf_table"] = i.vrf_table();
    if (i.attach() != ATTACH_MODE_NONE) {
      j["table"] = i.table();
      j["table_slot"] = i.table_slot();
    }
    if (i.master_ifindex()) {
      j["master_name"] = i.master_name();
      j["master_kind"] = i.master_kind();
    }
    Json packets = Json::object(), bytes = Json::object();
    for (const auto& c : i.verdicts()) {
      packets[c.name()] = c.packets();
      bytes[c.name()] = c.bytes();
    }
    if (i.verdicts_size()) {
      j["packets"] = std::move(packets);
      j["bytes"] = std::move(bytes);
      Json reasons = Json::array();
      for (const auto& c : i.punt_reasons())
        reasons.push_back({{"reason", c.name()}, {"packets", c.packets()}, {"bytes", c.bytes()}});
      j["punt_reasons"] = std::move(reasons);
    }
    list.push_back(std::move(j));
  }
  Json n;
  n["fast_path"] = reply.fast_path();
  n["ipv6_forwarding_all"] = reply.ipv6_forwarding_all();
  n["cleared_at"] = reply.cleared_at();
  n["interfaces"] = std::move(list);
  Json out;
  out["interfaces"] = std::move(n);
  return out;
}

}  // namespace fpm_sink::control
