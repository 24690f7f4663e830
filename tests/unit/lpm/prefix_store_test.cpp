#include "dataplane/lpm/prefix_store.hpp"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>

namespace fpm_sink::lpm {
namespace {

Key v4(uint32_t a) {
  return Key(a) << 96;
}
Key mask(unsigned len) {
  return len == 0 ? 0 : ~Key(0) << (128 - len);
}

TEST(PrefixStore, ExactMatchAddReplaceErase) {
  PrefixStore s(32, {24});
  auto [a, added] = s.try_emplace(v4(0x0a000000), 8, 7);
  EXPECT_TRUE(added);
  EXPECT_EQ(*a, 7u);
  auto [b, again] = s.try_emplace(v4(0x0a000000), 8, 9);
  EXPECT_FALSE(again);
  EXPECT_EQ(*b, 7u);  // try_emplace keeps what is there
  *b = 9;
  ASSERT_NE(s.find(v4(0x0a000000), 8), nullptr);
  EXPECT_EQ(*s.find(v4(0x0a000000), 8), 9u);
  EXPECT_EQ(s.find(v4(0x0a000000), 16), nullptr);  // same bits, other length
  EXPECT_EQ(s.find(v4(0x0a000000), 33), nullptr);  // beyond the width
  EXPECT_EQ(s.size(), 1u);
  EXPECT_TRUE(s.erase(v4(0x0a000000), 8));
  EXPECT_FALSE(s.erase(v4(0x0a000000), 8));
  EXPECT_EQ(s.size(), 0u);
  EXPECT_EQ(s.find(v4(0x0a000000), 8), nullptr);
}

TEST(PrefixStore, DefaultRouteAndFullLengthsOfBothWidths) {
  PrefixStore s(128, {24, 32, 40, 48, 56, 64, 72, 80, 88, 96, 104, 112, 120});
  const Key all = ~Key(0);
  s.try_emplace(0, 0, 1);
  s.try_emplace(all, 128, 2);
  s.try_emplace(all & mask(56), 56, 3);  // the last narrow length
  s.try_emplace(all & mask(57), 57, 4);  // the first wide one
  EXPECT_EQ(*s.find(0, 0), 1u);
  EXPECT_EQ(*s.find(all, 128), 2u);
  EXPECT_EQ(*s.find(all & mask(56), 56), 3u);
  EXPECT_EQ(*s.find(all & mask(57), 57), 4u);
  EXPECT_EQ(s.cover(all, 128)->len, 128u);
  EXPECT_EQ(s.cover(all, 127)->len, 57u);
  EXPECT_EQ(s.cover(all, 56)->len, 56u);
  EXPECT_EQ(s.cover(all, 55)->len, 0u);
  EXPECT_TRUE(s.has_longer(all & mask(120), 120));
  EXPECT_TRUE(s.has_longer(all & mask(48), 48));
  EXPECT_FALSE(s.has_longer(0, 24));
}

// Every query against a brute-force model, over random nested IPv4 prefixes
// with random inserts and erases.
TEST(PrefixStore, MatchesBruteForceUnderChurn) {
  PrefixStore s(32, {24});
  std::map<std::pair<unsigned, Key>, uint32_t> model;
  std::mt19937_64 rng(7);
  auto random_prefix = [&] {
    const unsigned len = rng() % 33;
    // A small address space so prefixes nest and collide.
    const Key k = v4(uint32_t(rng() % 64) << 24 | uint32_t(rng() % 4) << 8 | uint32_t(rng() % 4));
    return std::pair{len, k & mask(len)};
  };
  for (int step = 0; step < 20000; ++step) {
    auto [len, key] = random_prefix();
    if (rng() % 3 == 0) {
      EXPECT_EQ(s.erase(key, len), model.erase({len, key}) == 1);
    } else {
      const uint32_t action = uint32_t(rng() % 1000) + 1;
      auto [a, added] = s.try_emplace(key, len, action);
      auto [it, fresh] = model.try_emplace({len, key}, action);
      ASSERT_EQ(added, fresh);
      *a = it->second = action;
    }
    ASSERT_EQ(s.size(), model.size());
    // Probe a random address: cover at every length limit and the /24 count.
    const Key addr =
        v4(uint32_t(rng() % 64) << 24 | uint32_t(rng() % 4) << 8 | uint32_t(rng() % 4));
    const unsigned max_len = rng() % 33;
    std::optional<PrefixStore::Cover> want;
    for (unsigned l = max_len + 1; l-- > 0 && !want;)
      if (auto it = model.find({l, addr & mask(l)}); it != model.end())
        want = PrefixStore::Cover{it->second, l};
    auto got = s.cover(addr, max_len);
    ASSERT_EQ(got.has_value(), want.has_value());
    if (got) {
      EXPECT_EQ(got->len, want->len);
      EXPECT_EQ(got->action, want->action);
    }
    bool longer = false;
    for (const auto& [k, v] : model)
      longer |= k.first > 24 && (k.second & mask(24)) == (addr & mask(24));
    ASSERT_EQ(s.has_longer(addr & mask(24), 24), longer);
  }
}

TEST(PrefixStore, ForEachInStrideVisitsExactlyThePrefixesEndingThere) {
  PrefixStore s(32, {24});
  const Key base = v4(0xc0a80100);       // 192.168.1.0/24
  s.try_emplace(base, 24, 1);            // ends at the base: not in (24, 32]
  s.try_emplace(v4(0xc0a80180), 25, 2);  // .128/25
  s.try_emplace(v4(0xc0a80107), 32, 3);  // .7/32
  s.try_emplace(v4(0xc0a80207), 32, 4);  // other /24
  std::set<std::pair<unsigned, uint32_t>> seen;
  s.for_each_in_stride(base, 24, 32, [&](Key k, unsigned l, uint32_t a) {
    EXPECT_EQ(k & mask(24), base);
    seen.insert({l, a});
  });
  EXPECT_EQ(seen, (std::set<std::pair<unsigned, uint32_t>>{{25, 2}, {32, 3}}));
}

TEST(PrefixStore, HasLongerRejectsLengthsThatAreNotBoundaries) {
  PrefixStore s(32, {24});
  EXPECT_THROW((void)s.has_longer(0, 16), std::invalid_argument);
}

// for_each_within against a brute-force scan: IPv6 prefixes clustered under a
// few /32s so ranges hold several levels, with erasures so subtree counters
// that went back to zero must prune.
TEST(PrefixStore, ForEachWithinFindsExactlyThePrefixesInsideARange) {
  std::vector<unsigned> bounds;
  for (unsigned b = 24; b < 128; b += 8) bounds.push_back(b);
  PrefixStore s(128, bounds);
  std::set<std::pair<Key, unsigned>> model;
  std::mt19937_64 rng(7);
  const Key bases[] = {Key(0x20010db8u) << 96, Key(0x20010db9u) << 96, Key(0x2a001450u) << 96};
  for (int i = 0; i < 4000; ++i) {
    const unsigned len = 24 + rng() % 105;
    const Key k = (bases[rng() % 3] | (Key(rng()) << 32) | Key(rng() >> 32)) & mask(len);
    if (rng() % 4 == 0 && !model.empty()) {
      auto it = model.begin();
      std::advance(it, rng() % model.size());
      ASSERT_TRUE(s.erase(it->first, it->second));
      model.erase(it);
    } else if (s.try_emplace(k, len, 1).added) {
      model.emplace(k, len);
    }
  }
  for (const Key base : bases) {
    for (unsigned b : {24u, 32u, 40u, 48u, 64u, 120u}) {
      const Key range = (base | (Key(rng()) >> 40)) & mask(b);
      for (const Key r : {range, base & mask(b)}) {
        std::set<std::pair<Key, unsigned>> want, got;
        for (const auto& [k, l] : model)
          if (l >= b && (k & mask(b)) == r) want.emplace(k, l);
        s.for_each_within(r, b, [&](Key k, unsigned l, uint32_t) {
          EXPECT_TRUE(got.emplace(k, l).second) << "visited twice";
        });
        EXPECT_EQ(got, want) << "range /" << b;
      }
    }
  }
}

}  // namespace
}  // namespace fpm_sink::lpm
