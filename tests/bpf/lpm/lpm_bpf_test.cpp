// The lookup code of bpf/lpm4.h / lpm6.h compiled for BPF, run with
// BPF_PROG_TEST_RUN over maps written through mmap by Lpm4Table / Lpm6Table,
// checked against the reference LPM. Needs root (BPF, bpffs not required).
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <memory>

#include "dataplane/lpm/mapped_rows.hpp"
#include "lpm_test.skel.h"
#include "lpm_test_util.hpp"

namespace fpm_sink::lpm {
namespace {

using namespace testing;

constexpr uint32_t kBatch = 65536;
constexpr uint32_t kTbl8Groups = 32768;
constexpr uint32_t kNodes = 150000;

struct SkelDeleter {
  void operator()(lpm_test* s) const { lpm_test__destroy(s); }
};

class LpmBpfTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root for BPF";
    skel_.reset(lpm_test__open());
    ASSERT_TRUE(skel_);
    ASSERT_EQ(bpf_map__set_max_entries(skel_->maps.lpm4_tbl8, kTbl8Groups), 0);
    ASSERT_EQ(bpf_map__set_max_entries(skel_->maps.lpm6_nodes, kNodes), 0);
    ASSERT_EQ(lpm_test__load(skel_.get()), 0) << "load failed";
  }

  MappedRows map(const bpf_map* m) {
    auto r = MappedRows::map(m);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().to_string());
    return std::move(r.value());
  }

  // Runs the BPF lookups over addrs; returns how many differ from want.
  template <class Table>
  size_t check(Family f, const Table& t, const ReferenceLpm& ref,
               const std::vector<IpAddr>& addrs) {
    size_t bad = 0, cxx_bad = 0;
    skel_->bss->family = f == Family::V4 ? 4 : 6;
    for (size_t off = 0; off < addrs.size(); off += kBatch) {
      const uint32_t n = static_cast<uint32_t>(std::min<size_t>(kBatch, addrs.size() - off));
      for (uint32_t i = 0; i < n; ++i)
        std::memcpy(skel_->bss->addrs[i], addrs[off + i].bytes.data(), 16);
      skel_->bss->count = n;
      uint8_t pkt[64] = {};
      LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt, .data_size_in = sizeof pkt);
      EXPECT_EQ(bpf_prog_test_run_opts(bpf_program__fd(skel_->progs.lpm_batch), &opts), 0);
      EXPECT_EQ(opts.retval, XDP_PASS);
      for (uint32_t i = 0; i < n; ++i) {
        const IpAddr& a = addrs[off + i];
        const uint32_t want = ref.lookup(a), got = skel_->bss->results[i];
        if (got != want && ++bad <= 5)
          ADD_FAILURE() << a.to_string() << ": bpf " << std::hex << got << " ref " << want;
        if (t.lookup(a) != got) ++cxx_bad;
      }
    }
    EXPECT_EQ(cxx_bad, 0u) << "C++ and BPF lookups disagree";
    return bad;
  }

  std::unique_ptr<lpm_test, SkelDeleter> skel_;
};

TEST_F(LpmBpfTest, Ipv4MatchesReference) {
  auto tbl24 = map(skel_->maps.lpm4_tbl24);
  auto tbl8 = map(skel_->maps.lpm4_tbl8);
  ASSERT_EQ(tbl24.entries().size(), size_t(1) << 24);
  ASSERT_EQ(tbl8.entries().size(), size_t(kTbl8Groups) * 256);
  Lpm4Table t(tbl24.entries(), tbl8.entries());
  ReferenceLpm ref(Family::V4);
  std::mt19937_64 rng(11);
  const auto routes = nested_table(Family::V4, 8000, rng);
  for (const auto& r : routes) {
    ASSERT_TRUE(t.insert(r.prefix, r.action).ok());
    ref.insert(r.prefix, r.action);
  }
  // Some deletes so collapsed groups and restored covers are exercised too.
  for (size_t i = 0; i < routes.size(); i += 5)
    if (ref.remove(routes[i].prefix)) {
      ASSERT_TRUE(t.remove(routes[i].prefix).ok());
    }
  EXPECT_EQ(check(Family::V4, t, ref, probe_addresses(Family::V4, routes, 300000, rng)), 0u);
}

TEST_F(LpmBpfTest, Ipv6MatchesReference) {
  auto root = map(skel_->maps.lpm6_root);
  auto nodes = map(skel_->maps.lpm6_nodes);
  Lpm6Table t(root.entries(), nodes.entries());
  ReferenceLpm ref(Family::V6);
  std::mt19937_64 rng(12);
  const auto routes = nested_table(Family::V6, 2000, rng);
  for (const auto& r : routes) {
    ASSERT_TRUE(t.insert(r.prefix, r.action).ok());
    ref.insert(r.prefix, r.action);
  }
  for (size_t i = 0; i < routes.size(); i += 5)
    if (ref.remove(routes[i].prefix)) {
      ASSERT_TRUE(t.remove(routes[i].prefix).ok());
    }
  EXPECT_EQ(check(Family::V6, t, ref, probe_addresses(Family::V6, routes, 300000, rng)), 0u);
}

TEST_F(LpmBpfTest, PuntedRangeVisibleToBpf) {
  auto tbl24 = map(skel_->maps.lpm4_tbl24);
  auto tbl8 = map(skel_->maps.lpm4_tbl8);
  // Give the writer only one group of the map: the second /24 must punt.
  Lpm4Table t(tbl24.entries(), tbl8.entries().first(256));
  ASSERT_TRUE(t.insert(*Prefix::parse("10.0.0.0/8"), fpm_act_make(FPM_ACT_FORWARD, 8)).ok());
  ASSERT_TRUE(t.insert(*Prefix::parse("10.0.0.1/32"), fpm_act_make(FPM_ACT_FORWARD, 1)).ok());
  ASSERT_FALSE(t.insert(*Prefix::parse("10.0.1.1/32"), fpm_act_make(FPM_ACT_FORWARD, 2)).ok());
  ReferenceLpm ref(Family::V4);
  ref.insert(*Prefix::parse("10.0.0.0/8"), fpm_act_make(FPM_ACT_FORWARD, 8));
  ref.insert(*Prefix::parse("10.0.0.1/32"), fpm_act_make(FPM_ACT_FORWARD, 1));
  ref.insert(*Prefix::parse("10.0.1.0/24"), fpm_act_make(FPM_ACT_PUNT, FPM_REASON_OFFLOAD_FAILED));
  std::mt19937_64 rng(13);
  std::vector<IpAddr> probes;
  for (int i = 0; i < 20000; ++i)
    probes.push_back(random_inside(*Prefix::parse("10.0.0.0/22"), rng));
  EXPECT_EQ(check(Family::V4, t, ref, probes), 0u);
}

}  // namespace
}  // namespace fpm_sink::lpm
