#include "app/flow_path_view.hpp"

#include <algorithm>
#include <iterator>

#include "dataplane/flow_hash.hpp"

namespace fpm_sink {

Result<FlowKey> flow_key(const std::string& destination, const control::Flow& flow) {
  auto bad = [](std::string msg) { return Error{"control.bad_flow", std::move(msg)}; };
  auto dst = IpAddr::parse(destination);
  if (!dst) return bad("a flow needs a destination address, not \"" + destination + "\"");
  auto src = IpAddr::parse(flow.source());
  if (!src) return bad("bad source address \"" + flow.source() + "\"");
  if (src->family != dst->family) return bad("source and destination are of different families");
  if (flow.protocol() > 255) return bad("protocol " + std::to_string(flow.protocol()) + " > 255");
  if (flow.source_port() > 65535 || flow.destination_port() > 65535)
    return bad("ports go up to 65535");
  FlowKey key;
  key.src = *src;
  key.dst = *dst;
  key.protocol = static_cast<uint8_t>(flow.protocol());
  key.sport = static_cast<uint16_t>(flow.source_port());
  key.dport = static_cast<uint16_t>(flow.destination_port());
  return key;
}

namespace {

void explain(control::Route& r, control::FlowPath* path) {
  path->set_forwarded(false);
  if (r.table() != kMainTable) {
    path->set_note("only the main table is in the fast path: the kernel forwards");
  } else if (r.offload() == control::OFFLOAD_UNSPECIFIED) {
    path->set_note("not in the fast path: the kernel forwards");
  } else {
    std::string why = r.offload() == control::OFFLOAD_FAILED ? "offload failed" : "not offloaded";
    if (!r.offload_reason().empty()) why += ": " + r.offload_reason();
    path->set_note(why + "; XDP punts to the kernel");
  }
}

}  // namespace

void annotate_flow_path(const XdpDataplane* fp, const FlowKey& flow, control::RoutesReply* routes) {
  for (auto& r : *routes->mutable_routes()) {
    auto* path = r.mutable_flow_path();
    auto prefix = Prefix::parse(r.prefix());
    std::optional<RouteOffload> st;
    if (fp && prefix && r.table() == kMainTable)
      st = fp->offload().offload_state(r.table(), *prefix);
    if (!st || st->state != OffloadState::Installed || fp->staging()) {
      explain(r, path);
      if (st && fp->staging()) path->set_note("warm restart: the adopted tables still forward");
      continue;
    }
    const uint32_t kind = fpm_act_kind(st->action);
    if (kind == FPM_ACT_DROP) {
      path->set_note("blackhole: XDP drops the packet");
      continue;
    }
    const MapMemory& mem = fp->program().memory();
    const uint32_t group = fpm_act_arg(st->action);
    if (kind != FPM_ACT_FORWARD || !mem.nhg || group >= mem.max_groups ||
        !(mem.nhg[group].flags & FPM_NHG_F_VALID)) {
      path->set_note("no valid group: XDP punts to the kernel");
      continue;
    }
    // A snapshot of the live buckets: XDP reads the same memory.
    std::array<uint32_t, FPM_NHG_BUCKETS> buckets;
    std::copy(std::begin(mem.nhg[group].buckets), std::end(mem.nhg[group].buckets),
              buckets.begin());
    auto state = [fp](uint32_t index) -> int {
      auto nh = fp->writer().read_nexthop(index);
      return nh ? nh->state : -1;
    };
    const uint32_t hash = flow_hash(flow, fp->program().hash_seed());
    const MemberChoice choice = pick_member(buckets, hash, state);
    path->set_hash(hash);
    path->set_bucket(choice.bucket);
    path->set_nexthop_index(choice.nexthop);
    path->set_failover(choice.failover);
    const auto nh = fp->writer().read_nexthop(choice.nexthop);
    if (!nh) {
      path->set_note("next hop entry missing: XDP punts to the kernel");
      continue;
    }
    switch (nh->state) {
      case FPM_NH_VALID:
        path->set_state(control::NEXTHOP_STATE_VALID);
        break;
      case FPM_NH_FAILED:
        path->set_state(control::NEXTHOP_STATE_FAILED);
        break;
      default:
        path->set_state(control::NEXTHOP_STATE_UNRESOLVED);
    }
    path->set_ifindex(nh->ifindex);
    if (const LinkInfo* link = fp->kernel().link(nh->ifindex)) path->set_ifname(link->name);
    MacAddr mac;
    std::copy(std::begin(nh->dst_mac), std::end(nh->dst_mac), mac.begin());
    path->set_mac(mac_to_string(mac));
    fp->offload().nexthops().for_each(
        [&](const NextHopKey& key, uint32_t index, const fpm_nexthop&, uint32_t) {
          if (index == choice.nexthop) path->set_gateway(key.gateway.to_string());
        });
    path->set_forwarded(nh->state == FPM_NH_VALID);
    if (nh->state == FPM_NH_UNRESOLVED)
      path->set_note("neighbour unresolved: XDP punts, the kernel resolves it");
    else if (nh->state == FPM_NH_FAILED)
      path->set_note("every member failed: XDP punts to the kernel");
  }
}

}  // namespace fpm_sink
