#include "app/fpm_server.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include "app/offload_feedback.hpp"
#include "app_test_util.hpp"
#include "dataplane/fake_map_writer.hpp"

namespace fpm_sink {
namespace {

using namespace test;
using tcp = boost::asio::ip::tcp;
using namespace std::chrono_literals;

// zebra's side: a blocking client on its own io_context. Writes land in the
// kernel buffer, so the test thread can then drive the server's io_context.
class Zebra {
 public:
  // `source`: the local address to connect from (another loopback address
  // stands for another host).
  explicit Zebra(uint16_t port, const char* source = nullptr) : socket_(io_) {
    if (source) {
      socket_.open(tcp::v4());
      socket_.bind(tcp::endpoint(boost::asio::ip::make_address(source), 0));
    }
    socket_.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
  }
  void send(const std::vector<uint8_t>& bytes) {
    boost::asio::write(socket_, boost::asio::buffer(bytes));
  }
  void close() { socket_.close(); }
  // Appends whatever the server has written so far, without blocking.
  void read_available(std::vector<uint8_t>& into) {
    socket_.non_blocking(true);
    uint8_t buf[65536];
    boost::system::error_code ec;
    for (size_t n; (n = socket_.read_some(boost::asio::buffer(buf), ec)) > 0 && !ec;)
      into.insert(into.end(), buf, buf + n);
  }
  // True once the server has closed its end.
  bool closed_by_peer() {
    socket_.non_blocking(true);
    uint8_t b;
    boost::system::error_code ec;
    socket_.read_some(boost::asio::buffer(&b, 1), ec);
    return ec == boost::asio::error::eof || ec == boost::asio::error::connection_reset;
  }

 private:
  boost::asio::io_context io_;
  tcp::socket socket_;
};

class FpmServerTest : public ::testing::Test {
 protected:
  void start(std::chrono::milliseconds sweep_delay) {
    server_ = std::make_unique<FpmServer>(io_, rib_, sweep_delay);
    server_->set_peer_policy(only_users({geteuid()}));
    ASSERT_TRUE(server_->listen({"127.0.0.1", 0}));
    ASSERT_NE(server_->port(), 0);
  }
  static PeerPolicy only_users(std::vector<uid_t> uids) {
    PeerPolicy p;
    p.allowed_uids = std::move(uids);
    return p;
  }
  bool poll(const std::function<bool()>& pred) { return poll_until(io_, pred); }
  bool has(const char* prefix) { return rib_.find_route(254, pfx(prefix)) != nullptr; }
  const FpmSessionStatus& status() { return server_->status(); }

