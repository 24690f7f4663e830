// `fpm-sinkctl show routes ADDR from ...` tells the truth: for many flows the
// member that fpm_sink::flow_hash + pick_member (fpm-sink/dataplane/flow_hash.hpp,
// what the daemon answers with) names is the member the XDP program sends the
// frame to, for IPv4 and IPv6, TCP / UDP / SCTP / ICMP, equal and weighted
// groups, and with failed members (failover).
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "dataplane/flow_hash.hpp"
#include "fib_fixture.hpp"

namespace fpm_test {
namespace {

constexpr uint32_t kGroup = 30;
constexpr uint32_t kFirstNh = 40;
constexpr uint32_t kMembers = 5;
constexpr int kFlows = 3000;

struct Case {
  Bytes frame;
  fpm_sink::FlowKey key;
};

class FlowHash : public FibFixture {
 protected:
  void SetUp() override {
    FibFixture::SetUp();
    if (IsSkipped()) return;
    for (uint32_t i = 0; i < kMembers; i++) set_member(i, FPM_NH_VALID);
    // Weighted: member i holds a run of buckets whose length grows with i.
    for (uint32_t b = 0, i = 0, left = 1; b < FPM_NHG_BUCKETS; b++) {
      buckets_[b] = kFirstNh + i;
      if (--left == 0 && i + 1 < kMembers) left = 16 * (++i + 1);
    }
    h_->set_group(kGroup, std::vector<uint32_t>(buckets_.begin(), buckets_.end()), FPM_NHG_F_VALID);
    h_->route4(ip4("10.30.0.0"), 16, forward(kGroup));
    h_->route6(ip6("2001:db8:30::"), 48, forward(kGroup));
  }

  void set_member(uint32_t i, uint8_t state) {
    Mac dst{0x02, 0xee, 0, 0, 0, static_cast<uint8_t>(kFirstNh + i)};
    h_->set_nexthop(kFirstNh + i, make_nh(h_->egress(i % 2), dst, state));
    states_[i] = state;
  }

  static fpm_sink::IpAddr addr(const Ip4& a) { return fpm_sink::IpAddr::v4(be(a)); }
  static fpm_sink::IpAddr addr(const Ip6& a) { return fpm_sink::IpAddr::v6(a); }
  static uint32_t be(const Ip4& a) {
    return uint32_t(a[0]) << 24 | uint32_t(a[1]) << 16 | uint32_t(a[2]) << 8 | a[3];
  }

  std::vector<Case> cases(bool v6, uint32_t seed) const {
    std::mt19937 rng(seed);
    std::vector<Case> out;
    for (int i = 0; i < kFlows; i++) {
      const uint32_t r = rng();
      PacketBuilder b;
      b.eth(h_->ingress().mac, kClientMac);
      Case c;
      size_t l4 = 14;
      if (v6) {
        Ip6 src = ip6("2001:db8:ffff::"), dst = ip6("2001:db8:30::");
        for (int k = 8; k < 16; k++) src[k] = uint8_t(rng());
        dst[14] = uint8_t(r >> 16), dst[15] = uint8_t(r >> 8);
        b.ipv6(src, dst);
        c.key.src = addr(src), c.key.dst = addr(dst);
        l4 += 40;
      } else {
        Ip4 src{198, 18, uint8_t(r >> 24), uint8_t(r >> 16)},
            dst{10, 30, uint8_t(r), uint8_t(r >> 8)};
        b.ipv4(src, dst);
        c.key.src = addr(src), c.key.dst = addr(dst);
        l4 += 20;
      }
      const auto sport = static_cast<uint16_t>(rng()), dport = static_cast<uint16_t>(rng());
      switch (i % 4) {
        case 0:
          b.tcp(sport, dport), c.key.protocol = 6;
          break;
        case 1:
          b.udp(sport, dport), c.key.protocol = 17;
          break;
        case 2:
          b.icmp(v6 ? 128 : 8, 0), c.key.protocol = v6 ? 58 : 1;
          break;
        default:
          b.raw_l4(132), c.key.protocol = 132;  // SCTP: the ports are the payload's first bytes
          break;
      }
      c.frame = b.payload(16, uint8_t(i)).build();
      if (c.key.protocol == 6 || c.key.protocol == 17 || c.key.protocol == 132) {
        c.key.sport = uint16_t(c.frame[l4] << 8 | c.frame[l4 + 1]);
        c.key.dport = uint16_t(c.frame[l4 + 2] << 8 | c.frame[l4 + 3]);
      }
      out.push_back(std::move(c));
    }
    return out;
  }

  // Runs every case and compares the next hop XDP chose (by its MAC) with
  // the userspace answer. Returns how many flows failed over.
  int check(const std::vector<Case>& all) {
    const uint32_t seed = h_->skel()->rodata->fpm_cfg.hash_seed;
    auto state = [this](uint32_t nh) -> int {
      if (nh < kFirstNh || nh >= kFirstNh + kMembers) return -1;
      return states_[nh - kFirstNh];
    };
    int failovers = 0, mismatches = 0;
    for (const Case& c : all) {
      const auto choice = fpm_sink::pick_member(buckets_, fpm_sink::flow_hash(c.key, seed), state);
      RunResult r = h_->run(c.frame);
      EXPECT_EQ(r.err, 0);
      if (state(choice.nexthop) != FPM_NH_VALID) {
        mismatches += r.action != XDP_PASS;
        continue;
      }
      failovers += choice.failover;
      const bool same = r.action == XDP_REDIRECT && r.out.size() > 5 && r.out[5] == choice.nexthop;
      if (!same && mismatches++ < 5)
        ADD_FAILURE() << "protocol " << int(c.key.protocol) << " sport " << c.key.sport
                      << ": userspace says nh " << choice.nexthop << ", XDP action " << r.action
                      << " dst mac byte " << (r.out.size() > 5 ? int(r.out[5]) : -1);
    }
    EXPECT_EQ(mismatches, 0);
    return failovers;
  }

  std::array<uint32_t, FPM_NHG_BUCKETS> buckets_{};
  std::array<uint8_t, kMembers> states_{};
};

TEST_F(FlowHash, UserspaceNamesTheMemberXdpTakes) {
  EXPECT_EQ(check(cases(false, 1)), 0);
  EXPECT_EQ(check(cases(true, 2)), 0);
}

TEST_F(FlowHash, UserspaceFollowsTheFailover) {
  set_member(4, FPM_NH_FAILED);  // the largest run of buckets
  set_member(1, FPM_NH_FAILED);
  EXPECT_GT(check(cases(false, 3)), 100);
  EXPECT_GT(check(cases(true, 4)), 100);
}

}  // namespace
}  // namespace fpm_test
