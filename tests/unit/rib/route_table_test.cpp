// The RIB's open-addressing route table under churn: backward-shift deletion
// must keep every remaining key reachable, and growth must keep them all.
#include <map>
#include <random>

#include "rib/route_table.hpp"
#include "rib_test_util.hpp"

namespace fpm_sink::test {
namespace {

TEST(RouteTable, ChurnMatchesReference) {
  RouteTable t;
  std::map<std::tuple<uint32_t, Prefix>, uint32_t> ref;  // key -> metric written
  std::mt19937 rng(7);
  auto key = [&](unsigned n) {
    const bool v6 = n % 5 == 0;
    IpAddr a = v6 ? IpAddr::v6({0x20, 0x01, 0x0d, 0xb8, uint8_t(n >> 8), uint8_t(n)})
                  : IpAddr::v4(0x0a000000u | (n << 8));
    return std::tuple<uint32_t, Prefix>{n % 3 ? 254u : 100u, *Prefix::make(a, v6 ? 48 : 24)};
  };
  for (int step = 0; step < 200000; ++step) {
    const auto k = key(rng() % 5000);
    const auto& [table, prefix] = k;
    if (rng() % 3 == 0) {
      RouteEntry* e = t.find(table, prefix);
      ASSERT_EQ(e != nullptr, ref.count(k) != 0) << step;
      if (e) {
        t.erase(e);
        ref.erase(k);
      }
    } else {
      auto [e, inserted, index] = t.try_emplace(table, prefix);
      ASSERT_EQ(inserted, ref.count(k) == 0) << step;
      EXPECT_EQ(t.at(index), e);
      EXPECT_EQ(e->r.spec.prefix, prefix);
      e->r.spec.metric = step;
      ref[k] = step;
    }
    ASSERT_EQ(t.size(), ref.size());
  }
  for (const auto& [k, metric] : ref) {
    RouteEntry* e = t.find(std::get<0>(k), std::get<1>(k));
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->r.spec.metric, metric);
  }
  size_t seen = 0;
  t.for_each([&](const RouteEntry&) { ++seen; });
  EXPECT_EQ(seen, ref.size());
  t.reserve(100000);  // rehash keeps everything
  for (const auto& [k, metric] : ref) ASSERT_NE(t.find(std::get<0>(k), std::get<1>(k)), nullptr);
}

}  // namespace
}  // namespace fpm_sink::test

namespace fpm_sink::test {
namespace {

// What a resumable walk relies on: an entry keeps its index while it lives,
// live_at() sees exactly the live ones, freed indexes come back live on reuse.
TEST(RouteTable, LiveIndexesFollowInsertAndErase) {
  RouteTable t;
  std::vector<uint32_t> idx;
  for (unsigned n = 0; n < 300; ++n)
    idx.push_back(t.try_emplace(254, *Prefix::make(IpAddr::v4(0x0a000000u | (n << 8)), 24)).index);
  EXPECT_EQ(t.index_end(), 301u);
  t.erase(t.at(idx[5]));
  t.erase(t.at(idx[200]));
  size_t live = 0;
  for (uint32_t i = 0; i <= t.index_end(); ++i) live += t.live_at(i) != nullptr;
  EXPECT_EQ(live, 298u);
  EXPECT_EQ(t.live_at(idx[5]), nullptr);
  EXPECT_EQ(t.live_at(idx[200]), nullptr);
  EXPECT_EQ(t.live_at(idx[6]), t.at(idx[6]));
  const uint32_t reused = t.try_emplace(7, *Prefix::make(IpAddr::v4(0x0b000000u), 8)).index;
  EXPECT_TRUE(reused == idx[5] || reused == idx[200]);
  EXPECT_NE(t.live_at(reused), nullptr);
  EXPECT_EQ(t.index_end(), 301u);  // reuse before growth
}

}  // namespace
}  // namespace fpm_sink::test
