// The session hold end to end without XDP: FpmServer + Rib + FibOffload over a
// FakeMapWriter, zebra as a TCP client, hold times of a fraction of a second.
#include "app/session_hold.hpp"

#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include "app/fpm_server.hpp"
#include "app_test_util.hpp"
#include "dataplane/fake_map_writer.hpp"
#include "dataplane/fib_offload.hpp"
#include "rib/rib.hpp"

namespace fpm_sink {
namespace {

using namespace test;
using tcp = boost::asio::ip::tcp;
using namespace std::chrono_literals;

constexpr uint32_t kEth = 3;

class Zebra {
 public:
  explicit Zebra(uint16_t port) : socket_(io_) {
    socket_.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
  }
  void send(const std::vector<uint8_t>& bytes) {
    boost::asio::write(socket_, boost::asio::buffer(bytes));
  }
  void close() { socket_.close(); }

 private:
  boost::asio::io_context io_;
  tcp::socket socket_;
};

class SessionHoldTest : public ::testing::Test {
 protected:
  SessionHoldTest() {
    kernel_.set_link(kEth, {EthAddr{2, 0, 0, 0, 0, 3}, 1500, true});
    kernel_.set_neighbour(ip("10.0.0.2"), kEth, {EthAddr{2, 0, 0, 0, 1, 3}, true});
    fast_path_ = std::make_unique<FibOffload>(FibOffloadLimits{}, writer_, kernel_, kernel_, rib_);
    rib_.set_observer(fast_path_.get());
  }
  ~SessionHoldTest() override {
    if (server_) server_->set_hold(nullptr);
    rib_.set_observer(nullptr);
  }
  void start(std::chrono::milliseconds hold_time, std::chrono::milliseconds sweep_delay = 50ms) {
    server_ = std::make_unique<FpmServer>(io_, rib_, sweep_delay);
    hold_ = std::make_unique<SessionHold>(
        io_, hold_time, [this] { return server_->replay_started(); },
        [this](bool withheld) { fast_path_->set_withheld(withheld); });
    server_->set_hold(hold_.get());
    ASSERT_TRUE(server_->listen({"127.0.0.1", 0}));
  }
  bool poll(const std::function<bool()>& pred) { return poll_until(io_, pred); }
  HoldState state() const { return hold_->status().state; }
  // What the maps hold for the prefix (0: nothing).
  uint32_t action(const char* prefix) const {
    auto it = writer_.routes.find(pfx(prefix));
    return it == writer_.routes.end() ? 0 : it->second;
  }
  bool forwards(const char* prefix) const {
    return fpm_act_kind(action(prefix)) == FPM_ACT_FORWARD;
  }
  bool punts_held(const char* prefix) const {
    const auto st = fast_path_->offload_state(254, pfx(prefix));
    return action(prefix) == fpm_act_make(FPM_ACT_PUNT, FPM_REASON_OFFLOAD_FAILED) && st &&
           st->state == OffloadState::NotOffloaded && st->reason == OffloadReason::HoldExpired &&
           st->action == action(prefix);
  }
  // zebra's replay: the group, then the routes; waits until it is swept.
  void replay(Zebra& z, std::initializer_list<const char*> prefixes) {
    std::vector<FpmEvent> events{single_nh(12, "10.0.0.2", kEth)};
    for (const char* p : prefixes) events.push_back(nhg_route(p, 12));
    z.send(frame_of(std::move(events)));
    ASSERT_TRUE(poll([&] { return server_->replay_started(); }));
    ASSERT_TRUE(poll([&] { return server_->status().replay == ReplayState::Settled; }));
  }

