// Hold time after zebra's FPM session is lost, like BGP graceful restart's:
// the fast path keeps forwarding the session's routes for hold_time; if no
// new session has started replaying (sent at least one frame) by then, the
// routes are withheld from the fast path and punt to the kernel, which zebra
// flushes when it stops cleanly and keeps when it crashes. The next replay
// that settles (is swept) gives them back.
//
//   Running --lost--> Holding --hold_time, no replay--> Expired --settled--> Running
//                        \--hold_time, a replay runs / settled--> Running
//
// A session that connects but sends nothing does not stop the clock: only a
// replay in progress at expiry does. A hold time of zero holds forever.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string_view>

namespace fpm_sink {

enum class HoldState : uint8_t { Running, Holding, Expired };

std::string_view to_string(HoldState s);

struct SessionHoldStatus {
  HoldState state = HoldState::Running;
  std::chrono::seconds hold_time{0};  // 0 = forever
  int64_t expires_at = 0;             // unix seconds while Holding with a limit, else 0
  int64_t expired_at = 0;             // unix seconds of the last expiry, 0 if never
  uint64_t expiries = 0;
};

class SessionHold {
 public:
  // replaying: whether a session is replaying and has sent something.
  // withhold(true) punts the routes, withhold(false) reprograms them.
  SessionHold(boost::asio::io_context& io, std::chrono::milliseconds hold_time,
              std::function<bool()> replaying, std::function<void(bool)> withhold);
  SessionHold(const SessionHold&) = delete;
  SessionHold& operator=(const SessionHold&) = delete;

  // The session that fed the routes is gone (closed or replaced). A hold
  // already running keeps its deadline: reconnecting does not extend it.
  void session_lost();
  // A replay has been swept: the model is what zebra has now.
  void replay_settled();

  const SessionHoldStatus& status() const { return status_; }

 private:
  void on_expiry();

  std::chrono::milliseconds hold_time_;
  std::function<bool()> replaying_;
  std::function<void(bool)> withhold_;
  boost::asio::steady_timer timer_;
  SessionHoldStatus status_;
};

}  // namespace fpm_sink
