// Differential test of the reported per-route offload state against the live
// BPF maps: with tables small enough to run out of tbl8 groups and IPv6
// nodes, every route reported installed must forward to its group through the
// mmapped maps (the lookup the XDP program runs), every route reported failed
// must punt, before and after withdrawals free space.
#include <bpf/bpf.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <thread>
#include <vector>

#include "dataplane/bpf_map_writer.hpp"
#include "dataplane/fake_announced_routes.hpp"
#include "dataplane/fib_offload.hpp"
#include "dataplane/xdp_program.hpp"
#include "ip_literals.hpp"
#include "netns_fixture.hpp"

namespace fpm_sink {
namespace {

using test::A;
using test::P;

constexpr uint32_t kGroup = 1000;
constexpr uint32_t kPort = 5;

class OffloadTruth : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (BPF maps)";
    pin_dir = "/sys/fs/bpf/fpm-sink-truth-" + std::to_string(::getpid());
    ASSERT_TRUE(XdpProgram::unpin_all(pin_dir));
    XdpProgramConfig c;
    c.pin_dir = pin_dir;
    c.v4_tbl8_groups = 4;
    c.v6_nodes = 4;
    c.max_nexthops = 64;
    c.max_groups = 16;
    auto p = XdpProgram::load(c);
    ASSERT_TRUE(p) << p.error().to_string();
    prog = std::move(p.value());
    lpm::LpmOptions lo;
    lo.grace = std::chrono::nanoseconds(0);  // freed nodes are reusable at once
    writer = std::make_unique<BpfMapWriter>(*prog, lo);
    kernel.set_link(kPort, {{2, 0, 0, 0, 0, 5}, 1500, true});
    kernel.set_neighbour(A("10.0.0.1"), kPort, {{2, 0, 0, 0, 9, 1}, true});
    FibOffloadLimits cfg;
    cfg.max_groups = prog->memory().max_groups;
    cfg.max_nexthops = 64;
    fp = std::make_unique<FibOffload>(cfg, *writer, kernel, kernel, announced);
    ResolvedNextHop m;
    m.nh.gateway = A("10.0.0.1");
    m.nh.ifindex = kPort;
    fp->group_changed(ChangeKind::Added, FibGroup{kGroup, false, {m}});
  }
  void TearDown() override {
    fp.reset();
    writer.reset();
    prog.reset();
    if (!pin_dir.empty()) (void)XdpProgram::unpin_all(pin_dir);
  }

  void add(const std::string& s) {
    RouteView r;
    r.prefix = P(s);
    r.group_id = kGroup;
    announced.announce(*fp, ChangeKind::Added, r);
    routes.push_back(r.prefix);
  }
  void withdraw(const std::string& s) {
    RouteView r;
    r.prefix = P(s);
    r.group_id = kGroup;
    announced.announce(*fp, ChangeKind::Removed, r);
    std::erase(routes, r.prefix);
  }

  // An address inside p that no longer route of the RIB covers.
  IpAddr probe_for(const Prefix& p) const {
    const unsigned bits = p.family() == Family::V4 ? 32 : 128;
    for (int pick = 0; pick < 3; ++pick) {
      IpAddr a = p.addr;
      for (unsigned b = p.len; b < bits; ++b) {
        const bool set = pick == 1 || (pick == 2 && b == bits - 1);
        if (set) a.bytes[b / 8] |= uint8_t(0x80 >> (b % 8));
      }
      bool shadowed = false;
      for (const Prefix& q : routes) shadowed |= q.len > p.len && q.contains(a);
      if (!shadowed) return a;
    }
    ADD_FAILURE() << "no probe address for " << p.to_string();
    return p.addr;
  }

  uint32_t live_lookup(const IpAddr& a) const {
    return a.family == Family::V4 ? writer->v4().lookup(a) : writer->v6().lookup(a);
  }

