#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <sys/wait.h>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>
#include <optional>

#include "app/control_handler.hpp"
#include "app/fpm_server.hpp"
#include "app_test_util.hpp"
#include "control/client.hpp"
#include "control/codec.hpp"
#include "control/format.hpp"
#include "control/server.hpp"

namespace fpm_sink {
namespace {

using namespace test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
using local = boost::asio::local::stream_protocol;

class ControlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/fpm-sink-ctl-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = (dir_ / "run" / "control.sock").string();
    fpm_ = std::make_unique<FpmServer>(io_, rib_, 10s);
    ASSERT_TRUE(fpm_->listen({"127.0.0.1", 0}));
    ctl_ = std::make_unique<control::ControlServer>(
        io_, [this](const control::Request& r) { return handle_control_request(r, rib_, *fpm_); });
  }
  void TearDown() override {
    ctl_.reset();
    fpm_.reset();
    fs::remove_all(dir_);
  }

  // The client blocks on its own io_context; the server needs this thread's.
  Result<control::Response> call(const control::Request& req) {
    auto fut = std::async(std::launch::async, [&] { return control::call(path_, req, 5s); });
    poll_until(io_, [&] { return fut.wait_for(0s) == std::future_status::ready; });
    return fut.get();
  }

  // Feeds the RIB through the real FPM socket so show fpm has something to count.
  // The connection stays open: the session is still live when the test asks.
  void feed(const std::vector<uint8_t>& bytes, const std::function<bool()>& done) {
    zebra_.connect({boost::asio::ip::make_address("127.0.0.1"), fpm_->port()});
    boost::asio::write(zebra_, boost::asio::buffer(bytes));
    ASSERT_TRUE(poll_until(io_, done));
  }

  fs::path dir_;
  std::string path_;
  boost::asio::io_context io_;
  Rib rib_;
  std::unique_ptr<FpmServer> fpm_;
  std::unique_ptr<control::ControlServer> ctl_;
  boost::asio::io_context zebra_io_;
  boost::asio::ip::tcp::socket zebra_{zebra_io_};
};

TEST_F(ControlTest, SocketAndDirectoryArePrivate) {
  ASSERT_TRUE(ctl_->open(path_));
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat((dir_ / "run").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ctl_->close();
  EXPECT_FALSE(fs::exists(path_));
}

TEST_F(ControlTest, StaleSocketIsReplacedLiveOneIsNot) {
  fs::create_directories(dir_ / "run");
  {
    // A socket file left by a crashed daemon: bound, never listening, fd gone.
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path_.c_str(), sizeof addr.sun_path - 1);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ::close(fd);
  }
  ASSERT_TRUE(fs::exists(path_));
  ASSERT_TRUE(ctl_->open(path_));

  control::ControlServer second(io_, [](const control::Request&) { return control::Response{}; });
  auto st = second.open(path_);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().id, "control.socket.in_use");
  EXPECT_TRUE(fs::exists(path_));  // the failed open must not remove the live socket
}

TEST_F(ControlTest, RefusesToReplaceARegularFile) {
  fs::create_directories(dir_ / "run");
  std::ofstream(path_) << "not a socket";
  auto st = ctl_->open(path_);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().id, "control.socket.not_socket");
}

TEST_F(ControlTest, ShowRoutesJsonInBothNextHopModes) {
  ASSERT_TRUE(ctl_->open(path_));
  // ifindex 1 is the loopback in every network namespace: its name is known.
  feed(concat(
           {frame_of({single_nh(12, "10.0.0.2", 1)}),
            frame_of({nhg_route("10.0.0.0/24", 12), inline_route("10.1.0.0/24", "10.0.0.2", 1)})}),
       [&] { return rib_.stats().routes_v4 == 2; });

  control::Request req;
  req.mutable_show_routes()->set_prefix("10.0.0.0/24");
  auto resp = call(req);
  ASSERT_TRUE(resp) << resp.error().to_string();
  ASSERT_TRUE(resp->has_routes());
  EXPECT_EQ(control::routes_json(resp->routes()).dump(),
            R"({"routes":[{"table":254,"prefix":"10.0.0.0/24","family":"ipv4","type":"unicast",)"
            R"("protocol":"bgp","protocol_id":186,"metric":20,"nhg_id":12,"group_id":12,)"
            R"("state":"installed","stale":false,"nexthops":[{"gateway":"10.0.0.2","ifindex":1,)"
            R"("ifname":"lo","weight":1,"onlink":false,"blackhole":false}]}]})");

  // The inline route resolves to the same next hops.
  req.mutable_show_routes()->set_prefix("10.1.0.0/24");
  resp = call(req);
  ASSERT_TRUE(resp && resp->has_routes());
  auto j = control::routes_json(resp->routes());
  ASSERT_EQ(j["routes"].size(), 1u);
  EXPECT_EQ(j["routes"][0]["nhg_id"], 0);
  EXPECT_EQ(j["routes"][0]["protocol"], "ospf");
  EXPECT_EQ(j["routes"][0]["nexthops"].dump(),
            R"([{"gateway":"10.0.0.2","ifindex":1,"ifname":"lo","weight":1,"onlink":false,)"
            R"("blackhole":false}])");

  // A bare address is a longest-prefix lookup; a table filter excludes the rest.
  req.mutable_show_routes()->set_prefix("10.1.0.77");
  resp = call(req);
  ASSERT_TRUE(resp && resp->has_routes());
  ASSERT_EQ(resp->routes().routes_size(), 1);
  EXPECT_EQ(resp->routes().routes(0).prefix(), "10.1.0.0/24");
  req.mutable_show_routes()->clear_prefix();
  req.mutable_show_routes()->set_table(100);
  resp = call(req);
  ASSERT_TRUE(resp && resp->has_routes());
  EXPECT_EQ(resp->routes().routes_size(), 0);

  req.mutable_show_routes()->set_prefix("10.1.0.0/99");
  resp = call(req);
  ASSERT_TRUE(resp && resp->has_error());
  EXPECT_EQ(resp->error().id(), "control.bad_prefix");

  // The text table lines up and lists every route.
  req.mutable_show_routes()->clear_prefix();
  req.mutable_show_routes()->clear_table();
  resp = call(req);
  ASSERT_TRUE(resp && resp->has_routes());
  const std::string text = control::routes_text(resp->routes());
  EXPECT_NE(text.find("10.0.0.0/24"), std::string::npos) << text;
  EXPECT_NE(text.find("via 10.0.0.2, lo"), std::string::npos) << text;
  EXPECT_NE(text.find("2 routes"), std::string::npos) << text;
}

