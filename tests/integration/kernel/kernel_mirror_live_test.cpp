// The rtnetlink mirror against a real kernel, inside a private network namespace
// the test process enters with unshare(CLONE_NEWNET): everything it creates
// vanishes with the process.
#include "kernel/kernel_mirror.hpp"
#include "kernel/neighbour_refresh.hpp"

#include <gtest/gtest.h>
#include <linux/neighbour.h>
#include <sched.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <string>

namespace fpm_sink {
namespace {

class KernelMirrorLive : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (geteuid() != 0) return;
    ASSERT_EQ(unshare(CLONE_NEWNET), 0) << "unshare(CLONE_NEWNET)";
    sh("ip link set lo up");
    sh("ip link add fs-a type veth peer name fs-b");
    sh("ip link set fs-a address 02:00:00:00:aa:01 mtu 1400");
    sh("ip link set fs-a up && ip link set fs-b up");
    sh("ip addr add 198.51.100.1/24 dev fs-a");
  }
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root for a private network namespace";
  }
  static void sh(const std::string& cmd) { ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd; }
  // Runs the io_context until pred() holds or the timeout passes.
  bool poll_until(boost::asio::io_context& io, const std::function<bool()>& pred,
                  std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!pred()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      io.run_for(std::chrono::milliseconds(20));
      io.restart();
    }
    return true;
  }
};

