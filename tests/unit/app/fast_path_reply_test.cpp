#include "app/fast_path_reply.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include <CLI/CLI.hpp>
#include "app/options.hpp"

namespace fpm_sink {
namespace {

TEST(FastPathReply, EveryVerdictAndReasonHasAUniqueName) {
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

TEST(FastPathReply, RibOnlyDaemonSaysFastPathOff) {
  control::CountersReply reply;
  ASSERT_TRUE(fill_counters(nullptr, &reply).ok());
  EXPECT_FALSE(reply.fast_path());
  EXPECT_EQ(reply.verdicts_size(), 0);
}

TEST(FastPathOptionsParsing, InterfacesAndModes) {
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

TEST(FastPathOptionsParsing, AllMeansEveryNonLoopbackPort) {
  FastPathOptions fo;
  EXPECT_FALSE(fo.enabled());
  fo.interfaces = {"all"};
  EXPECT_TRUE(fo.enabled());
  EXPECT_TRUE(fo.all_interfaces());
}

}  // namespace
}  // namespace fpm_sink
