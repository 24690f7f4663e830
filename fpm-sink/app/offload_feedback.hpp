// Offload replies: tells zebra, route by route, what the fast path does with
// what it sent. FRR 8.5-10.2 and 10.4+ read them (8.4 ignores them, 10.3
// cannot match them); with `zebra --asic-offload=notify_on_offload` zebra then
// tells route owners a route is installed only once the reply says so, which
// is what `bgp suppress-fib-pending` waits for.
//
//   fast path state   rtm_flags                   vtysh
//   Installed         RTM_F_OFFLOAD               "offloaded": true
//   Failed            RTM_F_OFFLOAD_FAILED        code 'o', "offloaded": false
//   NotOffloaded      RTM_F_OFFLOAD | RTM_F_TRAP  code 't', "trapped": true
//
// NotOffloaded routes (connected, other tables, unreachable, ...) are punted to
// the kernel on purpose, and the kernel forwards them: RTM_F_TRAP says so, and
// RTM_F_OFFLOAD keeps zebra telling owners they are installed, so BGP goes on
// advertising them. A Failed route is punted too, but because it did not fit.
// zebra never clears RTM_F_TRAP on a route entry once set, so a route punted
// only until it settles (waiting for its group, withheld after the hold) gets
// no reply until it does.
//
// Which routes and when: FibOffload queues each route zebra sends (changed or
// not) and each route whose state changes without zebra (space frees, a retry
// succeeds, the hold expires), once until taken (dataplane/offload_changes.hpp).
// fill() reads the state at that moment, so a burst of changes to one route
// costs one reply. The queue is dropped when the session ends: the next
// session's replay queues every route again.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "dataplane/fib_offload.hpp"
#include "rib/rib.hpp"

namespace fpm_sink {

// rtm_flags of the reply for a route in state `s` (table above).
uint32_t offload_reply_flags(OffloadState s);
// "offload", "offload_failed", "offload,trap" (the flags above; fpm-sinkctl).
std::string_view reply_flags_name(uint32_t rtm_flags);

struct OffloadFeedbackStats {
  uint64_t replies = 0;                             // frames handed to the session
  uint64_t offloaded = 0, failed = 0, trapped = 0;  // by state sent
  uint64_t gone = 0;  // queued routes the RIB no longer holds: no reply
  uint64_t encode_errors = 0;
  uint64_t sessions_dropped = 0;  // queues dropped with their session
};

class OffloadFeedback {
 public:
  // `paused` true: hold replies back (a warm restart stages tables that do not
  // forward yet; what is queued goes out once they are published).
  OffloadFeedback(const Rib& rib, FibOffload& fast_path, std::function<bool()> paused);

  // Appends one FPM frame per reply, for queued routes, until `out` grows by
  // about `budget` bytes. Returns the frames appended.
  size_t fill(std::vector<uint8_t>& out, size_t budget);
  bool pending() const { return queued() != 0; }
  size_t queued() const { return offload_.offload_changes_queued(); }
  // The session ended: what is queued is dropped (see the header comment).
  void session_ended();
  const OffloadFeedbackStats& stats() const { return stats_; }

 private:
  const Rib& rib_;
  FibOffload& offload_;
  std::function<bool()> paused_;
  OffloadFeedbackStats stats_;
};

}  // namespace fpm_sink
