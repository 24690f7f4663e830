#include "control/slice_pacer.hpp"

#include <algorithm>

namespace fpm_sink::control {

std::chrono::steady_clock::duration slice_length(std::chrono::steady_clock::duration waited,
                                                 const PacerConfig& config) {
  using Duration = std::chrono::steady_clock::duration;
  if (waited < config.idle_wait) return config.max_slice;
  const double fair =
      std::chrono::duration<double>(waited).count() * config.share / (1.0 - config.share);
  const auto wanted = std::chrono::duration_cast<Duration>(std::chrono::duration<double>(fair));
  return std::clamp<Duration>(wanted, config.min_slice, config.max_slice);
}

}  // namespace fpm_sink::control