  boost::asio::io_context io_;
  Rib rib_;
  std::unique_ptr<FpmServer> server_;
};

const auto kA = [] { return frame_of({inline_route("10.0.0.0/24", "192.0.2.1", 2)}); };
const auto kB = [] { return frame_of({inline_route("10.0.1.0/24", "192.0.2.1", 2)}); };

TEST_F(FpmServerTest, AcceptsAndAppliesFrames) {
  start(10s);
  Zebra z(server_->port());
  z.send(
      concat({frame_of({single_nh(12, "10.0.0.2", 3)}), frame_of({nhg_route("10.1.0.0/24", 12)})}));
  ASSERT_TRUE(poll([&] { return has("10.1.0.0/24"); }));
  EXPECT_TRUE(status().connected);
  EXPECT_EQ(status().sessions_accepted, 1u);
  EXPECT_EQ(status().replay, ReplayState::Replaying);
  EXPECT_EQ(server_->ingest_stats().frames, 2u);
  EXPECT_NE(status().connected_since, 0);
  EXPECT_EQ(status().peer.rfind("127.0.0.1:", 0), 0u) << status().peer;
}

TEST_F(FpmServerTest, ReplayCaughtUpNeedsASessionThatSentSomethingThenWentQuiet) {
  start(10s);
  EXPECT_FALSE(server_->replay_caught_up(0ms));  // no zebra yet
  Zebra z(server_->port());
  ASSERT_TRUE(poll([&] { return status().connected; }));
  EXPECT_FALSE(server_->replay_caught_up(0ms));  // connected, nothing sent
  z.send(kA());
  ASSERT_TRUE(poll([&] { return has("10.0.0.0/24"); }));
  EXPECT_TRUE(server_->replay_caught_up(0ms));
  EXPECT_FALSE(server_->replay_caught_up(1h));  // not quiet for that long
  // A new session starts a new replay: what the old one sent does not count.
  Zebra z2(server_->port());
  ASSERT_TRUE(poll([&] { return status().sessions_replaced == 1; }));
  EXPECT_FALSE(server_->replay_caught_up(0ms));
}

TEST_F(FpmServerTest, NewConnectionReplacesTheOldOne) {
  start(10s);
  Zebra z1(server_->port());
  z1.send(kA());
  ASSERT_TRUE(poll([&] { return has("10.0.0.0/24"); }));
  Zebra z2(server_->port());
  ASSERT_TRUE(poll([&] { return status().sessions_replaced == 1; }));
  ASSERT_TRUE(poll([&] { return z1.closed_by_peer(); }));
  z2.send(kB());
  ASSERT_TRUE(poll([&] { return has("10.0.1.0/24"); }));
  EXPECT_TRUE(status().connected);
  EXPECT_EQ(status().sessions_accepted, 2u);
  EXPECT_TRUE(has("10.0.0.0/24"));  // stale until the sweep, never dropped on replace
}

TEST_F(FpmServerTest, RefusedPeerNeverReplacesTheSession) {
  start(10s);
  auto policy = only_users({geteuid()});
  policy.allowed_peers = {boost::asio::ip::make_address("127.0.0.1")};
  server_->set_peer_policy(policy);
  Zebra z1(server_->port());
  z1.send(kA());
  ASSERT_TRUE(poll([&] { return has("10.0.0.0/24"); }));
  Zebra intruder(server_->port(), "127.0.0.2");  // not on the address list
  intruder.send(kB());
  ASSERT_TRUE(poll([&] { return status().peers_refused == 1; }));
  ASSERT_TRUE(poll([&] { return intruder.closed_by_peer(); }));
  EXPECT_EQ(status().sessions_accepted, 1u);
  EXPECT_EQ(status().sessions_replaced, 0u);
  EXPECT_TRUE(status().connected);
  // zebra's session is still the live one, and the intruder's route never landed.
  z1.send(frame_of({inline_route("10.0.2.0/24", "192.0.2.1", 2)}));
  ASSERT_TRUE(poll([&] { return has("10.0.2.0/24"); }));
  EXPECT_FALSE(has("10.0.1.0/24"));
  EXPECT_FALSE(z1.closed_by_peer());
}

TEST_F(FpmServerTest, ReloadThatRefusesTheLivePeerEndsItsSession) {
  start(10s);
  Zebra z(server_->port());
  z.send(kA());
  ASSERT_TRUE(poll([&] { return has("10.0.0.0/24"); }));
  server_->set_peer_policy(only_users({geteuid()}));  // still allowed: nothing happens
  EXPECT_TRUE(status().connected);
  EXPECT_EQ(status().peers_refused, 0u);

  server_->set_peer_policy(only_users({geteuid() + 1}));
  EXPECT_FALSE(status().connected);
  EXPECT_EQ(status().peers_refused, 1u);
  ASSERT_TRUE(poll([&] { return z.closed_by_peer(); }));
  EXPECT_TRUE(has("10.0.0.0/24")) << "a session that ends keeps its routes (the hold decides)";
  z.send(kB());  // too late: nothing reads it
  io_.run_for(50ms);
  EXPECT_FALSE(has("10.0.1.0/24"));
}

TEST_F(FpmServerTest, PeerNotOnTheAddressListIsRefused) {
  start(10s);
  auto policy = only_users({geteuid()});
  policy.allowed_peers = {boost::asio::ip::make_address("127.0.0.2")};
  server_->set_peer_policy(policy);
  Zebra z(server_->port());  // connects from 127.0.0.1
  z.send(kA());
  ASSERT_TRUE(poll([&] { return status().peers_refused == 1; }));
  ASSERT_TRUE(poll([&] { return z.closed_by_peer(); }));
  EXPECT_EQ(status().sessions_accepted, 0u);
  EXPECT_FALSE(has("10.0.0.0/24"));
}

TEST_F(FpmServerTest, SweepsWhatTheReplayDidNotRefresh) {
  start(150ms);
  Zebra z1(server_->port());
  z1.send(concat({kA(), kB()}));
  ASSERT_TRUE(poll([&] { return status().replay == ReplayState::Settled; }));
  EXPECT_TRUE(has("10.0.0.0/24"));
  EXPECT_TRUE(has("10.0.1.0/24"));
  z1.close();
  ASSERT_TRUE(poll([&] { return !status().connected; }));
  EXPECT_TRUE(has("10.0.1.0/24"));  // a disconnect flushes nothing

  Zebra z2(server_->port());
  z2.send(kA());  // zebra no longer has B
  ASSERT_TRUE(poll(
      [&] { return status().sessions_accepted == 2 && status().replay == ReplayState::Settled; }));
  EXPECT_TRUE(has("10.0.0.0/24"));
  EXPECT_FALSE(has("10.0.1.0/24"));
  EXPECT_EQ(status().last_sweep, 1u);
  EXPECT_EQ(rib_.stats().swept_routes, 1u);
}

TEST_F(FpmServerTest, DisconnectDuringReplayKeepsEverything) {
  start(100ms);
  {
    Zebra z1(server_->port());
    z1.send(concat({kA(), kB()}));
    ASSERT_TRUE(poll([&] { return status().replay == ReplayState::Settled; }));
  }
  {
    Zebra z2(server_->port());
    z2.send(kA());
    z2.close();  // gone before the stream settled
  }
  ASSERT_TRUE(poll([&] { return status().sessions_accepted == 2 && !status().connected; }));
  EXPECT_EQ(status().replay, ReplayState::Idle);
  // Several sweep delays pass with nobody connected: nothing may be swept.
  poll_until(
      io_, [] { return false; }, 400ms);
  EXPECT_TRUE(has("10.0.0.0/24"));
  EXPECT_TRUE(has("10.0.1.0/24"));
  EXPECT_EQ(rib_.stats().swept_routes, 0u);
}

TEST_F(FpmServerTest, BadHeaderClosesSessionAndNextOneWorks) {
  start(10s);
  Zebra z1(server_->port());
  z1.send(concat({kA(), {7, 1, 0, 4}}));
  ASSERT_TRUE(
      poll([&] { return server_->ingest_stats().framing_errors == 1 && !status().connected; }));
  ASSERT_TRUE(poll([&] { return z1.closed_by_peer(); }));
  EXPECT_TRUE(has("10.0.0.0/24"));  // frames before the bad header were applied

  Zebra z2(server_->port());
  z2.send(kB());
  ASSERT_TRUE(poll([&] { return has("10.0.1.0/24"); }));
  EXPECT_TRUE(status().connected);
}

TEST_F(FpmServerTest, ListenFailureIsAnError) {
  start(10s);
  FpmServer other(io_, rib_, 1s);
  auto st = other.listen({"127.0.0.1", server_->port()});
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().id, "app.fpm.listen");
}

TEST_F(FpmServerTest, ListensOnIpv6Loopback) {
  server_ = std::make_unique<FpmServer>(io_, rib_, 10s);
  auto st = server_->listen({"::1", 0});
  if (!st) GTEST_SKIP() << "no IPv6 loopback here: " << st.error().to_string();
  EXPECT_EQ(status().listen.rfind("[::1]:", 0), 0u) << status().listen;
}

// Offload replies reach zebra on the session that sent the routes, one frame
// per route; a zebra that never reads holds back neither ingest nor memory.
class FpmServerFeedbackTest : public FpmServerTest {
 protected:
  FpmServerFeedbackTest() {
    LinkEntry link{{2, 0, 0, 0, 0, 1}, 1500, true};
    link.forward_v4 = true;
    kernel_.set_link(3, link);
    kernel_.set_neighbour(ip("10.0.0.2"), 3, {{2, 0, 0, 0, 1, 1}, true});
    rib_.set_observer(&fast_path_);
  }
  ~FpmServerFeedbackTest() override {
    if (server_) server_->set_feedback(nullptr);
    rib_.set_observer(nullptr);
  }
  void start_with_feedback() {
    server_ = std::make_unique<FpmServer>(io_, rib_, 10s);
    server_->set_peer_policy(only_users({geteuid()}));
    server_->set_feedback(&feedback_);
    ASSERT_TRUE(server_->listen({"127.0.0.1", 0}));
  }
  static size_t frames_in(const std::vector<uint8_t>& bytes) {
    size_t n = 0;
    for (size_t off = 0; off + 4 <= bytes.size();
         off += size_t{bytes[off + 2]} << 8 | bytes[off + 3])
      ++n;
    return n;
  }

