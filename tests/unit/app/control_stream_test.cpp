// `show routes` over the control socket in parts: the same answer as one
// Response, ingest running during the dump, and what slow, stalled or
// vanishing clients can cost the daemon.
#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <filesystem>
#include <future>

#include "app/control_handler.hpp"
#include "app/fpm_server.hpp"
#include "app_test_util.hpp"
#include "control/client.hpp"
#include "control/codec.hpp"
#include "control/route_dump.hpp"
#include "control/server.hpp"

namespace fpm_sink {
namespace {

using namespace test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
using local = boost::asio::local::stream_protocol;

constexpr uint32_t kRoutes = 50000;

std::string v4(uint32_t i) {
  return "10." + std::to_string(i >> 16 & 0xff) + "." + std::to_string(i >> 8 & 0xff) + "." +
         std::to_string(i & 0xff) + "/32";
}

class ControlStreamTest : public ::testing::Test {
 protected:
  void start(control::ServerLimits limits = {}) {
    char tmpl[] = "/tmp/fpm-sink-stream-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = (dir_ / "control.sock").string();
    fpm_ = std::make_unique<FpmServer>(io_, rib_, 10s);
    ASSERT_TRUE(fpm_->listen({"127.0.0.1", 0}));
    ctl_ = std::make_unique<control::ControlServer>(
        io_, [this](const control::Request& r) { return handle_control_request(r, rib_, *fpm_); },
        limits);
    ASSERT_TRUE(ctl_->open(path_));
    ASSERT_TRUE(rib_.apply(FpmEvent{single_nh(12, "10.255.0.2", 3)}));
    for (uint32_t i = 0; i < kRoutes; ++i) {
      auto r = nhg_route("10.0.0.0/32", 12);
      r.prefix = pfx(v4(i).c_str());
      ASSERT_TRUE(rib_.apply(FpmEvent{r}));
    }
  }
  void TearDown() override {
    ctl_.reset();
    fpm_.reset();
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  template <typename Fn>
  auto in_thread(Fn fn) {
    auto fut = std::async(std::launch::async, std::move(fn));
    EXPECT_TRUE(poll_until(
        io_, [&] { return fut.wait_for(0s) == std::future_status::ready; }, 30s));
    return fut.get();
  }

  // A client that sends its request and then does whatever the test says.
  std::unique_ptr<local::socket> raw_client(bool accept_parts) {
    auto s = std::make_unique<local::socket>(client_io_);
    s->connect(local::endpoint(path_));
    control::Request req;
    req.mutable_show_routes();
    req.set_accept_parts(accept_parts);
    auto bytes = control::encode_message(req, control::kMaxRequestSize);
    boost::asio::write(*s, boost::asio::buffer(bytes.value()));
    return s;
  }

  static control::Response read_response(local::socket& s) {
    std::array<uint8_t, 4> len{};
    boost::asio::read(s, boost::asio::buffer(len));
    std::vector<uint8_t> body(control::decode_length(len));
    boost::asio::read(s, boost::asio::buffer(body));
    control::Response r;
    EXPECT_TRUE(r.ParseFromArray(body.data(), static_cast<int>(body.size())));
    return r;
  }

  fs::path dir_;
  std::string path_;
  boost::asio::io_context io_;
  boost::asio::io_context client_io_;
  Rib rib_;
  std::unique_ptr<FpmServer> fpm_;
  std::unique_ptr<control::ControlServer> ctl_;
};

TEST_F(ControlStreamTest, PartsMergeIntoWhatAnOlderClientGetsInOnePiece) {
  start();
  control::Request req;
  req.mutable_show_routes();
  size_t parts = 0, last_parts = 0;
  control::Response merged;
  auto st = in_thread([&] {
    return control::call_parts(path_, req, [&](control::Response&& part) {
      ++parts;
      last_parts += !part.more();
      merged.MergeFrom(part);
    });
  });
  ASSERT_TRUE(st) << st.error().to_string();
  EXPECT_GE(parts, kRoutes / control::RouteDump::kMaxPartRoutes);
  EXPECT_EQ(last_parts, 1u);
  ASSERT_EQ(merged.routes().routes_size(), static_cast<int>(kRoutes));
  merged.clear_more();

  // No accept_parts: one Response with everything.
  auto client = raw_client(false);
  auto whole = in_thread([&] { return read_response(*client); });
  EXPECT_FALSE(whole.more());
  EXPECT_EQ(whole.SerializeAsString(), merged.SerializeAsString());
  EXPECT_EQ(ctl_->active_streams(), 0u);
}

TEST_F(ControlStreamTest, StalledClientHoldsOnePartAndIngestGoesOn) {
  start();
  auto client = raw_client(true);  // never reads
  // The server fills the socket buffer, then has one part in flight and stops.
  size_t peak = 0;
  ASSERT_TRUE(poll_until(io_, [&] {
    peak = std::max(peak, ctl_->buffered_bytes());
    return ctl_->buffered_bytes() > 0;
  }));
  const auto until = std::chrono::steady_clock::now() + 300ms;
  poll_until(io_, [&] {
    peak = std::max(peak, ctl_->buffered_bytes());
    return std::chrono::steady_clock::now() >= until;
  });
  EXPECT_EQ(ctl_->active_streams(), 1u);
  // One part of at most kMaxPartRoutes routes, ~110 bytes each here.
  EXPECT_LE(peak, control::RouteDump::kMaxPartRoutes * 256);

  // FPM ingest is not held up by the stalled dump.
  boost::asio::io_context zebra_io;
  boost::asio::ip::tcp::socket zebra(zebra_io);
  zebra.connect({boost::asio::ip::make_address("127.0.0.1"), fpm_->port()});
  boost::asio::write(zebra, boost::asio::buffer(frame_of({nhg_route("192.0.2.0/24", 12)})));
  ASSERT_TRUE(poll_until(io_, [&] { return rib_.find_route(254, pfx("192.0.2.0/24")); }));

  // The client goes away: its stream and buffer go with it.
  client->close();
  ASSERT_TRUE(poll_until(io_, [&] { return ctl_->active_streams() == 0; }));
  EXPECT_EQ(ctl_->buffered_bytes(), 0u);
}

TEST_F(ControlStreamTest, ClientLeavingMidDumpFreesItAll) {
  start();
  auto client = raw_client(true);
  auto first = in_thread([&] { return read_response(*client); });
  ASSERT_TRUE(first.has_routes());
  EXPECT_TRUE(first.more());
  EXPECT_EQ(ctl_->active_streams(), 1u);
  client.reset();
  ASSERT_TRUE(poll_until(io_, [&] { return ctl_->active_streams() == 0; }));
  EXPECT_EQ(ctl_->buffered_bytes(), 0u);

  // The server lives on.
  control::Request req;
  req.mutable_show_routes()->set_prefix("10.0.0.1");
  auto resp = in_thread([&] { return control::call(path_, req, 5s); });
  ASSERT_TRUE(resp && resp->has_routes());
  ASSERT_EQ(resp->routes().routes_size(), 1);
  EXPECT_EQ(resp->routes().routes(0).prefix(), "10.0.0.1/32");
}

TEST_F(ControlStreamTest, StalledClientIsDroppedAfterTheTimeout) {
  control::ServerLimits limits;
  limits.stall_timeout = 200ms;
  start(limits);
  auto client = raw_client(true);  // never reads, never closes
  ASSERT_TRUE(poll_until(io_, [&] { return ctl_->active_streams() == 1; }));
  ASSERT_TRUE(poll_until(
      io_, [&] { return ctl_->active_streams() == 0; }, 5s));
  EXPECT_EQ(ctl_->buffered_bytes(), 0u);
}

TEST_F(ControlStreamTest, StreamsBeyondTheLimitAreRefused) {
  control::ServerLimits limits;
  limits.max_streams = 1;
  start(limits);
  auto stalled = raw_client(true);
  ASSERT_TRUE(poll_until(io_, [&] { return ctl_->active_streams() == 1; }));
  control::Request req;
  req.mutable_show_routes();
  auto resp = in_thread([&] { return control::call(path_, req, 5s); });
  ASSERT_TRUE(resp);
  ASSERT_TRUE(resp->has_error());
  EXPECT_EQ(resp->error().id(), "control.busy");
  // Small answers are no stream and still work.
  req.mutable_show_fpm();
  resp = in_thread([&] { return control::call(path_, req, 5s); });
  ASSERT_TRUE(resp && resp->has_fpm());
}

}  // namespace
}  // namespace fpm_sink
