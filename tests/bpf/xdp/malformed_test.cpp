// Broken input never leaves through the fast path: every truncation of valid
// frames, every bad IHL / version, and random corruption.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "fib_fixture.hpp"

namespace fpm_test {
namespace {

class Malformed : public FibFixture {
 protected:
  // Frames the fast path forwards when whole.
  std::vector<std::pair<std::string, Bytes>> valid_frames() const {
    return {
        {"v4_udp", v4("10.1.7.7").build()},
        {"v4_tcp", v4("10.1.7.7").tcp(1, 2).build()},
        {"v4_icmp", v4("10.1.7.7").icmp(8, 0).build()},
        {"v4_fragment", v4("10.1.7.7").ipv4_fragment(0, true).build()},
        {"v6_udp", v6("2001:db8:1::9").build()},
        {"v6_tcp", v6("2001:db8:1::9").tcp(1, 2).build()},
        {"v6_fragment", v6("2001:db8:1::9").ipv6_fragment(0, true, 1).build()},
        {"v6_routing", v6("2001:db8:1::9").ipv6_routing().build()},
    };
  }
};

TEST_F(Malformed, WholeFramesAreForwarded) {
  for (const auto& [name, f] : valid_frames())
    EXPECT_EQ(h_->run(f).action, uint32_t{XDP_REDIRECT}) << name;
}

// Cut anywhere: the IP length fields no longer fit, so the kernel gets the
// frame (or test_run refuses frames shorter than an Ethernet header).
TEST_F(Malformed, EveryTruncationPunts) {
  for (const auto& [name, f] : valid_frames()) {
    for (size_t len = 0; len < f.size(); len++) {
      const Bytes cut(f.begin(), f.begin() + len);
      const RunResult r = h_->run(cut);
      if (r.err) {
        EXPECT_LT(len, 14u) << name << " len " << len << ": " << strerror(-r.err);
        continue;
      }
      EXPECT_EQ(r.action, uint32_t{XDP_PASS}) << name << " len " << len;
      EXPECT_EQ(r.out, cut) << name << " len " << len;
    }
  }
  const Counters c = h_->counters();
  EXPECT_EQ(c.verdict(FPM_VERDICT_REDIRECT), 0u);
  EXPECT_EQ(c.verdict(FPM_VERDICT_PASS), c.reason(FPM_REASON_MALFORMED));
  EXPECT_GT(c.reason(FPM_REASON_MALFORMED), 0u);
}

TEST_F(Malformed, EveryIhl) {
  for (uint8_t ihl = 0; ihl < 16; ihl++) {
    const Bytes f = v4("10.1.7.7").ipv4_version_ihl(4, ihl).build();
    const RunResult r = h_->run(f);
    ASSERT_EQ(r.err, 0);
    EXPECT_EQ(r.action, ihl == 5 ? uint32_t{XDP_REDIRECT} : uint32_t{XDP_PASS}) << int(ihl);
  }
  const Counters c = h_->counters();
  EXPECT_EQ(c.reason(FPM_REASON_MALFORMED), 5u);    // 0..4
  EXPECT_EQ(c.reason(FPM_REASON_IP_OPTIONS), 10u);  // 6..15: header fits in 76 bytes
}

TEST_F(Malformed, EveryVersion) {
  for (uint8_t v = 0; v < 16; v++) {
    const RunResult r4 = h_->run(v4("10.1.7.7").ipv4_version_ihl(v, 5).build());
    const RunResult r6 = h_->run(v6("2001:db8:1::9").ipv6_version(v).build());
    EXPECT_EQ(r4.action, v == 4 ? uint32_t{XDP_REDIRECT} : uint32_t{XDP_PASS}) << int(v);
    EXPECT_EQ(r6.action, v == 6 ? uint32_t{XDP_REDIRECT} : uint32_t{XDP_PASS}) << int(v);
  }
  EXPECT_EQ(h_->counters().reason(FPM_REASON_MALFORMED), 30u);
}

// Random byte flips in the headers: whatever the verdict, the program must
// return a valid action, and a redirected frame must still be a sane
// IPv4/IPv6 frame with a TTL that was > 1.
TEST_F(Malformed, RandomCorruptionNeverAborts) {
  std::mt19937 rng(42);
  const auto frames = valid_frames();
  for (int i = 0; i < 20000; i++) {
    Bytes f = frames[i % frames.size()].second;
    const int flips = 1 + rng() % 4;
    for (int k = 0; k < flips; k++)
      f[rng() % std::min<size_t>(f.size(), 80)] ^= uint8_t(1 + rng() % 255);
    if (rng() % 4 == 0) f.resize(rng() % (f.size() + 1));
    const RunResult r = h_->run(f);
    if (r.err) {
      ASSERT_LT(f.size(), 14u);
      continue;
    }
    ASSERT_TRUE(r.action == XDP_PASS || r.action == XDP_REDIRECT || r.action == XDP_DROP)
        << r.action;
    if (r.action != XDP_REDIRECT) {
      ASSERT_EQ(r.out, f);
      continue;
    }
    const bool is_v4 = f[12] == 0x08 && f[13] == 0x00;
    ASSERT_TRUE(is_v4 || (f[12] == 0x86 && f[13] == 0xdd));
    if (is_v4) {
      ASSERT_EQ(f[14] >> 4, 4);
      ASSERT_EQ(f[14] & 0xf, 5);
      ASSERT_GT(f[14 + 8], 1);
      ASSERT_EQ(ones_sum(&r.out[14], 20), 0xffff);
    } else {
      ASSERT_EQ(f[14] >> 4, 6);
      ASSERT_GT(f[14 + 7], 1);
    }
  }
  EXPECT_EQ(h_->counters().verdict(FPM_VERDICT_MAX - 1), 0u);
}

}  // namespace
}  // namespace fpm_test
