// A route's offload state as FibOffload keeps it: in the 16 observer bits of
// the RIB's own route entry (rib_events.hpp), so the fast path keeps no
// per-route store of its own. What else it needs of a route (type, group) is
// in the RouteView, and the action its table holds follows from both
// (FibOffload::held_action).
//
//   bits 0-1  state + 1 (0: not programmed yet)
//   bits 2-5  reason
//   bit  6    an offload reply is queued (OffloadChanges)
//   bits 7-8  the state zebra was last told + 1 (0: nothing told)
#pragma once

#include <cstdint>
#include <optional>

#include "rib/rib_events.hpp"

namespace fpm_sink {

enum class OffloadState : uint8_t {
  Installed,     // the fast path handles the prefix (forward or drop)
  Failed,        // should be offloaded but is not (capacity, write error): punted
  NotOffloaded,  // by design the kernel handles it (see the reason)
};

enum class OffloadReason : uint8_t {
  None,
  LpmFull,          // LPM table out of space (tbl8 groups / v6 nodes)
  GroupFull,        // no free group index
  NextHopFull,      // no free next-hop index
  WriteError,       // a map write failed
  UnknownGroup,     // the RIB pointed at a group we never saw (should not happen)
  NoTableSlot,      // a table besides main, and every VRF table slot is taken
  KernelRouteType,  // unreachable / prohibit / local / other: punted, kernel answers
  Connected,        // on-link next hop without gateway: the kernel resolves each host
  PendingGroup,     // the RIB still waits for the route's next-hop group: punted
  HoldExpired,      // zebra's session dropped and the hold time ran out: punted
  RouteLimit,       // the RIB refused routes (--max-routes): none is trusted, all punt
  Last = RouteLimit,
};

class RouteState {
 public:
  explicit RouteState(ObserverBits& bits) : bits_(bits) {}

  bool programmed() const { return (bits_ & kStateMask) != 0; }
  OffloadState state() const { return static_cast<OffloadState>((bits_ & kStateMask) - 1); }
  OffloadReason reason() const {
    return static_cast<OffloadReason>((bits_ & kReasonMask) >> kReasonShift);
  }
  void set(OffloadState s, OffloadReason r) {
    bits_ = static_cast<ObserverBits>((bits_ & ~(kStateMask | kReasonMask)) |
                                      (static_cast<unsigned>(s) + 1) |
                                      static_cast<unsigned>(r) << kReasonShift);
  }

  bool reply_due() const { return bits_ & kReplyDue; }
  void set_reply_due(bool due) {
    bits_ = static_cast<ObserverBits>(due ? bits_ | kReplyDue : bits_ & ~kReplyDue);
  }
  std::optional<OffloadState> told() const {
    const unsigned t = (bits_ & kToldMask) >> kToldShift;
    if (t == 0) return std::nullopt;
    return static_cast<OffloadState>(t - 1);
  }
  void set_told(std::optional<OffloadState> s) {
    const unsigned t = s ? static_cast<unsigned>(*s) + 1 : 0;
    bits_ = static_cast<ObserverBits>((bits_ & ~kToldMask) | t << kToldShift);
  }

 private:
  static constexpr unsigned kStateMask = 0x3;
  static constexpr unsigned kReasonShift = 2;
  static constexpr unsigned kReasonMask = 0xf << kReasonShift;
  static constexpr unsigned kReplyDue = 0x40;
  static constexpr unsigned kToldShift = 7;
  static constexpr unsigned kToldMask = 0x3 << kToldShift;
  static_assert(static_cast<unsigned>(OffloadState::NotOffloaded) + 1 <= 3);
  static_assert(static_cast<unsigned>(OffloadReason::Last) < 16);

  ObserverBits& bits_;
};

}  // namespace fpm_sink