TEST_F(KernelMirrorLive, DumpSeesLinksAndAddresses) {
  boost::asio::io_context io;
  KernelState state;
  KernelMirror mirror(io, state);
  ASSERT_TRUE(mirror.start().ok());
  const LinkInfo* a = state.link_by_name("fs-a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(mac_to_string(a->mac), "02:00:00:00:aa:01");
  EXPECT_EQ(a->mtu, 1400u);
  EXPECT_TRUE(a->up);
  EXPECT_TRUE(state.is_local(*IpAddr::parse("198.51.100.1")));
  EXPECT_FALSE(state.is_local(*IpAddr::parse("198.51.100.2")));
}

TEST_F(KernelMirrorLive, EventsFollowNeighboursAndLinks) {
  boost::asio::io_context io;
  KernelState state;
  KernelMirror mirror(io, state);
  ASSERT_TRUE(mirror.start().ok());
  const uint32_t ifindex = state.link_by_name("fs-a")->ifindex;
  const IpAddr gw = *IpAddr::parse("198.51.100.2");

  sh("ip neigh replace 198.51.100.2 lladdr 02:00:00:00:bb:02 nud permanent dev fs-a");
  ASSERT_TRUE(poll_until(io, [&] {
    const NeighInfo* n = state.neighbour(gw, ifindex);
    return n && n->state == NeighState::Usable;
  }));
  EXPECT_EQ(mac_to_string(state.neighbour(gw, ifindex)->mac), "02:00:00:00:bb:02");

  sh("ip neigh del 198.51.100.2 dev fs-a");
  ASSERT_TRUE(poll_until(io, [&] { return state.neighbour(gw, ifindex) == nullptr; }));

  sh("ip link set fs-b down");  // carrier goes away on the peer's side
  ASSERT_TRUE(poll_until(io, [&] { return !state.link(ifindex)->up; }));
  sh("ip link set fs-b up");
  ASSERT_TRUE(poll_until(io, [&] { return state.link(ifindex)->up; }));

  sh("ip addr add 2001:db8:5::1/64 dev fs-a nodad");
  ASSERT_TRUE(poll_until(io, [&] { return state.is_local(*IpAddr::parse("2001:db8:5::1")); }));
  EXPECT_EQ(mirror.stats().malformed, 0u);
}

// The forwarding switches from the RTM_GETNETCONF dump and from netconf events,
// per port and IPv6's "all"; a port's switches go with the port.
TEST_F(KernelMirrorLive, ForwardingSwitchesFollowTheSysctls) {
  sh("sysctl -qw net.ipv4.conf.fs-a.forwarding=1 net.ipv6.conf.all.forwarding=1");
  boost::asio::io_context io;
  KernelState state;
  KernelMirror mirror(io, state);
  ASSERT_TRUE(mirror.start().ok());
  const auto a = static_cast<int32_t>(state.link_by_name("fs-a")->ifindex);
  const auto b = static_cast<int32_t>(state.link_by_name("fs-b")->ifindex);
  EXPECT_EQ(state.forwarding(Family::V4, a), true);
  EXPECT_EQ(state.forwarding(Family::V6, a), true);  // "all" was copied to every port
  EXPECT_EQ(state.forwarding(Family::V6, kNetconfIfindexAll), true);
  EXPECT_EQ(state.forwarding(Family::V4, kNetconfIfindexAll), std::nullopt);

  sh("sysctl -qw net.ipv4.conf.fs-a.forwarding=0");
  ASSERT_TRUE(poll_until(io, [&] { return state.forwarding(Family::V4, a) == false; }));
  EXPECT_EQ(state.forwarding(Family::V6, a), true);
  sh("sysctl -qw net.ipv6.conf.fs-a.forwarding=0");
  ASSERT_TRUE(poll_until(io, [&] { return state.forwarding(Family::V6, a) == false; }));
  sh("sysctl -qw net.ipv4.conf.fs-a.forwarding=1 net.ipv6.conf.fs-a.forwarding=1");
  ASSERT_TRUE(poll_until(io, [&] {
    return state.forwarding(Family::V4, a) == true && state.forwarding(Family::V6, a) == true;
  }));
  sh("sysctl -qw net.ipv6.conf.all.forwarding=0");
  ASSERT_TRUE(poll_until(io, [&] {
    return state.forwarding(Family::V6, kNetconfIfindexAll) == false &&
           state.forwarding(Family::V6, a) == false;
  }));
  sh("sysctl -qw net.ipv6.conf.all.forwarding=1");
  ASSERT_TRUE(poll_until(io, [&] {
    return state.forwarding(Family::V6, kNetconfIfindexAll) == true &&
           state.forwarding(Family::V6, a) == true;
  }));

  // A new port reports its switches; removed, they go.
  sh("ip link add fs-c type veth peer name fs-d");
  ASSERT_TRUE(poll_until(io, [&] {
    const LinkInfo* c = state.link_by_name("fs-c");
    return c && state.forwarding(Family::V4, static_cast<int32_t>(c->ifindex)).has_value();
  }));
  const auto c = static_cast<int32_t>(state.link_by_name("fs-c")->ifindex);
  sh("ip link del fs-c");
  ASSERT_TRUE(poll_until(
      io, [&] { return !state.forwarding(Family::V4, c) && !state.forwarding(Family::V6, c); }));
  EXPECT_TRUE(state.forwarding(Family::V4, b).has_value());
  EXPECT_EQ(mirror.stats().malformed, 0u);
  sh("sysctl -qw net.ipv4.conf.fs-a.forwarding=0 net.ipv6.conf.all.forwarding=0");
}

// The fast path forwards without the kernel seeing the traffic: NTF_USE is what
// makes the kernel re-probe a STALE entry, confirm a live neighbour and fail a
// dead one (which the mirror then reports as Failed).
TEST_F(KernelMirrorLive, RefreshReprobesStaleNeighboursAndFailsDeadOnes) {
  sh("sysctl -qw net.ipv4.neigh.fs-a.delay_first_probe_time=1");
  sh("sysctl -qw net.ipv4.neigh.fs-a.retrans_time_ms=100");
  sh("sysctl -qw net.ipv4.neigh.fs-a.ucast_solicit=1 net.ipv4.neigh.fs-a.mcast_solicit=1");
  // A live neighbour: fs-b answers for it. Both ends share this namespace, so fs-b
  // must accept ARP from one of its own addresses.
  sh("ip addr add 198.51.100.3/32 dev fs-b");
  sh("sysctl -qw net.ipv4.conf.fs-b.accept_local=1 net.ipv4.conf.fs-b.rp_filter=0 "
     "net.ipv4.conf.all.rp_filter=0");
  boost::asio::io_context io;
  KernelState state;
  KernelMirror mirror(io, state);
  ASSERT_TRUE(mirror.start().ok());
  const uint32_t ifindex = state.link_by_name("fs-a")->ifindex;
  const IpAddr live = *IpAddr::parse("198.51.100.3");
  const IpAddr dead = *IpAddr::parse("198.51.100.4");
  sh("ip neigh replace 198.51.100.3 lladdr " + mac_to_string(state.link_by_name("fs-b")->mac) +
     " nud stale dev fs-a");
  sh("ip neigh replace 198.51.100.4 lladdr 02:00:00:00:bb:04 nud stale dev fs-a");
  ASSERT_TRUE(poll_until(io, [&] {
    const NeighInfo* a = state.neighbour(live, ifindex);
    const NeighInfo* b = state.neighbour(dead, ifindex);
    return a && b && a->nud == NUD_STALE && b->nud == NUD_STALE;
  }));
  EXPECT_EQ(state.neighbour(dead, ifindex)->state, NeighState::Usable);

  NeighbourRefreshOptions opts;
  opts.period = std::chrono::seconds(0);  // driven by hand below
  NeighbourRefresher refresher(io, opts, [&] {
    return std::vector<NeighbourRefresher::Key>{{live, ifindex}, {dead, ifindex}};
  });
  ASSERT_TRUE(refresher.start().ok());
  EXPECT_EQ(refresher.refresh_some(10), 2u);
  EXPECT_EQ(refresher.stats().rejected, 0u);

  // STALE + used: DELAY, then a unicast probe; the live one is confirmed.
  ASSERT_TRUE(poll_until(
      io, [&] { return state.neighbour(live, ifindex)->nud == NUD_REACHABLE; },
      std::chrono::seconds(10)))
      << "nud " << state.neighbour(live, ifindex)->nud;
  EXPECT_EQ(state.neighbour(live, ifindex)->state, NeighState::Usable);
  // Nobody answers for the dead one: FAILED, and the mirror says so.
  ASSERT_TRUE(poll_until(
      io,
      [&] {
        const NeighInfo* n = state.neighbour(dead, ifindex);
        return !n || n->state == NeighState::Failed;
      },
      std::chrono::seconds(10)));
  ASSERT_NE(state.neighbour(dead, ifindex), nullptr);
  EXPECT_EQ(state.neighbour(dead, ifindex)->state, NeighState::Failed);

  // A neighbour the kernel does not have is not created by a refresh.
  const IpAddr absent = *IpAddr::parse("198.51.100.9");
  ASSERT_TRUE(refresher.mark_used({absent, ifindex}).ok());
  io.run_for(std::chrono::milliseconds(200));
  io.restart();
  EXPECT_EQ(state.neighbour(absent, ifindex), nullptr);
}

}  // namespace
}  // namespace fpm_sink
