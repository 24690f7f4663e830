#include "app/control_handler.hpp"

#include "app/fast_path_views.hpp"
#include "app/flow_path_view.hpp"
#include "app/kernel_views.hpp"
#include "app/offload_feedback.hpp"
#include "app/session_hold.hpp"
#include "control/rib_query.hpp"
#include "control/route_dump.hpp"
#include "control/server.hpp"

#include <ctime>
#include <optional>

namespace fpm_sink {
namespace {

// `show routes` as a reply stream: RouteDump slices over the live RIB, each
// part annotated with the fast path's offload state as it is built.
class RoutesStream : public control::ReplyStream {
 public:
  RoutesStream(control::RouteDump dump, const Rib& rib, const XdpDataplane* fp,
               std::optional<FlowKey> flow = std::nullopt)
      : dump_(std::move(dump)), rib_(rib), fp_(fp), flow_(flow) {}

  bool next(Clock::time_point deadline, control::Response* part) override {
    control::RoutesReply routes;
    const bool more = dump_.step(rib_, deadline, &routes);
    if (more && routes.routes_size() == 0) return true;  // still collecting: nothing to send
    if (fp_) annotate_offload(*fp_, &routes);
    name_interfaces(fp_, names_, &routes);
    if (flow_) annotate_flow_path(fp_, *flow_, &routes);
    part->mutable_routes()->Swap(&routes);
    return more;
  }

