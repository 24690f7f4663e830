#include "app/log_limiter.hpp"

#include <algorithm>
#include <utility>

namespace fpm_sink {

bool LogLimiter::allow(Clock::time_point now) {
  if (last_ != Clock::time_point{}) {
    const std::chrono::duration<double> elapsed = now - last_;
    tokens_ = std::min(burst_, tokens_ + elapsed.count() * rate_);
  }
  last_ = now;
  if (tokens_ >= 1) {
    tokens_ -= 1;
    return true;
  }
  ++suppressed_;
  return false;
}

uint64_t LogLimiter::take_suppressed() {
  return std::exchange(suppressed_, 0);
}

}  // namespace fpm_sink
