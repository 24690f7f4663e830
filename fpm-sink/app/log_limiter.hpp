// Token bucket for log lines driven by the peer: a flood of bad messages must
// not fill the disk, but the first ones and a steady trickle stay visible.
#pragma once

#include <chrono>
#include <cstdint>

namespace fpm_sink {

class LogLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  explicit LogLimiter(double lines_per_second = 10, double burst = 50)
      : rate_(lines_per_second), burst_(burst), tokens_(burst) {}

  // True if one more line may be written now. Lines refused are counted;
  // take_suppressed() reports them once logging is allowed again.
  bool allow(Clock::time_point now = Clock::now());
  uint64_t take_suppressed();

 private:
  double rate_;
  double burst_;
  double tokens_;
  Clock::time_point last_{};
  uint64_t suppressed_ = 0;
};

}  // namespace fpm_sink
