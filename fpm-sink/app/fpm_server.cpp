#include "app/fpm_server.hpp"

#include <spdlog/spdlog.h>

#include "app/fpm_session.hpp"
#include "app/offload_feedback.hpp"
#include "app/session_hold.hpp"

namespace fpm_sink {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

FpmServer::FpmServer(asio::io_context& io, Rib& rib, std::chrono::milliseconds sweep_delay)
    : io_(io),
      rib_(rib),
      sweep_delay_(sweep_delay),
      acceptor_(io),
      sweep_timer_(io),
      feedback_timer_(io) {}

namespace {
// Changes zebra did not cause (retries once space frees, a warm restart's
// commit) reach it within this.
constexpr std::chrono::milliseconds kFeedbackInterval{100};
}  // namespace

FpmServer::~FpmServer() {
  stop();
}

Status FpmServer::listen(const ListenEndpoint& endpoint) {
  boost::system::error_code ec;
  const auto addr = asio::ip::make_address(endpoint.address, ec);
  const tcp::endpoint ep(addr, endpoint.port);
  if (!ec) acceptor_.open(ep.protocol(), ec);
  // zebra reconnects right after we restart; TIME_WAIT must not block the bind.
  if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    return Error{"app.fpm.listen", endpoint.to_string() + ": " + ec.message(), ec.value()};
  }
  status_.listen = endpoint_text(acceptor_.local_endpoint());
  spdlog::info("fpm.listening address={}", status_.listen);
  accept_next();
  if (feedback_) arm_feedback();
  return ok_status();
}

uint16_t FpmServer::port() const {
  boost::system::error_code ec;
  const auto ep = acceptor_.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

void FpmServer::stop() {
  boost::system::error_code ec;
  acceptor_.close(ec);
  sweep_timer_.cancel();
  feedback_timer_.cancel();
  if (session_) {
    session_->close();
    session_.reset();
    drop_feedback();
  }
  status_.connected = false;
}

void FpmServer::accept_next() {
  acceptor_.async_accept([this](const boost::system::error_code& ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
    if (ec) {
      spdlog::warn("fpm.accept.failed error=\"{}\"", ec.message());
    } else {
      if (admit(socket)) on_accept(std::move(socket));
    }
    accept_next();
  });
}

void FpmServer::on_accept(tcp::socket socket) {
  boost::system::error_code ec;
  socket.set_option(tcp::no_delay(true), ec);  // replies (FRR >= 8.5) must not wait
  auto session =
      std::make_shared<FpmSession>(std::move(socket), *this, Ingest(rib_, stats_, limiter_));
  if (session_) {
    // zebra only connects again if it thinks the old session is dead; trust the newcomer.
    spdlog::warn("fpm.session.replaced old_peer={} new_peer={}", session_->peer(), session->peer());
    session_->close();
    drop_feedback();
    ++status_.sessions_replaced;
    // The newcomer must replay before the hold is over, like any new session.
    if (hold_) hold_->session_lost();
  }
  session_ = session;
  ++status_.sessions_accepted;
  status_.connected = true;
  status_.peer = session->peer();
  status_.connected_since = std::chrono::duration_cast<std::chrono::seconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count();
  spdlog::info("fpm.session.accepted peer={}", session->peer());

  // zebra replays everything now, with no end marker: mark, then sweep on quiet.
  frames_at_accept_ = stats_.frames;
  rib_.begin_replay();
  status_.replay = ReplayState::Replaying;
  on_activity();
  arm_sweep(last_activity_ + sweep_delay_);
  session->start();
}

bool FpmServer::admit(tcp::socket& socket) {
  if (!refused(check_peer(peer_policy_, socket), socket)) return true;
  boost::system::error_code ignored;
  socket.close(ignored);
  return false;
}

bool FpmServer::refused(const PeerCheck& check, const tcp::socket& socket) {
  if (check.verdict == PeerVerdict::Allowed) return false;
  ++status_.peers_refused;
  if (refusal_limiter_.allow()) {
    boost::system::error_code ec;
    spdlog::warn("fpm.peer.refused peer={} reason={} {} suppressed={}",
                 endpoint_text(socket.remote_endpoint(ec)), peer_verdict_name(check.verdict),
                 check.detail, refusal_limiter_.take_suppressed());
  }
  return true;
}

void FpmServer::set_peer_policy(PeerPolicy policy) {
  peer_policy_ = std::move(policy);
  // A peer the new policy refuses must not go on changing the FIB: end its
  // session as if it had closed (routes held, the hold starts).
  const std::shared_ptr<FpmSession> live = session_;
  if (live && refused(check_peer(peer_policy_, live->socket()), live->socket()))
    on_session_end(*live, "peer no longer allowed");
}

void FpmServer::on_session_end(FpmSession& session, const std::string& reason) {
  if (&session != session_.get()) return;
  spdlog::info("fpm.session.closed peer={} reason=\"{}\"", session.peer(), reason);
  session.close();
  session_.reset();
  drop_feedback();
  status_.connected = false;
  if (status_.replay == ReplayState::Replaying) {
    // A half-finished replay says nothing about what zebra no longer has:
    // keep everything and let the next session's replay decide.
    sweep_timer_.cancel();
    status_.replay = ReplayState::Idle;
    spdlog::info("fpm.replay.abandoned");
  }
  if (hold_) hold_->session_lost();
}

void FpmServer::arm_sweep(std::chrono::steady_clock::time_point due) {
  sweep_timer_.expires_at(due);
  sweep_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec == asio::error::operation_aborted) return;
    on_sweep_timer();
  });
}

void FpmServer::on_sweep_timer() {
  if (status_.replay != ReplayState::Replaying) return;
  // Activity only moves last_activity_; the timer follows it lazily instead of
  // being re-armed for every frame.
  const auto due = last_activity_ + sweep_delay_;
  if (std::chrono::steady_clock::now() < due) {
    arm_sweep(due);
    return;
  }
  if (stats_.frames == frames_at_accept_) {
    // A session that sent nothing has replayed nothing: sweeping now would
    // delete every route. Keep them (the hold decides how long they forward)
    // and look again once the session has spoken.
    arm_sweep(due + sweep_delay_);
    return;
  }
  const auto before = rib_.stats();
  const size_t removed = rib_.sweep_stale();
  const auto& after = rib_.stats();
  status_.last_sweep = removed;
  status_.replay = ReplayState::Settled;
  if (hold_) hold_->replay_settled();
  spdlog::info("fpm.replay.swept removed={} routes={} groups={}", removed,
               after.swept_routes - before.swept_routes, after.swept_groups - before.swept_groups);
}

void FpmServer::arm_feedback() {
  feedback_timer_.expires_after(kFeedbackInterval);
  feedback_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec == asio::error::operation_aborted) return;
    if (session_) session_->write_replies();
    arm_feedback();
  });
}

void FpmServer::drop_feedback() {
  if (feedback_) feedback_->session_ended();
}

}  // namespace fpm_sink
