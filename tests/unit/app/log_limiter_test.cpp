#include <gtest/gtest.h>

#include "app/log_limiter.hpp"

namespace fpm_sink {
namespace {

TEST(LogLimiter, BurstThenRateAndCountsSuppressed) {
  LogLimiter lim(/*lines_per_second=*/10, /*burst=*/3);
  const auto t0 = LogLimiter::Clock::now();
  EXPECT_TRUE(lim.allow(t0));
  EXPECT_TRUE(lim.allow(t0));
  EXPECT_TRUE(lim.allow(t0));
  for (int i = 0; i < 1000; ++i) EXPECT_FALSE(lim.allow(t0));
  EXPECT_EQ(lim.take_suppressed(), 1000u);
  EXPECT_EQ(lim.take_suppressed(), 0u);
  // 100 ms at 10 lines/s earns one line.
  EXPECT_TRUE(lim.allow(t0 + std::chrono::milliseconds(100)));
  EXPECT_FALSE(lim.allow(t0 + std::chrono::milliseconds(100)));
}

}  // namespace
}  // namespace fpm_sink