  // The live group index forwards to the RIB group's one next hop.
  void expect_group_is_rib_group(uint32_t index) const {
    fpm_nhg g{};
    ASSERT_EQ(0, bpf_map_lookup_elem(prog->map_fd("fpm_nhg"), &index, &g));
    EXPECT_EQ(g.flags & FPM_NHG_F_VALID, FPM_NHG_F_VALID);
    EXPECT_EQ(g.n_members, 1u);
    fpm_nexthop nh{};
    ASSERT_EQ(0, bpf_map_lookup_elem(prog->map_fd("fpm_nexthops"), &g.buckets[0], &nh));
    EXPECT_EQ(nh.ifindex, kPort);
    EXPECT_EQ(nh.dst_mac[4], 9);
    EXPECT_EQ(nh.dst_mac[5], 1);
  }

  // Every route: installed <=> its probe forwards to its group; failed => punt.
  // Returns how many are reported failed.
  size_t check_every_route() const {
    size_t failed = 0;
    const uint32_t gi = *fp->group_index(kGroup);
    expect_group_is_rib_group(gi);
    for (const Prefix& p : routes) {
      auto st = fp->offload_state(kMainTable, p);
      if (!st) {
        ADD_FAILURE() << p.to_string() << " has no offload record";
        continue;
      }
      const IpAddr probe = probe_for(p);
      const uint32_t live = live_lookup(probe);
      if (st->state == OffloadState::Installed) {
        EXPECT_EQ(live, fpm_act_make(FPM_ACT_FORWARD, gi))
            << p.to_string() << " reported installed but " << probe.to_string() << " looks up 0x"
            << std::hex << live;
      } else {
        ++failed;
        EXPECT_EQ(st->state, OffloadState::Failed) << p.to_string();
        EXPECT_EQ(st->reason, OffloadReason::LpmFull) << p.to_string();
        EXPECT_EQ(fpm_act_kind(live), uint32_t(FPM_ACT_PUNT))
            << p.to_string() << " reported failed but " << probe.to_string() << " looks up 0x"
            << std::hex << live;
      }
    }
    return failed;
  }

  std::string pin_dir;
  std::unique_ptr<XdpProgram> prog;
  std::unique_ptr<BpfMapWriter> writer;
  StaticKernelView kernel;
  FakeAnnouncedRoutes announced;  // before fp: it holds the routes fp reads
  std::unique_ptr<FibOffload> fp;
  std::vector<Prefix> routes;
};

TEST_F(OffloadTruth, ReportedStateMatchesTheLiveTablesThroughExhaustionAndRecovery) {
  // IPv4: a /24 then a /25 inside it, in eight /24s: the /25s need one tbl8
  // group each, there are four.
  for (int k = 0; k < 8; ++k) {
    add("10.1." + std::to_string(k) + ".0/24");
    add("10.1." + std::to_string(k) + ".128/25");
  }
  // IPv6: a /24 (a root entry) then a /40 inside it (two nodes), in four
  // /24s: there are four nodes.
  for (int k = 1; k <= 4; ++k) {
    add("2001:" + std::to_string(k) + "00::/24");
    add("2001:" + std::to_string(k) + "00:100::/40");
  }
  const size_t failed_full = check_every_route();
  EXPECT_GT(failed_full, 0u) << "the tables never ran out: the test proves nothing";
  EXPECT_GT(writer->v4().stats().failed_ranges, 0u);
  EXPECT_GT(writer->v6().stats().failed_ranges, 0u);

  // Free space, then let poll() rebuild the punted ranges.
  for (int k = 0; k < 4; ++k) withdraw("10.1." + std::to_string(k) + ".128/25");
  for (int k = 1; k <= 2; ++k) withdraw("2001:" + std::to_string(k) + "00:100::/40");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (fp->stats().routes_failed > 0 && std::chrono::steady_clock::now() < deadline) {
    fp->poll();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(check_every_route(), 0u);
  EXPECT_EQ(writer->v4().stats().failed_ranges, 0u);
  EXPECT_EQ(writer->v6().stats().failed_ranges, 0u);
}

}  // namespace
}  // namespace fpm_sink
