#include "control/rib_query.hpp"

namespace fpm_sink::control {
namespace {

control::Family to_proto(fpm_sink::Family f) {
  return f == fpm_sink::Family::V4 ? FAMILY_IPV4 : FAMILY_IPV6;
}

control::EntryState to_proto(fpm_sink::EntryState s) {
  return s == fpm_sink::EntryState::Installed ? ENTRY_STATE_INSTALLED : ENTRY_STATE_PENDING;
}

control::RouteType to_proto(fpm_sink::RouteType t) {
  switch (t) {
    case fpm_sink::RouteType::Unicast:
      return ROUTE_TYPE_UNICAST;
    case fpm_sink::RouteType::Blackhole:
      return ROUTE_TYPE_BLACKHOLE;
    case fpm_sink::RouteType::Unreachable:
      return ROUTE_TYPE_UNREACHABLE;
    case fpm_sink::RouteType::Prohibit:
      return ROUTE_TYPE_PROHIBIT;
    case fpm_sink::RouteType::Local:
      return ROUTE_TYPE_LOCAL;
    case fpm_sink::RouteType::Other:
      return ROUTE_TYPE_OTHER;
  }
  return ROUTE_TYPE_OTHER;
}

void fill_nexthop(const fpm_sink::NextHop& nh, uint32_t weight, control::NextHop* out) {
  if (nh.gateway) out->set_gateway(nh.gateway->to_string());
  out->set_ifindex(nh.ifindex);
  out->set_weight(weight);
  out->set_onlink(nh.onlink);
  out->set_blackhole(nh.blackhole);
}

}  // namespace

void fill_route(const Rib& rib, const RibRoute& r, control::Route* out) {
  const auto& s = r.spec;
  out->set_table(s.table);
  out->set_prefix(s.prefix.to_string());
  out->set_family(to_proto(s.prefix.family()));
  out->set_type(to_proto(s.type));
  out->set_protocol(protocol_name(s.protocol));
  out->set_protocol_id(s.protocol);
  out->set_metric(s.metric);
  out->set_nhg_id(s.nhg_id);
  out->set_group_id(r.group_id);
  out->set_state(to_proto(r.state));
  out->set_stale(r.stale);
  if (s.nhg_id == 0) {
    for (const auto& w : s.nexthops) fill_nexthop(w.nh, w.weight, out->add_nexthops());
    return;
  }
  // NHG mode: show what the group resolves to, so output compares with inline mode.
  if (auto group = rib.fib_group(s.nhg_id)) {
    for (const auto& m : group->members) fill_nexthop(m.nh, m.weight, out->add_nexthops());
  }
}

void query_groups(const Rib& rib, NexthopGroupsReply* out) {
  rib.for_each_group([&](const RibGroup& g) {
    auto* pg = out->add_groups();
    pg->set_id(g.spec.id);
    pg->set_family(to_proto(g.spec.family));
    pg->set_protocol(protocol_name(g.spec.protocol));
    pg->set_protocol_id(g.spec.protocol);
    pg->set_refcount(g.refcount);
    pg->set_state(to_proto(g.state));
    pg->set_stale(g.stale);
    if (const auto* single = std::get_if<fpm_sink::NextHop>(&g.spec.body)) {
      pg->set_kind(GROUP_KIND_SINGLE);
      fill_nexthop(*single, 1, pg->mutable_nexthop());
    } else {
      pg->set_kind(GROUP_KIND_GROUP);
      for (const auto& m : std::get<std::vector<NexthopGroupMember>>(g.spec.body)) {
        auto* pm = pg->add_members();
        pm->set_id(m.id);
        pm->set_weight(m.weight);
      }
    }
  });
}

}  // namespace fpm_sink::control
