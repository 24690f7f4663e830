#include "app/session_hold.hpp"

#include <spdlog/spdlog.h>

namespace fpm_sink {
namespace {

int64_t unix_seconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

}  // namespace

std::string_view to_string(HoldState s) {
  switch (s) {
    case HoldState::Running:
      return "running";
    case HoldState::Holding:
      return "holding";
    case HoldState::Expired:
      return "expired";
  }
  return "?";
}

SessionHold::SessionHold(boost::asio::io_context& io, std::chrono::milliseconds hold_time,
                         std::function<bool()> replaying, std::function<void(bool)> withhold)
    : hold_time_(hold_time),
      replaying_(std::move(replaying)),
      withhold_(std::move(withhold)),
      timer_(io) {
  status_.hold_time = std::chrono::duration_cast<std::chrono::seconds>(hold_time);
}

void SessionHold::session_lost() {
  if (status_.state != HoldState::Running) return;
  status_.state = HoldState::Holding;
  if (hold_time_.count() == 0) {
    spdlog::info("fpm.hold.started hold_time=forever");
    return;
  }
  status_.expires_at = unix_seconds(std::chrono::system_clock::now() + hold_time_);
  spdlog::info("fpm.hold.started hold_time_ms={}", hold_time_.count());
  timer_.expires_after(hold_time_);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) on_expiry();
  });
}

void SessionHold::on_expiry() {
  if (status_.state != HoldState::Holding) return;
  status_.expires_at = 0;
  if (replaying_()) {
    // Its sweep will remove what zebra no longer has; until then the routes
    // it has not replayed yet keep forwarding, as during any replay.
    status_.state = HoldState::Running;
    spdlog::info("fpm.hold.ended reason=\"replay in progress\"");
    return;
  }
  status_.state = HoldState::Expired;
  status_.expired_at = unix_seconds(std::chrono::system_clock::now());
  ++status_.expiries;
  spdlog::warn("fpm.hold.expired no zebra session replayed in time: its routes punt to the kernel");
  withhold_(true);
}

void SessionHold::replay_settled() {
  timer_.cancel();
  status_.expires_at = 0;
  const bool was_expired = status_.state == HoldState::Expired;
  status_.state = HoldState::Running;
  if (was_expired) {
    spdlog::info("fpm.hold.ended reason=\"replay settled\": routes forward again");
    withhold_(false);
  }
}

}  // namespace fpm_sink
