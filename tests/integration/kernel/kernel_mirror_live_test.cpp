// The rtnetlink mirror against a real kernel, inside a private network namespace
// the test process enters with unshare(CLONE_NEWNET): everything it creates
// vanishes with the process.
#include "kernel/kernel_mirror.hpp"

#include <gtest/gtest.h>
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

}  // namespace
}  // namespace fpm_sink
