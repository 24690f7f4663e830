#include <gtest/gtest.h>

#include <CLI/CLI.hpp>

#include "app/options.hpp"
#include "rib/rib.hpp"

namespace fpm_sink {
namespace {

TEST(ParseListen, AcceptsV4V6AndDefaults) {
  struct Case {
    const char* text;
    const char* addr;
    uint16_t port;
  } cases[] = {
      {"127.0.0.1:2620", "127.0.0.1", 2620},
      {"127.0.0.1", "127.0.0.1", 2620},
      {"0.0.0.0:9999", "0.0.0.0", 9999},
      {"[::1]:2621", "::1", 2621},
      {"[::1]", "::1", 2620},
      {"::1", "::1", 2620},
      {"2001:db8::1", "2001:db8::1", 2620},
  };
  for (const auto& c : cases) {
    auto ep = parse_listen(c.text);
    ASSERT_TRUE(ep) << c.text << ": " << ep.error().to_string();
    EXPECT_EQ(ep->address, c.addr) << c.text;
    EXPECT_EQ(ep->port, c.port) << c.text;
  }
  EXPECT_EQ(parse_listen("[::1]:2620")->to_string(), "[::1]:2620");
}

TEST(ParseListen, RejectsJunk) {
  for (const char* bad : {"", "localhost:2620", "1.2.3.4:0", "1.2.3.4:70000", "[::1", "[::1]x",
                          "1.2.3.4:", "1.2.3.4:12ab", "300.1.1.1"}) {
    auto ep = parse_listen(bad);
    ASSERT_FALSE(ep) << bad;
    EXPECT_EQ(ep.error().id, "app.options.bad_listen");
  }
}

TEST(Options, ParsesEveryOption) {
  Options opts;
  CLI::App app;
  add_options(app, opts);
  // CLI11 takes a vector of arguments in reverse order.
  app.parse(std::vector<std::string>{"1.5", "--sweep-delay", "debug", "--log-level", "/tmp/c.sock",
                                     "--control-socket", "[::1]:3000", "--fpm-listen"});
  finish_options(opts);
  EXPECT_EQ(opts.fpm_endpoint.address, "::1");
  EXPECT_EQ(opts.fpm_endpoint.port, 3000);
  EXPECT_EQ(opts.control_socket, "/tmp/c.sock");
  EXPECT_EQ(opts.log_level, "debug");
  EXPECT_EQ(opts.sweep_delay(), std::chrono::milliseconds(1500));
}

TEST(Options, RejectsBadValues) {
  for (std::vector<std::string> args : {std::vector<std::string>{"loud", "--log-level"},
                                        {"nowhere", "--fpm-listen"},
                                        {"-1", "--sweep-delay"}}) {
    Options opts;
    CLI::App app;
    add_options(app, opts);
    EXPECT_THROW(app.parse(args), CLI::ParseError) << args[1];
  }
}

TEST(Options, NonLoopbackListenNeedsAnAllowListOfPeers) {
  auto finish = [](std::vector<std::string> args) {
    Options opts;
    CLI::App app;
    add_options(app, opts);
    app.parse(args);
    finish_options(opts);
    return opts;
  };
  EXPECT_THROW(finish({"0.0.0.0:2620", "--fpm-listen"}), CLI::ValidationError);
  EXPECT_THROW(finish({"bad", "--fpm-allow-peer", "0.0.0.0", "--fpm-listen"}),
               CLI::ValidationError);
  const auto opts = finish({"192.0.2.1", "--fpm-allow-peer", "0.0.0.0", "--fpm-listen"});
  EXPECT_EQ(opts.fpm_allow_peers, std::vector<std::string>{"192.0.2.1"});
  EXPECT_NO_THROW(finish({"[::1]:2620", "--fpm-listen"}));
}

TEST(Options, FpmHoldTime) {
  Options opts;
  EXPECT_EQ(opts.fpm_hold_time_seconds, 120u);  // like BGP graceful restart
  CLI::App app;
  add_options(app, opts);
  app.parse(std::vector<std::string>{"0", "--fpm-hold-time"});
  EXPECT_EQ(opts.fpm_hold_time_seconds, 0u);  // forever
  Options bad;
  CLI::App app2;
  add_options(app2, bad);
  EXPECT_THROW(app2.parse(std::vector<std::string>{"-3", "--fpm-hold-time"}), CLI::ParseError);
}

TEST(Options, RibLimits) {
  Options opts;
  EXPECT_EQ(opts.max_routes, 0u);  // no limit unless asked
  EXPECT_EQ(opts.max_group_members, RibLimits{}.max_group_members);
  CLI::App app;
  add_options(app, opts);
  // CLI11 parses the vector back to front.
  app.parse(std::vector<std::string>{"64", "--max-group-members", "2000000", "--max-routes"});
  EXPECT_EQ(opts.max_routes, 2'000'000u);
  EXPECT_EQ(opts.max_group_members, 64u);
  Options bad;
  CLI::App app2;
  add_options(app2, bad);
  EXPECT_THROW(app2.parse(std::vector<std::string>{"0", "--max-group-members"}), CLI::ParseError);
}

}  // namespace
}  // namespace fpm_sink
