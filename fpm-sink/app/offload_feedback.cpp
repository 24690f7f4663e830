#include "app/offload_feedback.hpp"

#include <linux/rtnetlink.h>
#include <spdlog/spdlog.h>

#include "fpm/netlink_builder.hpp"

namespace fpm_sink {

uint32_t offload_reply_flags(OffloadState s) {
  switch (s) {
    case OffloadState::Installed:
      return RTM_F_OFFLOAD;
    case OffloadState::Failed:
      return RTM_F_OFFLOAD_FAILED;
    case OffloadState::NotOffloaded:
      return RTM_F_OFFLOAD | RTM_F_TRAP;
  }
  return RTM_F_OFFLOAD_FAILED;
}

std::string_view reply_flags_name(uint32_t rtm_flags) {
  switch (rtm_flags) {
    case RTM_F_OFFLOAD:
      return "offload";
    case RTM_F_OFFLOAD_FAILED:
      return "offload_failed";
    case RTM_F_OFFLOAD | RTM_F_TRAP:
      return "offload,trap";
  }
  return "?";
}

OffloadFeedback::OffloadFeedback(const Rib& rib, FibOffload& fast_path,
                                 std::function<bool()> paused)
    : rib_(rib), offload_(fast_path), paused_(std::move(paused)) {
  offload_.set_offload_changes(true);
}

size_t OffloadFeedback::fill(std::vector<uint8_t>& out, size_t budget) {
  if (paused_ && paused_()) return 0;
  const size_t limit = out.size() + budget;
  size_t frames = 0;
  // A reply is about 60 bytes: take in slices so one call stays near budget.
  while (out.size() < limit) {
    const size_t slice = std::max<size_t>(1, (limit - out.size()) / 64);
    const size_t taken =
        offload_.take_offload_changes(slice, [&](const RouteKey& key, const RouteOffload& state) {
          const RibRoute* route = rib_.find_route(key.table, key.prefix);
          if (!route) {
            ++stats_.gone;
            return;
          }
          const RouteSpec& spec = route->spec;
          const OffloadReply reply{spec.table,  spec.prefix, spec.protocol,
                                   spec.metric, spec.type,   offload_reply_flags(state.state)};
          const size_t frame = begin_frame(out);
          Status st = append_route_offload_reply(out, reply);
          if (st) st = end_frame(out, frame);
          if (!st) {
            out.resize(frame);
            if (++stats_.encode_errors == 1) spdlog::error("{}", st.error().to_string());
            return;
          }
          ++frames;
          ++stats_.replies;
          switch (state.state) {
            case OffloadState::Installed:
              ++stats_.offloaded;
              break;
            case OffloadState::Failed:
              ++stats_.failed;
              break;
            case OffloadState::NotOffloaded:
              ++stats_.trapped;
              break;
          }
        });
    if (taken == 0) break;
  }
  return frames;
}

void OffloadFeedback::session_ended() {
  offload_.drop_offload_changes();
  ++stats_.sessions_dropped;
}

}  // namespace fpm_sink
