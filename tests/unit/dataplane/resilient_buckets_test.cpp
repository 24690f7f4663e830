#include "dataplane/resilient_buckets.hpp"

#include <gtest/gtest.h>

#include <map>

namespace fpm_sink {
namespace {

std::map<uint32_t, uint32_t> histogram(const std::vector<uint32_t>& buckets) {
  std::map<uint32_t, uint32_t> h;
  for (uint32_t b : buckets) ++h[b];
  return h;
}

std::vector<uint32_t> fresh(size_t n) {
  return std::vector<uint32_t>(n, kNoMember);
}

TEST(ResilientBuckets, EqualWeightsSplitEvenly) {
  auto b = fresh(256);
  std::vector<BucketMember> m{{10, 1}, {11, 1}, {12, 1}, {13, 1}};
  auto changed = rebalance_buckets(b, m);
  EXPECT_EQ(changed.size(), 256u);
  for (auto [key, n] : histogram(b)) EXPECT_EQ(n, 64u) << key;
}

TEST(ResilientBuckets, WeightsHonouredWithinOneBucket) {
  auto b = fresh(256);
  std::vector<BucketMember> m{{1, 1}, {2, 3}, {3, 7}, {4, 200}};
  (void)rebalance_buckets(b, m);
  auto h = histogram(b);
  const double total = 211;
  for (const auto& x : m) {
    const double exact = 256.0 * x.weight / total;
    EXPECT_NEAR(h[x.key], exact, 1.0) << x.key;
    EXPECT_GE(h[x.key], 1u);
  }
}

TEST(ResilientBuckets, TinyWeightStillGetsABucket) {
  auto b = fresh(256);
  std::vector<BucketMember> m{{1, 1}, {2, 10000}};
  (void)rebalance_buckets(b, m);
  EXPECT_EQ(histogram(b)[1], 1u);
  EXPECT_EQ(histogram(b)[2], 255u);
}

TEST(ResilientBuckets, RemovingOneOfNMovesOnlyItsBuckets) {
  for (uint32_t n : {2u, 3u, 4u, 8u, 16u}) {
    auto b = fresh(256);
    std::vector<BucketMember> m;
    for (uint32_t i = 0; i < n; ++i) m.push_back({100 + i, 1});
    (void)rebalance_buckets(b, m);
    const auto before = b;
    const uint32_t gone = m[n / 2].key;
    m.erase(m.begin() + n / 2);
    auto changed = rebalance_buckets(b, m);
    // Exactly the departed member's buckets moved; nobody else's flows did.
    uint32_t owned = 0;
    for (size_t i = 0; i < b.size(); ++i) {
      if (before[i] == gone) {
        ++owned;
        EXPECT_NE(b[i], gone);
      } else {
        EXPECT_EQ(b[i], before[i]) << "bucket " << i << " moved, n=" << n;
      }
    }
    EXPECT_EQ(changed.size(), owned);
    EXPECT_NEAR(changed.size(), 256.0 / n, 1.0);
    for (auto [key, cnt] : histogram(b)) EXPECT_NEAR(cnt, 256.0 / (n - 1), 1.0);
  }
}

TEST(ResilientBuckets, ReAddRestoresBalanceMovingOneShare) {
  auto b = fresh(256);
  std::vector<BucketMember> all{{1, 1}, {2, 1}, {3, 1}, {4, 1}};
  (void)rebalance_buckets(b, all);
  const auto original = histogram(b);
  std::vector<BucketMember> three{{1, 1}, {2, 1}, {4, 1}};
  (void)rebalance_buckets(b, three);
  const auto degraded = b;
  auto changed = rebalance_buckets(b, all);
  EXPECT_EQ(histogram(b), original);
  EXPECT_EQ(changed.size(), 64u);  // only member 3's share comes back
  for (uint32_t i : changed) EXPECT_EQ(b[i], 3u);
  for (size_t i = 0; i < b.size(); ++i)
    if (b[i] != 3u) {
      EXPECT_EQ(b[i], degraded[i]);
    }
}

TEST(ResilientBuckets, WeightChangeMovesMinimum) {
  auto b = fresh(256);
  std::vector<BucketMember> m{{1, 1}, {2, 1}};
  (void)rebalance_buckets(b, m);
  m[0].weight = 3;  // 128/128 -> 192/64
  auto changed = rebalance_buckets(b, m);
  EXPECT_EQ(changed.size(), 64u);
  EXPECT_EQ(histogram(b)[1], 192u);
}

TEST(ResilientBuckets, UnchangedSetMovesNothingAndIsDeterministic) {
  auto a = fresh(256), b = fresh(256);
  std::vector<BucketMember> m{{5, 2}, {9, 1}, {7, 5}};
  (void)rebalance_buckets(a, m);
  (void)rebalance_buckets(b, m);
  EXPECT_EQ(a, b);
  EXPECT_TRUE(rebalance_buckets(a, m).empty());
}

TEST(ResilientBuckets, NoMembersClearsEverything) {
  auto b = fresh(16);
  std::vector<BucketMember> m{{1, 1}};
  (void)rebalance_buckets(b, m);
  auto changed = rebalance_buckets(b, {});
  EXPECT_EQ(changed.size(), 16u);
  for (uint32_t x : b) EXPECT_EQ(x, kNoMember);
}

TEST(ResilientBuckets, MoreMembersThanBuckets) {
  auto b = fresh(4);
  std::vector<BucketMember> m;
  for (uint32_t i = 0; i < 10; ++i) m.push_back({i, 1});
  (void)rebalance_buckets(b, m);
  for (uint32_t x : b) EXPECT_NE(x, kNoMember);
}

}  // namespace
}  // namespace fpm_sink