TEST_F(ControlTest, ShowNexthopGroupsAndFpm) {
  ASSERT_TRUE(ctl_->open(path_));
  feed(concat({frame_of({single_nh(12, "10.0.0.2", 3)}), frame_of({nhg_route("10.0.0.0/24", 12)})}),
       [&] { return rib_.stats().routes_v4 == 1; });

  control::Request req;
  req.mutable_show_nexthop_groups();
  auto resp = call(req);
  ASSERT_TRUE(resp && resp->has_nexthop_groups());
  auto g = control::groups_json(resp->nexthop_groups());
  ASSERT_EQ(g["nexthop_groups"].size(), 1u);
  EXPECT_EQ(g["nexthop_groups"][0]["id"], 12);
  EXPECT_EQ(g["nexthop_groups"][0]["kind"], "single");
  EXPECT_EQ(g["nexthop_groups"][0]["refcount"], 1);
  EXPECT_EQ(g["nexthop_groups"][0]["nexthop"]["gateway"], "10.0.0.2");

  req.mutable_show_fpm();
  resp = call(req);
  ASSERT_TRUE(resp && resp->has_fpm());
  const auto& f = resp->fpm();
  EXPECT_EQ(f.session_state(), control::SESSION_STATE_CONNECTED);
  EXPECT_EQ(f.frames(), 2u);
  EXPECT_EQ(f.netlink_frames(), 2u);
  EXPECT_EQ(f.decode().new_route(), 1u);
  EXPECT_EQ(f.decode().new_nexthop(), 1u);
  EXPECT_EQ(f.sessions_accepted(), 1u);
  EXPECT_EQ(f.replay_state(), control::REPLAY_STATE_REPLAYING);
  EXPECT_EQ(f.rib().routes_v4(), 1u);
  EXPECT_DOUBLE_EQ(f.sweep_delay_seconds(), 10.0);
  auto j = control::fpm_json(f);
  EXPECT_EQ(j["fpm"]["stream"]["frames"], 2);
  EXPECT_EQ(j["fpm"]["messages"]["new_route"], 1);
  EXPECT_EQ(j["fpm"]["replay"]["state"], "replaying");
  EXPECT_EQ(j["fpm"]["rib"]["routes_v4"], 1);
  EXPECT_NE(control::fpm_text(f).find("sessions_accepted"), std::string::npos);
}

// Raw exchanges the client library would never produce.
std::optional<control::Response> raw_exchange(const std::string& path, std::vector<uint8_t> bytes,
                                              boost::asio::io_context& server_io) {
  auto fut = std::async(std::launch::async, [&]() -> std::optional<control::Response> {
    boost::asio::io_context io;
    local::socket s(io);
    s.connect(local::endpoint(path));
    boost::asio::write(s, boost::asio::buffer(bytes));
    std::array<uint8_t, 4> len{};
    boost::system::error_code ec;
    boost::asio::read(s, boost::asio::buffer(len), ec);
    if (ec) return std::nullopt;
    std::vector<uint8_t> body(control::decode_length(len));
    boost::asio::read(s, boost::asio::buffer(body), ec);
    control::Response r;
    if (ec || !r.ParseFromArray(body.data(), static_cast<int>(body.size()))) return std::nullopt;
    return r;
  });
  poll_until(server_io, [&] { return fut.wait_for(0s) == std::future_status::ready; });
  return fut.get();
}

