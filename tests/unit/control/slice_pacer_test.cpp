#include "control/slice_pacer.hpp"

#include <gtest/gtest.h>

namespace fpm_sink::control {
namespace {

using namespace std::chrono_literals;
using std::chrono::microseconds;

TEST(SlicePacer, IdleLoopGetsLongSlicesBusyLoopItsShare) {
  PacerConfig c;
  c.share = 0.1;
  c.min_slice = 20us;
  c.max_slice = 2000us;
  c.idle_wait = 20us;
  // Nothing else ran: the longest slice.
  EXPECT_EQ(slice_length(0us, c), microseconds(2000));
  EXPECT_EQ(slice_length(19us, c), microseconds(2000));
  // Ingest took 9 ms before the dump's turn came: the dump gets 1 ms, 10 %.
  const double busy_us = std::chrono::duration<double, std::micro>(slice_length(9000us, c)).count();
  EXPECT_NEAR(busy_us, 1000, 1);
  // Bounded on both sides.
  EXPECT_EQ(slice_length(100us, c), microseconds(20));
  EXPECT_EQ(slice_length(1s, c), microseconds(2000));
}

}  // namespace
}  // namespace fpm_sink::control
