// ECMP through the bucket table: spread over equal and weighted members,
// resilient removal / re-adding of a member, and fragments hashed on L3 only.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <numeric>
#include <random>
#include <vector>

#include "fib_fixture.hpp"

namespace fpm_test {
namespace {

constexpr uint32_t kGroup = 20;
constexpr uint32_t kFirstNh = 20;
constexpr int kFlows = 10000;

// Test-only bucket filler: member i gets a share of the buckets proportional
// to its weight (largest remainder), members laid out one after the other.
std::vector<uint32_t> weighted_buckets(const std::vector<uint32_t>& nhs,
                                       const std::vector<uint32_t>& weights) {
  const uint32_t total = std::accumulate(weights.begin(), weights.end(), 0u);
  std::vector<uint32_t> count(nhs.size());
  std::vector<std::pair<uint64_t, size_t>> rest;
  uint32_t given = 0;
  for (size_t i = 0; i < nhs.size(); i++) {
    count[i] = FPM_NHG_BUCKETS * weights[i] / total;
    given += count[i];
    rest.emplace_back(uint64_t{FPM_NHG_BUCKETS} * weights[i] % total, i);
  }
  std::sort(rest.rbegin(), rest.rend());
  for (size_t k = 0; given < FPM_NHG_BUCKETS; k++, given++) count[rest[k].second]++;
  std::vector<uint32_t> b;
  for (size_t i = 0; i < nhs.size(); i++) b.insert(b.end(), count[i], nhs[i]);
  return b;
}

// Resilient removal: only the leaving member's buckets move, each to the
// member holding the fewest buckets at that moment.
std::vector<uint32_t> remove_member(std::vector<uint32_t> b, uint32_t leaving) {
  std::map<uint32_t, uint32_t> held;
  for (uint32_t nh : b)
    if (nh != leaving) held[nh]++;
  for (uint32_t& nh : b) {
    if (nh != leaving) continue;
    auto least = std::min_element(held.begin(), held.end(),
                                  [](auto& x, auto& y) { return x.second < y.second; });
    nh = least->first;
    least->second++;
  }
  return b;
}

struct Flow {
  Bytes frame;
};

class Ecmp : public FibFixture {
 protected:
  void SetUp() override {
    FibFixture::SetUp();
    if (IsSkipped()) return;
    for (uint32_t i = 0; i < 8; i++) {
      Mac dst{0x02, 0xee, 0, 0, 0, static_cast<uint8_t>(kFirstNh + i)};
      h_->set_nexthop(kFirstNh + i, make_nh(h_->egress(i % 2), dst, FPM_NH_VALID));
    }
    h_->route4(ip4("10.20.0.0"), 16, forward(kGroup));
    h_->route6(ip6("2001:db8:20::"), 48, forward(kGroup));
  }

  std::vector<Bytes> flows(bool v6, int n, uint32_t seed = 1) const {
    std::mt19937 rng(seed);
    std::vector<Bytes> out;
    for (int i = 0; i < n; i++) {
      uint32_t r = rng();
      PacketBuilder b;
      b.eth(h_->ingress().mac, kClientMac);
      if (v6) {
        Ip6 src = ip6("2001:db8:ffff::"), dst = ip6("2001:db8:20::");
        src[12] = uint8_t(r >> 24), src[13] = uint8_t(r >> 16), src[15] = uint8_t(i);
        dst[15] = uint8_t(r >> 8);
        b.ipv6(src, dst);
      } else {
        Ip4 src{198, 18, uint8_t(r >> 24), uint8_t(r >> 16)}, dst{10, 20, 0, uint8_t(r >> 8)};
        b.ipv4(src, dst);
      }
      uint16_t sport = static_cast<uint16_t>(1024 + rng() % 60000);
      if (i % 2)
        b.udp(sport, 53);
      else
        b.tcp(sport, 443);
      out.push_back(b.payload(16).build());
    }
    return out;
  }

  // Next hop (by its MAC) each flow is sent to.
  std::vector<uint32_t> members(const std::vector<Bytes>& fl) const {
    std::vector<uint32_t> m;
    m.reserve(fl.size());
    for (const Bytes& f : fl) {
      RunResult r = h_->run(f);
      EXPECT_EQ(r.err, 0);
      EXPECT_EQ(r.action, uint32_t{XDP_REDIRECT});
      m.push_back(r.out.size() > 5 ? r.out[5] : 0);
    }
    return m;
  }