  StaticKernelView kernel_;
  FakeMapWriter writer_;
  FibOffload fast_path_{FibOffloadLimits{}, writer_, kernel_, kernel_, rib_};
  OffloadFeedback feedback_{rib_, fast_path_, nullptr};
};

TEST_F(FpmServerFeedbackTest, EachRouteIsAnsweredOnItsSession) {
  start_with_feedback();
  Zebra z(server_->port());
  z.send(concat({frame_of({single_nh(12, "10.0.0.2", 3)}), frame_of({nhg_route("10.1.0.0/24", 12)}),
                 frame_of({nhg_route("10.2.0.0/24", 12)})}));
  std::vector<uint8_t> got;
  ASSERT_TRUE(poll([&] {
    z.read_available(got);
    return frames_in(got) >= 2;
  }));
  EXPECT_EQ(frames_in(got), 2u);
  EXPECT_EQ(feedback_.stats().offloaded, 2u);
}

TEST_F(FpmServerFeedbackTest, AZebraThatNeverReadsDoesNotHoldBackIngest) {
  start_with_feedback();
  Zebra z(server_->port());
  constexpr int kRoutes = 200000;  // ~12 MB of replies: far beyond the socket buffers
  std::vector<uint8_t> stream = frame_of({single_nh(12, "10.0.0.2", 3)});
  std::atomic<int> sent = 0;
  // Writes block once the server stops reading, so feed from a second thread.
  std::thread feeder([&] {
    for (int i = 0; i < kRoutes; i++) {
      const std::string p = "10." + std::to_string(i >> 16 & 255) + "." +
                            std::to_string(i >> 8 & 255) + "." + std::to_string(i & 255) + "/32";
      auto f = frame_of({nhg_route(p.c_str(), 12)});
      stream.insert(stream.end(), f.begin(), f.end());
      if (stream.size() > (1 << 20) || i + 1 == kRoutes) {
        z.send(stream);
        stream.clear();
      }
      sent = i + 1;
    }
  });
  const bool all = poll_until(
      io_, [&] { return rib_.stats().routes_v4 == static_cast<uint64_t>(kRoutes); }, 60s);
  feeder.join();
  ASSERT_TRUE(all) << rib_.stats().routes_v4 << " of " << sent.load();
  // What was not written waits in the FibOffload queue, at most once per route.
  EXPECT_LE(fast_path_.offload_changes_queued(), static_cast<size_t>(kRoutes));
  EXPECT_GT(fast_path_.offload_changes_queued(), 0u) << "zebra read nothing, so replies wait";
}

}  // namespace
}  // namespace fpm_sink