 private:
  control::RouteDump dump_;
  const Rib& rib_;
  const XdpDataplane* fp_;
  InterfaceNames names_;         // ifindex -> name, for this dump only
  std::optional<FlowKey> flow_;  // show routes ADDR from ...: the path of this flow
};

void fill_decode(const DecodeStats& s, control::DecodeCounters* out) {
  out->set_messages(s.messages);
  out->set_new_route(s.new_route);
  out->set_del_route(s.del_route);
  out->set_new_nexthop(s.new_nexthop);
  out->set_del_nexthop(s.del_nexthop);
  out->set_other_known(s.other_known);
  out->set_unknown_type(s.unknown_type);
  out->set_unknown_attr(s.unknown_attr);
  out->set_skipped_family(s.skipped_family);
  out->set_errors(s.errors);
}

void fill_rib(const RibStats& s, control::RibCounters* out) {
  out->set_routes_v4(s.routes_v4);
  out->set_routes_v6(s.routes_v6);
  out->set_groups(s.groups);
  out->set_inline_groups(s.inline_groups);
  out->set_pending_routes(s.pending_routes);
  out->set_pending_groups(s.pending_groups);
  out->set_stale_routes(s.stale_routes);
  out->set_stale_groups(s.stale_groups);
  out->set_route_adds(s.route_adds);
  out->set_route_dels(s.route_dels);
  out->set_group_adds(s.group_adds);
  out->set_group_dels(s.group_dels);
  out->set_unknown_deletes(s.unknown_deletes);
  out->set_swept_routes(s.swept_routes);
  out->set_swept_groups(s.swept_groups);
  out->set_refused_routes(s.refused_routes);
  out->set_refused_groups(s.refused_groups);
}

control::ReplayState to_proto(ReplayState s) {
  switch (s) {
    case ReplayState::Replaying:
      return control::REPLAY_STATE_REPLAYING;
    case ReplayState::Settled:
      return control::REPLAY_STATE_SETTLED;
    case ReplayState::Idle:
      break;
  }
  return control::REPLAY_STATE_IDLE;
}

}  // namespace

control::HoldState to_proto(HoldState s) {
  switch (s) {
    case HoldState::Running:
      return control::HOLD_STATE_RUNNING;
    case HoldState::Holding:
      return control::HOLD_STATE_HOLDING;
    case HoldState::Expired:
      return control::HOLD_STATE_EXPIRED;
  }
  return control::HOLD_STATE_UNSPECIFIED;
}

void fill_hold(const SessionHoldStatus& s, control::SessionHold* out) {
  out->set_state(to_proto(s.state));
  out->set_hold_time_seconds(static_cast<uint64_t>(s.hold_time.count()));
  out->set_expires_at(static_cast<uint64_t>(s.expires_at));
  out->set_expired_at(static_cast<uint64_t>(s.expired_at));
  out->set_expiries(s.expiries);
}

control::FpmReply fpm_reply(const Rib& rib, const FpmServer& fpm) {
  const auto& st = fpm.status();
  const auto& in = fpm.ingest_stats();
  const auto& rs = rib.stats();
  control::FpmReply r;
  r.set_listen_address(st.listen);
  r.set_session_state(st.connected ? control::SESSION_STATE_CONNECTED
                                   : control::SESSION_STATE_LISTENING);
  r.set_peer_address(st.peer);
  r.set_connected_since(static_cast<uint64_t>(st.connected_since));
  r.set_frames(in.frames);
  r.set_bytes(in.bytes);
  r.set_netlink_frames(in.netlink_frames);
  r.set_protobuf_frames(in.protobuf_frames);
  fill_decode(in.decode, r.mutable_decode());
  r.set_decode_errors(in.decode_errors);
  r.set_incomplete_frames(in.incomplete_frames);
  r.set_framing_errors(in.framing_errors);
  r.set_apply_errors(in.apply_errors);
  r.set_last_error(in.last_error);
  r.set_pending_routes(rs.pending_routes);
  r.set_pending_groups(rs.pending_groups);
  r.set_replay_state(to_proto(st.replay));
  r.set_sweep_delay_seconds(std::chrono::duration<double>(fpm.sweep_delay()).count());
  r.set_stale_routes(rs.stale_routes);
  r.set_stale_groups(rs.stale_groups);
  r.set_swept_routes(rs.swept_routes);
  r.set_swept_groups(rs.swept_groups);
  r.set_last_sweep(st.last_sweep);
  r.set_sessions_accepted(st.sessions_accepted);
  r.set_sessions_replaced(st.sessions_replaced);
  r.set_peers_refused(st.peers_refused);
  fill_rib(rs, r.mutable_rib());
  if (const SessionHold* hold = fpm.hold()) fill_hold(hold->status(), r.mutable_hold());
  if (const OffloadFeedback* fb = fpm.feedback()) {
    const OffloadFeedbackStats& s = fb->stats();
    auto* out = r.mutable_feedback();
    out->set_replies(s.replies);
    out->set_offloaded(s.offloaded);
    out->set_failed(s.failed);
    out->set_trapped(s.trapped);
    out->set_gone(s.gone);
    out->set_queued(fb->queued());
    out->set_sessions_dropped(s.sessions_dropped);
    out->set_encode_errors(s.encode_errors);
  }
  return r;
}

control::Reply handle_control_request(const control::Request& req, const Rib& rib,
                                      const FpmServer& fpm, const XdpDataplane* fp) {
  control::Response resp;
  switch (req.kind_case()) {
    case control::Request::kShowRoutes: {
      std::optional<FlowKey> flow;
      if (req.show_routes().has_flow()) {
        auto key = flow_key(req.show_routes().prefix(), req.show_routes().flow());
        if (!key) return control::error_response(key.error().id, key.error().message);
        flow = *key;
      }
      auto dump = control::RouteDump::start(req.show_routes());
      if (!dump) return control::error_response(dump.error().id, dump.error().message);
      return std::make_unique<RoutesStream>(std::move(*dump), rib, fp, flow);
    }
    case control::Request::kShowCounters: {
      auto st = fill_counters(fp, resp.mutable_counters());
      if (!st) return control::error_response(st.error().id, st.error().message);
      if (fp) fp->counter_baseline().apply(resp.mutable_counters(), fp->counter_slots());
      return resp;
    }
    case control::Request::kClearCounters: {
      if (!fp)
        return control::error_response("control.no_fast_path",
                                       "fpm-sink runs without --interface: no counters to clear");
      control::CountersReply now;
      auto st = fill_counters(fp, &now);
      if (!st) return control::error_response(st.error().id, st.error().message);
      const std::time_t at = std::time(nullptr);
      fp->counter_baseline().set(now, fp->counter_slots(), at);
      resp.mutable_cleared()->set_cleared_at(static_cast<uint64_t>(at));
      return resp;
    }
    case control::Request::kShowNeighbors:
      fill_neighbors(fp, resp.mutable_neighbors());
      return resp;
    case control::Request::kShowInterfaces: {
      auto st = fill_interfaces(fp, resp.mutable_interfaces());
      if (!st) return control::error_response(st.error().id, st.error().message);
      return resp;
    }
    case control::Request::kShowNexthops:
      fill_nexthops(fp, resp.mutable_nexthops());
      return resp;
    case control::Request::kShowNexthopGroups:
      control::query_groups(rib, resp.mutable_nexthop_groups());
      name_interfaces(fp, resp.mutable_nexthop_groups());
      return resp;
    case control::Request::kShowFpm:
      *resp.mutable_fpm() = fpm_reply(rib, fpm);
      return resp;
    default:
      return control::error_response(
          "control.request.unknown",
          "request kind " + std::to_string(req.kind_case()) + " is not supported by this fpm-sink");
  }
}

}  // namespace fpm_sink
