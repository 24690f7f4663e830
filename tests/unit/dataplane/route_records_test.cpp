#include "dataplane/route_records.hpp"

#include <gtest/gtest.h>

#include <map>
#include <random>

namespace fpm_sink {
namespace {

TEST(RouteRecords, MatchesAReferenceMapUnderChurn) {
  RouteRecords<uint32_t> t;
  std::map<Prefix, uint32_t> ref;
  std::mt19937 rng(7);
  for (int i = 0; i < 200000; ++i) {
    // A small key space forces collisions, long probe chains and deletes in them.
    const uint32_t addr = (rng() % 4096) << 8;
    const auto p = *Prefix::make(IpAddr::v4(addr), 16 + rng() % 17);
    if (rng() % 3 == 0) {
      EXPECT_EQ(t.erase(p), ref.erase(p) > 0);
    } else {
      auto [v, fresh] = t.try_emplace(p);
      auto [it, ref_fresh] = ref.try_emplace(p, 0);
      EXPECT_EQ(fresh, ref_fresh);
      *v = it->second = static_cast<uint32_t>(i);
    }
  }
  EXPECT_EQ(t.size(), ref.size());
  for (const auto& [p, v] : ref) {
    const uint32_t* got = t.find(p);
    ASSERT_NE(got, nullptr) << p.to_string();
    EXPECT_EQ(*got, v);
  }
  size_t seen = 0;
  t.for_each([&](const Prefix& p, uint32_t& v) {
    ++seen;
    EXPECT_EQ(ref.at(p), v);
  });
  EXPECT_EQ(seen, ref.size());
}

TEST(RouteRecords, Ipv6AndIpv4Coexist) {
  RouteRecords<int> t;
  auto a = *Prefix::parse("2001:db8::/32");
  auto b = *Prefix::parse("10.0.0.0/8");
  *t.try_emplace(a).first = 6;
  *t.try_emplace(b).first = 4;
  EXPECT_EQ(*t.find(a), 6);
  EXPECT_EQ(*t.find(b), 4);
  EXPECT_EQ(t.find(*Prefix::parse("10.0.0.0/9")), nullptr);
  EXPECT_TRUE(t.erase(a));
  EXPECT_EQ(t.size(), 1u);
}

}  // namespace
}  // namespace fpm_sink
