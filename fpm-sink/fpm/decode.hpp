// Decoders are pure functions over one frame body: bytes in, events + errors out.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/events.hpp"

namespace fpm_sink {

struct DecodeError {
  std::string id;      // stable id, e.g. "fpm.nl.attr_overrun", "fpm.nl.bad_prefixlen"
  std::string reason;  // human readable, names the attribute / value at fault
  size_t offset = 0;   // byte offset inside the frame body
};

// Counters kept across a session (and summed into `show fpm`).
struct DecodeStats {
  uint64_t messages = 0;  // netlink messages (or protobuf messages) seen
  uint64_t new_route = 0, del_route = 0, new_nexthop = 0, del_nexthop = 0;
  uint64_t other_known = 0;     // e.g. RTM_NEWNEIGH, NLMSG_NOOP/DONE: skipped on purpose
  uint64_t unknown_type = 0;    // message types we do not know
  uint64_t unknown_attr = 0;    // attributes skipped because unknown
  uint64_t skipped_family = 0;  // AF_MPLS etc., not handled by the fast path
  uint64_t errors = 0;          // messages rejected (each also yields a DecodeError)
};

struct DecodedFrame {
  std::vector<FpmEvent> events;
  std::vector<DecodeError> errors;
  // False if the frame's netlink structure was broken (nlmsg_len overrun): the rest of
  // this frame was skipped. The FPM framing is still intact, so the session can go on.
  bool complete = true;
};

// Walks every netlink message in one FPM frame body (type 1).
DecodedFrame decode_netlink(std::span<const uint8_t> body, DecodeStats& stats);
// Same, reusing `out` (cleared first) so a session loop keeps its vectors' capacity.
void decode_netlink(std::span<const uint8_t> body, DecodeStats& stats, DecodedFrame& out);

}  // namespace fpm_sink