  boost::asio::io_context io_;
  StaticKernelView kernel_;
  FakeMapWriter writer_;
  Rib rib_;
  std::unique_ptr<FibOffload> fast_path_;
  std::unique_ptr<FpmServer> server_;
  std::unique_ptr<SessionHold> hold_;
};

TEST_F(SessionHoldTest, RoutesForwardDuringTheHoldPuntAfterItAndForwardAgainAfterAReplay) {
  start(300ms);
  auto z = std::make_unique<Zebra>(server_->port());
  replay(*z, {"192.0.2.0/24", "198.51.100.0/24"});
  ASSERT_TRUE(forwards("192.0.2.0/24"));
  EXPECT_EQ(state(), HoldState::Running);
  EXPECT_EQ(hold_->status().expires_at, 0);

  z->close();
  ASSERT_TRUE(poll([&] { return state() == HoldState::Holding; }));
  EXPECT_NE(hold_->status().expires_at, 0);
  EXPECT_TRUE(forwards("192.0.2.0/24"));  // zebra may only be restarting
  EXPECT_FALSE(fast_path_->withheld());

  ASSERT_TRUE(poll([&] { return state() == HoldState::Expired; }));
  EXPECT_EQ(hold_->status().expiries, 1u);
  EXPECT_NE(hold_->status().expired_at, 0);
  EXPECT_EQ(hold_->status().expires_at, 0);
  EXPECT_TRUE(punts_held("192.0.2.0/24"));
  EXPECT_TRUE(punts_held("198.51.100.0/24"));
  EXPECT_EQ(fast_path_->stats().routes_installed, 0u);
  // The model is kept: show routes still lists them, saying why they punt.
  EXPECT_NE(rib_.find_route(254, pfx("192.0.2.0/24")), nullptr);

  // zebra comes back with one of the two: it forwards again, the other is swept.
  z = std::make_unique<Zebra>(server_->port());
  replay(*z, {"192.0.2.0/24"});
  EXPECT_EQ(state(), HoldState::Running);
  EXPECT_FALSE(fast_path_->withheld());
  EXPECT_TRUE(forwards("192.0.2.0/24"));
  EXPECT_EQ(fast_path_->offload_state(254, pfx("192.0.2.0/24"))->state, OffloadState::Installed);
  EXPECT_EQ(action("198.51.100.0/24"), 0u);
  EXPECT_EQ(rib_.find_route(254, pfx("198.51.100.0/24")), nullptr);
}

TEST_F(SessionHoldTest, AReplayUnderWayAtExpiryKeepsTheRoutesForwarding) {
  // The sweep waits far beyond the hold: the second replay is still running at expiry.
  start(200ms, 2s);
  auto z = std::make_unique<Zebra>(server_->port());
  z->send(frame_of({single_nh(12, "10.0.0.2", kEth), nhg_route("192.0.2.0/24", 12)}));
  ASSERT_TRUE(poll([&] { return forwards("192.0.2.0/24"); }));
  z->close();
  ASSERT_TRUE(poll([&] { return state() == HoldState::Holding; }));
  z = std::make_unique<Zebra>(server_->port());
  z->send(frame_of({single_nh(12, "10.0.0.2", kEth)}));
  ASSERT_TRUE(poll([&] { return server_->replay_started(); }));

  ASSERT_TRUE(poll([&] { return state() == HoldState::Running; }));
  EXPECT_EQ(hold_->status().expiries, 0u);
  EXPECT_FALSE(fast_path_->withheld());
  EXPECT_TRUE(forwards("192.0.2.0/24"));
}

TEST_F(SessionHoldTest, ZeroHoldsForever) {
  start(0ms);
  auto z = std::make_unique<Zebra>(server_->port());
  replay(*z, {"192.0.2.0/24"});
  z->close();
  ASSERT_TRUE(poll([&] { return state() == HoldState::Holding; }));
  EXPECT_EQ(hold_->status().expires_at, 0);
  // Nothing is scheduled: the io_context runs dry instead of expiring the hold.
  io_.restart();
  io_.run_for(300ms);
  EXPECT_EQ(state(), HoldState::Holding);
  EXPECT_TRUE(forwards("192.0.2.0/24"));
}

}  // namespace
}  // namespace fpm_sink
