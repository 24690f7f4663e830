// The FPM TCP server: zebra connects as the client; at most one session is
// live and a new connection replaces the old one. Each (re)connect starts a
// replay: everything is marked stale and swept once the stream has been quiet
// for sweep_delay. A disconnect keeps all state (zebra replays on return).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "app/ingest.hpp"
#include "app/log_limiter.hpp"
#include "app/options.hpp"
#include "app/peer_policy.hpp"
#include "common/result.hpp"
#include "rib/rib.hpp"

namespace fpm_sink {

enum class ReplayState : uint8_t { Idle, Replaying, Settled };

struct FpmSessionStatus {
  std::string listen;
  bool connected = false;
  std::string peer;             // "127.0.0.1:40312" of the current/last session
  int64_t connected_since = 0;  // unix seconds of the last accept, 0 if never
  uint64_t sessions_accepted = 0, sessions_replaced = 0;
  uint64_t peers_refused = 0;  // connections closed by the peer policy (app/peer_policy.hpp)
  ReplayState replay = ReplayState::Idle;
  uint64_t last_sweep = 0;  // routes + groups removed by the last sweep
};

class FpmSession;
class OffloadFeedback;
class SessionHold;

class FpmServer {
 public:
  FpmServer(boost::asio::io_context& io, Rib& rib, std::chrono::milliseconds sweep_delay);
  ~FpmServer();
  FpmServer(const FpmServer&) = delete;
  FpmServer& operator=(const FpmServer&) = delete;

  // Binds and starts accepting. Port 0 picks an ephemeral port (see port()).
  // Error: app.fpm.listen.
  Status listen(const ListenEndpoint& endpoint);
  uint16_t port() const;
  // Who may open a session; checked on accept, before a newcomer may replace
  // the live session, and against the live session when it changes (a reload
  // that removes its peer ends it). Default: root only.
  void set_peer_policy(PeerPolicy policy);
  // Closes the acceptor and the session, cancels the sweep. State is kept.
  void stop();

  // The hold is told when the session feeding the routes is lost and when a
  // replay settles. Set before listen(); nullptr: no hold.
  void set_hold(SessionHold* hold) { hold_ = hold; }
  const SessionHold* hold() const { return hold_; }
  // Offload replies to the live session: written after each read and every
  // feedback_interval (for changes zebra did not cause). Set before listen();
  // nullptr: no replies.
  void set_feedback(OffloadFeedback* feedback) { feedback_ = feedback; }
  const OffloadFeedback* feedback() const { return feedback_; }
  // A session is replaying and has sent at least one frame.
  bool replay_started() const {
    return status_.replay == ReplayState::Replaying && stats_.frames > frames_at_accept_;
  }

  const FpmSessionStatus& status() const { return status_; }
  const IngestStats& ingest_stats() const { return stats_; }
  std::chrono::milliseconds sweep_delay() const { return sweep_delay_; }
  // zebra's replay is complete as far as can be told: swept, or a session is
  // replaying, has sent something, and nothing has arrived for `quiet` (zebra
  // sends its table in one burst and has no end marker).
  bool replay_caught_up(std::chrono::milliseconds quiet) const {
    if (status_.replay == ReplayState::Settled) return true;
    return replay_started() && std::chrono::steady_clock::now() - last_activity_ >= quiet;
  }

 private:
  friend class FpmSession;

  void accept_next();
  void on_accept(boost::asio::ip::tcp::socket socket);
  // False (and the socket closed, counted, logged) if the policy refuses the peer.
  bool admit(boost::asio::ip::tcp::socket& socket);
  // The refusal's log line and counter; false if `check` allows.
  bool refused(const PeerCheck& check, const boost::asio::ip::tcp::socket& socket);
  // Called by the live session only.
  void on_activity() { last_activity_ = std::chrono::steady_clock::now(); }
  void on_session_end(FpmSession& session, const std::string& reason);
  void arm_sweep(std::chrono::steady_clock::time_point due);
  void on_sweep_timer();
  void arm_feedback();
  // The session is gone: its queued replies go too (its successor replays).
  void drop_feedback();

  boost::asio::io_context& io_;
  Rib& rib_;
  std::chrono::milliseconds sweep_delay_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer sweep_timer_;
  boost::asio::steady_timer feedback_timer_;
  OffloadFeedback* feedback_ = nullptr;
  std::shared_ptr<FpmSession> session_;
  SessionHold* hold_ = nullptr;
  std::chrono::steady_clock::time_point last_activity_{};
  uint64_t frames_at_accept_ = 0;  // stats_.frames when the current session began
  FpmSessionStatus status_;
  IngestStats stats_;
  LogLimiter limiter_;
  PeerPolicy peer_policy_;
  LogLimiter refusal_limiter_;  // refused peers must not flood the log either
};

}  // namespace fpm_sink
