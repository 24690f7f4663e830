#include "app/fast_path_views.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

#include <linux/neighbour.h>
#include <CLI/CLI.hpp>

#include "app/options.hpp"
#include "control/format.hpp"
#include "dataplane/fake_map_writer.hpp"

namespace fpm_sink {
namespace {

TEST(FastPathViews, EveryVerdictAndReasonHasAUniqueName) {
  std::set<std::string> names;
  for (uint32_t v : {FPM_VERDICT_REDIRECT, FPM_VERDICT_PASS, FPM_VERDICT_DROP}) {
    ASSERT_FALSE(verdict_name(v).empty()) << v;
    EXPECT_TRUE(names.insert(std::string(verdict_name(v))).second);
  }
  for (uint32_t r = FPM_REASON_NONE; r <= FPM_REASON_LAST; ++r) {
    ASSERT_FALSE(reason_name(r).empty()) << "reason " << r << " has no name";
    EXPECT_TRUE(names.insert(std::string(reason_name(r))).second) << reason_name(r);
  }
  EXPECT_TRUE(reason_name(FPM_REASON_MAX).empty());
}

TEST(FastPathViews, RibOnlyDaemonSaysFastPathOff) {
  control::CountersReply reply;
  ASSERT_TRUE(fill_counters(nullptr, &reply).ok());
  EXPECT_FALSE(reply.fast_path());
  EXPECT_EQ(reply.verdicts_size(), 0);
}

TEST(XdpDataplaneOptionsParsing, InterfacesAndModes) {
  Options opts;
  CLI::App app;
  add_options(app, opts);
  app.parse(std::vector<std::string>{"generic", "--xdp-mode", "eth1", "eth0", "--interface"});
  EXPECT_EQ(opts.interfaces, (std::vector<std::string>{"eth0", "eth1"}));
  EXPECT_EQ(opts.xdp_mode, "generic");
  Options bad;
  CLI::App app2;
  add_options(app2, bad);
  EXPECT_THROW(app2.parse(std::vector<std::string>{"turbo", "--xdp-mode"}), CLI::ParseError);
}

TEST(XdpDataplaneOptionsParsing, AllMeansEveryNonLoopbackPort) {
  XdpDataplaneOptions fo;
  EXPECT_FALSE(fo.enabled());
  fo.interfaces = {"all"};
  EXPECT_TRUE(fo.enabled());
  EXPECT_TRUE(fo.all_interfaces());
}

// What an operator reads to see the refresh working: sends, rounds and what the
// rate cap held back, in text and JSON.
TEST(FastPathViews, NeighbourRefreshCountersInTextAndJson) {
  NeighbourRefreshOptions opts;
  opts.period = std::chrono::milliseconds(2500);
  opts.max_per_tick = 20;
  NeighbourRefreshStats stats{
      .sent = 120,
      .rejected = 1,
      .schedule = {.rounds = 2, .deferred = 150, .capped_ticks = 5, .targets = 100}};
  control::NexthopsReply reply;
  reply.set_fast_path(true);
  fill_neighbour_refresh(opts, stats, reply.mutable_neighbour_refresh());

  const auto j = control::nexthops_json(reply)["nexthops"]["neighbour_refresh"];
  EXPECT_EQ(j["period_seconds"], 2.5);
  EXPECT_EQ(j["tick_seconds"], 0.5);
  EXPECT_EQ(j["max_per_tick"], 20);
  EXPECT_EQ(j["sent"], 120);
  EXPECT_EQ(j["rejected"], 1);
  EXPECT_EQ(j["rounds"], 2);
  EXPECT_EQ(j["deferred"], 150);
  EXPECT_EQ(j["capped_ticks"], 5);
  EXPECT_EQ(j["targets"], 100);

  const std::string text = control::nexthops_text(reply);
  EXPECT_NE(text.find("deferred"), std::string::npos) << text;
  EXPECT_NE(text.find("150"), std::string::npos) << text;
  EXPECT_NE(text.find("2.5"), std::string::npos) << text;

  control::NexthopsReply off;
  off.set_fast_path(true);
  fill_neighbour_refresh(NeighbourRefreshOptions{.period = std::chrono::seconds(0)}, {},
                         off.mutable_neighbour_refresh());
  EXPECT_EQ(control::nexthops_json(off)["nexthops"]["neighbour_refresh"]["period_seconds"], 0.0);
  EXPECT_NE(control::nexthops_text(off).find("off"), std::string::npos);
}

// Each next hop as XDP reads it, next to the kernel's neighbour entry.
TEST(FastPathViews, NexthopEntriesShowStateMacAndKernelNeighbour) {
  KernelState kernel;
  kernel.apply(Upsert<LinkInfo>{LinkInfo{.ifindex = 3, .name = "eth3", .up = true}});
  const MacAddr mac{0x02, 0, 0, 0, 0x22, 0x02};
  const IpAddr live = *IpAddr::parse("10.0.22.2"), dead = *IpAddr::parse("10.0.21.2");
  kernel.apply(Upsert<NeighInfo>{NeighInfo{live, 3, mac, NeighState::Usable, NUD_STALE}});
  kernel.apply(Upsert<NeighInfo>{NeighInfo{dead, 3, {}, NeighState::Failed, NUD_FAILED}});
  StaticKernelView view;
  view.set_link(3, LinkEntry{.mac = {0x02, 0, 0, 0, 0x22, 0x01}, .up = true});
  view.set_neighbour(live, 3, NeighbourEntry{.mac = mac, .usable = true});
  view.set_neighbour(dead, 3, NeighbourEntry{.failed = true});
  FakeMapWriter writer;
  NextHopTable table(writer, view, view, IndexAllocator(1, 16, std::chrono::seconds(1)));
  ASSERT_TRUE(table.acquire({live, 3}).ok());
  ASSERT_TRUE(table.acquire({dead, 3}).ok());

  control::NexthopsReply reply;
  reply.set_fast_path(true);
  fill_nexthop_entries(table, kernel, &reply);
  const auto j = control::nexthops_json(reply)["nexthops"]["nexthops"];
  ASSERT_EQ(j.size(), 2u);
  std::map<std::string, control::Json> by_gw;
  for (const auto& e : j) by_gw[e["gateway"].get<std::string>()] = e;
  EXPECT_EQ(by_gw["10.0.22.2"]["state"], "valid");
  EXPECT_EQ(by_gw["10.0.22.2"]["mac"], "02:00:00:00:22:02");
  EXPECT_EQ(by_gw["10.0.22.2"]["neighbour"], "stale");
  EXPECT_EQ(by_gw["10.0.22.2"]["ifname"], "eth3");
  EXPECT_EQ(by_gw["10.0.22.2"]["refs"], 1);
  EXPECT_EQ(by_gw["10.0.21.2"]["state"], "failed");
  EXPECT_EQ(by_gw["10.0.21.2"]["neighbour"], "failed");
  EXPECT_EQ(nud_name(NUD_STALE | NUD_NOARP), "stale|noarp");
  EXPECT_EQ(nud_name(0), "none");
}

TEST(FastPathViews, RibOnlyDaemonHasNoNexthops) {
  control::NexthopsReply reply;
  fill_nexthops(nullptr, &reply);
  EXPECT_FALSE(reply.fast_path());
  EXPECT_NE(control::nexthops_text(reply).find("off"), std::string::npos);
}

}  // namespace
}  // namespace fpm_sink