TEST_F(ControlTest, BadRequestsGetErrorsAndTheServerLivesOn) {
  ASSERT_TRUE(ctl_->open(path_));
  auto r = raw_exchange(path_, {0, 0, 0, 3, 0xff, 0xff, 0xff}, io_);
  ASSERT_TRUE(r && r->has_error());
  EXPECT_EQ(r->error().id(), "control.request.malformed");

  r = raw_exchange(path_, {0x7f, 0xff, 0xff, 0xff}, io_);
  ASSERT_TRUE(r && r->has_error());
  EXPECT_EQ(r->error().id(), "control.request.too_large");

  r = raw_exchange(path_, {0, 0, 0, 0}, io_);  // a Request with no kind set
  ASSERT_TRUE(r && r->has_error());
  EXPECT_EQ(r->error().id(), "control.request.unknown");

  control::Request req;
  req.mutable_show_fpm();
  auto ok = call(req);
  ASSERT_TRUE(ok && ok->has_fpm());
}

// What the shell sees from the real fpm-sinkctl binary: exit status, stdout, stderr.
struct CtlRun {
  int status = -1;
  std::string out, err;
};

class SinkctlTest : public ControlTest {
 protected:
  CtlRun run(const std::string& args) {
    const std::string out = (dir_ / "out").string(), err = (dir_ / "err").string();
    const std::string cmd = std::string(FPM_SINKCTL_BIN) + " " + args + " >" + out + " 2>" + err;
    auto fut = std::async(std::launch::async, [&] { return std::system(cmd.c_str()); });
    poll_until(
        io_, [&] { return fut.wait_for(0s) == std::future_status::ready; }, 20s);
    CtlRun r;
    const int st = fut.get();
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    auto slurp = [](const std::string& path) {
      std::ifstream in(path);
      return std::string(std::istreambuf_iterator<char>(in), {});
    };
    r.out = slurp(out);
    r.err = slurp(err);
    return r;
  }
  std::string sock() { return "--socket " + path_ + " "; }
};

TEST_F(SinkctlTest, ExitCodesAndErrorsAsAShellUserExpects) {
  ASSERT_TRUE(ctl_->open(path_));
  feed(frame_of({inline_route("10.1.0.0/24", "10.0.0.2", 1)}),
       [&] { return rib_.stats().routes_v4 == 1; });

  CtlRun r = run(sock() + "show routes 10.1.0.7");  // longest match
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("10.1.0.0/24"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("lo (1)"), std::string::npos) << r.out;  // name next to ifindex

  r = run(sock() + "show routes 10.9.9.9");  // nothing matches: 1, like grep
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("fpm-sinkctl: no route for 10.9.9.9"), std::string::npos) << r.err;
  r = run(sock() + "show routes 10.9.9.0/24 json");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(control::Json::parse(r.out)["routes"].size(), 0u);

  r = run(sock() + "show routes json");  // a whole (non-empty) table, vtysh's trailing json
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(control::Json::parse(r.out)["routes"].size(), 1u);
  r = run(sock() + "show fpm json");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(control::Json::parse(r.out)["fpm"]["rib"]["routes_v4"], 1);

  // Usage errors: 2, on the command line or refused by the daemon.
  r = run(sock() + "show routing");
  EXPECT_EQ(r.status, 2);
  r = run(sock() + "show routes 10.0.0.0/33");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("control.bad_prefix"), std::string::npos) << r.err;
  r = run(sock() + "show routes 10.1.0.7 from 10.0.0.1 proto tcp");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("sport"), std::string::npos) << r.err;

  // A flow on a daemon without a fast path: the route, and why XDP does not take it.
  r = run(sock() + "show routes 10.1.0.7 from 10.0.0.1 proto udp sport 1 dport 2 json");
  EXPECT_EQ(r.status, 0) << r.err;
  auto j = control::Json::parse(r.out)["routes"][0];
  EXPECT_EQ(j["flow_path"]["forwarded"], false);
  EXPECT_NE(j["flow_path"]["note"].get<std::string>().find("kernel"), std::string::npos);

  // No fast path: the views say so, clear counters is an error from the daemon.
  r = run(sock() + "show interfaces json");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(control::Json::parse(r.out)["interfaces"]["fast_path"], false);
  r = run(sock() + "show neighbours");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("off"), std::string::npos);
  r = run(sock() + "clear counters");
  EXPECT_EQ(r.status, 4);
  EXPECT_NE(r.err.find("control.no_fast_path"), std::string::npos) << r.err;
}

TEST_F(SinkctlTest, NoDaemonIsOneLineNamingTheSocket) {
  CtlRun r = run("--socket " + (dir_ / "absent.sock").string() + " show fpm");
  EXPECT_EQ(r.status, 3);
  EXPECT_EQ(r.err, "fpm-sinkctl: cannot reach fpm-sink at " + (dir_ / "absent.sock").string() +
                       ": No such file or directory (is fpm-sink running? --socket PATH)\n");
  EXPECT_EQ(r.out, "");
  r = run("--version");
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("fpm-sinkctl "), std::string::npos) << r.out;
}

TEST(ControlClient, ConnectFailureIsAnError) {
  control::Request req;
  req.mutable_show_fpm();
  auto r = control::call("/nonexistent/fpm-sink.sock", req, 1s);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().id, "control.client.connect");
}

}  // namespace
}  // namespace fpm_sink
