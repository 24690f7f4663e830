#include "dataplane/index_allocator.hpp"

#include <gtest/gtest.h>

namespace fpm_sink {
namespace {

using namespace std::chrono_literals;

struct FakeClock {
  std::chrono::steady_clock::time_point now{};
  SteadyClock fn() {
    return [this] { return now; };
  }
};

TEST(IndexAllocator, DenseFromFirst) {
  FakeClock clock;
  IndexAllocator a(0, 4, 1s, clock.fn());
  EXPECT_EQ(a.allocate(), 0u);
  EXPECT_EQ(a.allocate(), 1u);
  EXPECT_EQ(a.allocate(), 2u);
  EXPECT_EQ(a.allocate(), 3u);
  EXPECT_EQ(a.allocate(), std::nullopt);
  EXPECT_EQ(a.in_use(), 4u);
}

TEST(IndexAllocator, HeldIndicesAreSkippedUntilReleasedAndThenQuarantined) {
  FakeClock clock;
  IndexAllocator a(1, 6, 1s, clock.fn());
  const uint32_t held[] = {2, 4, 4, 0, 9};  // duplicates and out-of-range ignored
  a.hold(held);
  EXPECT_EQ(a.held(), 2u);
  EXPECT_EQ(a.in_use(), 2u);
  EXPECT_EQ(a.allocate(), 1u);
  EXPECT_EQ(a.allocate(), 3u);
  EXPECT_EQ(a.allocate(), 5u);
  EXPECT_EQ(a.allocate(), std::nullopt);  // 2 and 4 still belong to the old tables
  a.release_held();
  EXPECT_EQ(a.held(), 0u);
  EXPECT_EQ(a.quarantined(), 2u);
  EXPECT_EQ(a.allocate(), std::nullopt);  // a reader may still be in them
  clock.now += 1s;
  const auto x = a.allocate(), y = a.allocate();
  ASSERT_TRUE(x && y);
  EXPECT_EQ(std::min(*x, *y), 2u);
  EXPECT_EQ(std::max(*x, *y), 4u);
}

// A claimed index is its new owner's: release_held() leaves it, release() quarantines it.
TEST(IndexAllocator, AClaimedHeldIndexStaysInUse) {
  FakeClock clock;
  IndexAllocator a(0, 3, 1s, clock.fn());
  const uint32_t held[] = {0, 2};
  a.hold(held);
  EXPECT_TRUE(a.claim_held(2));
  EXPECT_FALSE(a.claim_held(2));
  EXPECT_FALSE(a.claim_held(1));
  EXPECT_EQ(a.held(), 1u);
  a.release_held();
  EXPECT_EQ(a.in_use(), 1u);
  EXPECT_EQ(a.allocate(), 1u);
  clock.now += 1s;
  EXPECT_EQ(a.allocate(), 0u);
  EXPECT_EQ(a.allocate(), std::nullopt);  // 2 is still claimed
  a.release(2);
  clock.now += 1s;
  EXPECT_EQ(a.allocate(), 2u);
}

TEST(IndexAllocator, HoldAfterAllocationIsIgnored) {
  FakeClock clock;
  IndexAllocator a(0, 4, 1s, clock.fn());
  ASSERT_EQ(a.allocate(), 0u);
  const uint32_t held[] = {1};
  a.hold(held);
  EXPECT_EQ(a.held(), 0u);
  EXPECT_EQ(a.allocate(), 1u);
}

TEST(IndexAllocator, FreedIndexWaitsForGrace) {
  FakeClock clock;
  IndexAllocator a(0, 2, 1s, clock.fn());
  ASSERT_EQ(a.allocate(), 0u);
  ASSERT_EQ(a.allocate(), 1u);
  a.release(0);
  EXPECT_EQ(a.quarantined(), 1u);
  EXPECT_EQ(a.in_grace(), 1u);
  // XDP may still read slot 0: it must not name a new object yet.
  EXPECT_EQ(a.allocate(), std::nullopt);
  clock.now += 999ms;
  EXPECT_EQ(a.allocate(), std::nullopt);
  clock.now += 1ms;
  // Past the grace period it waits only for the next allocate() to reclaim it.
  EXPECT_EQ(a.quarantined(), 1u);
  EXPECT_EQ(a.in_grace(), 0u);
  EXPECT_EQ(a.allocate(), 0u);
  EXPECT_EQ(a.quarantined(), 0u);
}

TEST(IndexAllocator, FreshIndicesBeforeRecycledOnes) {
  FakeClock clock;
  IndexAllocator a(1, 10, 0s, clock.fn());
  ASSERT_EQ(a.allocate(), 1u);
  a.release(1);
  EXPECT_EQ(a.allocate(), 2u);
}

TEST(IndexAllocator, QuarantineIsFifo) {
  FakeClock clock;
  IndexAllocator a(0, 3, 10ms, clock.fn());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(a.allocate());
  a.release(2);
  clock.now += 5ms;
  a.release(0);
  EXPECT_EQ(a.next_release(), std::chrono::steady_clock::time_point{} + 10ms);
  clock.now += 5ms;
  EXPECT_EQ(a.allocate(), 2u);
  EXPECT_EQ(a.allocate(), std::nullopt);
  clock.now += 5ms;
  EXPECT_EQ(a.allocate(), 0u);
}

}  // namespace
}  // namespace fpm_sink