  static std::map<uint32_t, int> histogram(const std::vector<uint32_t>& m) {
    std::map<uint32_t, int> hist;
    for (uint32_t x : m) hist[x]++;
    return hist;
  }
};

class EcmpFamilies : public Ecmp, public ::testing::WithParamInterface<bool> {};

// 4 equal members, 10k flows: each within +-10% of 2500 (about 6 sigma).
TEST_P(EcmpFamilies, EqualMembersSpreadEvenly) {
  const std::vector<uint32_t> nhs{20, 21, 22, 23};
  h_->set_group(kGroup, weighted_buckets(nhs, {1, 1, 1, 1}), FPM_NHG_F_VALID);
  auto hist = histogram(members(flows(GetParam(), kFlows)));
  for (auto [nh, n] : hist) RecordProperty("nh" + std::to_string(nh), n);
  ASSERT_EQ(hist.size(), nhs.size());
  for (uint32_t nh : nhs) {
    EXPECT_NEAR(hist[nh], kFlows / 4, kFlows / 4 / 10) << "nh " << nh;
  }
}

// Weights 1:2:3:2 -> 32/64/96/64 buckets; each member within +-15% of its share.
TEST_P(EcmpFamilies, WeightedMembersFollowWeights) {
  const std::vector<uint32_t> nhs{20, 21, 22, 23}, w{1, 2, 3, 2};
  h_->set_group(kGroup, weighted_buckets(nhs, w), FPM_NHG_F_VALID);
  auto hist = histogram(members(flows(GetParam(), kFlows)));
  for (auto [nh, n] : hist) RecordProperty("nh" + std::to_string(nh), n);
  for (size_t i = 0; i < nhs.size(); i++) {
    const double want = double(kFlows) * w[i] / 8;
    EXPECT_NEAR(hist[nhs[i]], want, want * 0.15) << "nh " << nhs[i];
  }
}

// Removing one of N = 5 members moves only its flows (at most 1/N + 2%), and
// giving its buckets back restores every flow's member.
TEST_P(EcmpFamilies, ResilientRemoveAndRestore) {
  const std::vector<uint32_t> nhs{20, 21, 22, 23, 24};
  const auto before_buckets = weighted_buckets(nhs, {1, 1, 1, 1, 1});
  h_->set_group(kGroup, before_buckets, FPM_NHG_F_VALID);
  const auto fl = flows(GetParam(), kFlows);
  const auto before = members(fl);

  // Member 22 goes away: rewrite its buckets in place, one store each.
  const auto after_buckets = remove_member(before_buckets, 22);
  for (uint32_t b = 0; b < FPM_NHG_BUCKETS; b++)
    if (after_buckets[b] != before_buckets[b]) h_->set_bucket(kGroup, b, after_buckets[b]);
  const auto after = members(fl);
  int moved = 0;
  for (size_t i = 0; i < fl.size(); i++) {
    if (before[i] == after[i]) continue;
    moved++;
    EXPECT_EQ(before[i], 22u) << "flow " << i << " moved without its member leaving";
  }
  RecordProperty("moved", moved);
  EXPECT_EQ(std::count(after.begin(), after.end(), 22u), 0);
  EXPECT_LE(moved, kFlows / 5 + kFlows * 2 / 100);
  EXPECT_GT(moved, 0);

  // It comes back and takes exactly its old buckets.
  for (uint32_t b = 0; b < FPM_NHG_BUCKETS; b++)
    if (after_buckets[b] != before_buckets[b]) h_->set_bucket(kGroup, b, before_buckets[b]);
  EXPECT_EQ(members(fl), before);
}

// A member's link fails (its next hop is written FAILED, one store, before zebra
// shrinks the group): its flows fail over to surviving members, nothing is
// punted, and flows of the survivors stay where they were. Recovery restores all.
TEST_P(EcmpFamilies, FailedMemberFailsOverBeforeTheGroupChanges) {
  const std::vector<uint32_t> nhs{20, 21, 22, 23};
  h_->set_group(kGroup, weighted_buckets(nhs, {1, 1, 1, 1}), FPM_NHG_F_VALID);
  const auto fl = flows(GetParam(), kFlows);
  const auto before = members(fl);

  Mac dst{0x02, 0xee, 0, 0, 0, 22};
  h_->set_nexthop(22, make_nh(h_->egress(22 % 2), dst, FPM_NH_FAILED));
  const auto after = members(fl);  // asserts XDP_REDIRECT for every flow
  int moved = 0;
  for (size_t i = 0; i < fl.size(); i++) {
    EXPECT_NE(after[i], 22u) << "flow " << i << " still sent to the failed member";
    if (before[i] != after[i]) {
      moved++;
      EXPECT_EQ(before[i], 22u) << "flow " << i << " moved although its member is fine";
    }
  }
  EXPECT_NEAR(moved, kFlows / 4, kFlows / 40);
  // The failed member's flows spread over the survivors rather than piling on one.
  auto hist = histogram(after);
  for (uint32_t nh : {20u, 21u, 23u}) EXPECT_NEAR(hist[nh], kFlows / 3, kFlows / 3 / 8) << nh;

  h_->set_nexthop(22, make_nh(h_->egress(22 % 2), dst, FPM_NH_VALID));
  EXPECT_EQ(members(fl), before);
}

// One of two members failed: every flow reaches the survivor. The hash-derived
// probes alone miss it for about 1 flow in 4096 (all twelve land on the failed
// member); the bucket walk behind them must catch every one of those.
TEST_P(EcmpFamilies, FailedMemberNeverPuntsWhileOneSurvives) {
  h_->set_group(kGroup, weighted_buckets({20, 21}, {1, 1}), FPM_NHG_F_VALID);
  Mac dst{0x02, 0xee, 0, 0, 0, 21};
  h_->set_nexthop(21, make_nh(h_->egress(21 % 2), dst, FPM_NH_FAILED));
  const auto after = members(flows(GetParam(), 40000));  // asserts XDP_REDIRECT for every flow
  EXPECT_EQ(std::count(after.begin(), after.end(), 20u), std::ssize(after));
}

// Every member failed: packets go to the kernel, never to a failed next hop.
TEST_P(EcmpFamilies, AllMembersFailedPunts) {
  h_->set_group(kGroup, weighted_buckets({20, 21}, {1, 1}), FPM_NHG_F_VALID);
  for (uint32_t i : {20u, 21u}) {
    Mac dst{0x02, 0xee, 0, 0, 0, static_cast<uint8_t>(i)};
    h_->set_nexthop(i, make_nh(h_->egress(i % 2), dst, FPM_NH_FAILED));
  }
  for (const Bytes& f : flows(GetParam(), 200)) {
    RunResult r = h_->run(f);
    EXPECT_EQ(r.action, uint32_t{XDP_PASS});
  }
}

// The same flow always takes the same member.
TEST_P(EcmpFamilies, SameFlowSameMember) {
  h_->set_group(kGroup, weighted_buckets({20, 21, 22, 23}, {1, 1, 1, 1}), FPM_NHG_F_VALID);
  const auto fl = flows(GetParam(), 500);
  EXPECT_EQ(members(fl), members(fl));
}

// Fragments of one datagram (first with the L4 header, later ones without)
// take one member; ports must not be part of a fragment's hash.
TEST_P(EcmpFamilies, FragmentsHashOnAddressesOnly) {
  h_->set_group(kGroup, weighted_buckets({20, 21, 22, 23}, {1, 1, 1, 1}), FPM_NHG_F_VALID);
  std::mt19937 rng(7);
  std::map<uint32_t, int> spread;
  for (int i = 0; i < 500; i++) {
    uint32_t r = rng();
    auto base = [&] {
      PacketBuilder b;
      b.eth(h_->ingress().mac, kClientMac);
      if (GetParam()) {
        Ip6 src = ip6("2001:db8:ffff::"), dst = ip6("2001:db8:20::1");
        src[14] = uint8_t(r >> 8), src[15] = uint8_t(r);
        b.ipv6(src, dst);
      } else {
        b.ipv4(Ip4{198, 18, uint8_t(r >> 8), uint8_t(r)}, ip4("10.20.0.1"));
      }
      return b;
    };
    Bytes first, later;
    if (GetParam()) {
      first = base().ipv6_fragment(0, true, r).udp(uint16_t(r >> 16), 53).payload(64).build();
      later = base().ipv6_fragment(9, false, r).raw_l4(17).payload(40).build();
    } else {
      first = base().ipv4_fragment(0, true).udp(uint16_t(r >> 16), 53).payload(64).build();
      later = base().ipv4_fragment(9, false).raw_l4(17).payload(40).build();
    }
    const auto m = members({first, later});
    EXPECT_EQ(m[0], m[1]) << "fragment pair " << i;
    spread[m[0]]++;
  }
  EXPECT_EQ(spread.size(), 4u) << "fragments still spread over the members";
}

INSTANTIATE_TEST_SUITE_P(Xdp, EcmpFamilies, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "v6" : "v4"; });

}  // namespace
}  // namespace fpm_test
