// SendRedirects over a fake /proc/sys/net/ipv4/conf: all OR dev, and a file
// that cannot be read counts as on.
#include "kernel/send_redirects.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace fpm_sink {
namespace {

namespace fs = std::filesystem;

class SendRedirectsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/fpm-sink-conf-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  void write(const std::string& name, const std::string& content) {
    fs::create_directories(dir_ / name);
    std::ofstream(dir_ / name / "send_redirects") << content;
  }

  fs::path dir_;
};

TEST_F(SendRedirectsTest, ReadsOneFile) {
  write("all", "0\n");
  write("eth1", "1\n");
  const SendRedirects s(dir_);
  EXPECT_EQ(s.read("all"), std::optional<bool>(false));
  EXPECT_EQ(s.read("eth1"), std::optional<bool>(true));
  EXPECT_EQ(s.read("eth9"), std::nullopt) << "no such device";
}

TEST_F(SendRedirectsTest, EitherSwitchTurnsItOn) {
  const SendRedirects s(dir_);
  const struct {
    const char *all, *dev;
    bool on;
  } cases[] = {{"0", "0", false}, {"1", "0", true}, {"0", "1", true}, {"1", "1", true}};
  for (const auto& c : cases) {
    write("all", c.all);
    write("eth1", c.dev);
    EXPECT_EQ(s.effective("eth1"), c.on) << "all=" << c.all << " eth1=" << c.dev;
  }
}

TEST_F(SendRedirectsTest, OtherDevicesDoNotCount) {
  write("all", "0");
  write("eth1", "0");
  write("eth2", "1");
  const SendRedirects s(dir_);
  EXPECT_FALSE(s.effective("eth1"));
  EXPECT_TRUE(s.effective("eth2"));
}

TEST_F(SendRedirectsTest, UnreadableCountsAsOn) {
  const SendRedirects s(dir_);
  EXPECT_TRUE(s.effective("eth1")) << "neither file exists";
  write("all", "0");
  EXPECT_TRUE(s.effective("eth1")) << "the device's file is missing";
  write("eth1", "");
  EXPECT_TRUE(s.effective("eth1")) << "an empty file";
  write("eth1", "x");
  EXPECT_TRUE(s.effective("eth1")) << "not a number";
  write("eth1", "0");
  EXPECT_FALSE(s.effective("eth1"));
  fs::remove(dir_ / "all" / "send_redirects");
  EXPECT_TRUE(s.effective("eth1")) << "all's file is missing";
}

TEST_F(SendRedirectsTest, NamesStayInsideTheConfDirectory) {
  write("all", "0");
  write("eth1", "0");
  std::ofstream(dir_ / "send_redirects") << "0";  // what "." would read
  const SendRedirects s(dir_);
  EXPECT_EQ(s.read("."), std::nullopt);
  EXPECT_EQ(s.read(".."), std::nullopt);
  EXPECT_EQ(s.read("eth1/../eth1"), std::nullopt);
  EXPECT_EQ(s.read(""), std::nullopt);
}

TEST(SendRedirectsProc, ReadsTheRealAllSwitch) {
  // Every Linux network namespace has the file; its value is the host's business.
  if (!fs::exists("/proc/sys/net/ipv4/conf/all/send_redirects")) GTEST_SKIP() << "no /proc";
  EXPECT_TRUE(SendRedirects().read("all").has_value());
}

}  // namespace
}  // namespace fpm_sink
