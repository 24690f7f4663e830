#include <gtest/gtest.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "app/config_file.hpp"
#include "app/config_reload.hpp"
#include "app/option_loader.hpp"
#include "app/options.hpp"

namespace fpm_sink {
namespace {

// A temporary config file, removed with the test.
class TempFile {
 public:
  explicit TempFile(const std::string& text) {
    char name[] = "/tmp/fpm-sink-config-test-XXXXXX";
    const int fd = mkstemp(name);
    EXPECT_GE(fd, 0);
    close(fd);
    path_ = name;
    write(text);
  }
  ~TempFile() { std::filesystem::remove(path_); }
  void write(const std::string& text) const { std::ofstream(path_) << text; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct Parsed {
  Options opts;
  std::vector<std::string> problems;
};

// The command line, then the file's text through apply_config_text.
Parsed apply(const std::string& text, std::vector<std::string> args = {}) {
  Parsed p;
  CLI::App app;
  add_options(app, p.opts);
  std::reverse(args.begin(), args.end());
  app.parse(args);
  p.problems = apply_config_text(app, text, "test.toml");
  return p;
}

// The whole load (command line + file + finish_options) as the daemon does it.
Result<LoadedOptions> load(const std::string& path, std::vector<std::string> extra = {}) {
  std::vector<std::string> args{"--config", path};
  args.insert(args.end(), extra.begin(), extra.end());
  return load_options(args);
}

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

TEST(ConfigKeys, EveryOptionHasAKeyDerivedFromItsNameAndGroup) {
  Options opts;
  CLI::App app;
  add_options(app, opts);
  std::map<std::string, ConfigKey> keys;
  for (auto& k : config_keys(app)) keys[k.key] = k;
  // Every option but --help, --config and --check-config.
  size_t options = 0;
  for (const CLI::Option* o : app.get_options())
    options += o->get_configurable() && o != app.get_help_ptr();
  EXPECT_EQ(keys.size(), options);
  EXPECT_FALSE(keys.contains("config"));
  EXPECT_FALSE(keys.contains("check-config"));
  EXPECT_FALSE(keys.contains("help"));

  struct Want {
    const char* key;
    const char* type;
    bool repeatable;
  } wants[] = {
      {"log-level", "string", false},           {"control-socket", "string", false},
      {"fpm.fpm-listen", "string", false},      {"fpm.fpm-allow-user", "string", true},
      {"fpm.fpm-allow-peer", "string", true},   {"fpm.offload-feedback", "boolean", false},
      {"fpm.sweep-delay", "number", false},     {"rib.max-routes", "integer", false},
      {"fast-path.interface", "string", true},  {"fast-path.keep-fast-path", "boolean", false},
      {"fast-path.v6-nodes", "integer", false}, {"fast-path.nexthop-groups", "integer", false},
      {"fast-path.nexthops", "integer", false},
  };
  for (const auto& w : wants) {
    ASSERT_TRUE(keys.contains(w.key)) << w.key;
    EXPECT_EQ(keys[w.key].toml_type, w.type) << w.key;
    EXPECT_EQ(keys[w.key].repeatable, w.repeatable) << w.key;
  }
}

TEST(ConfigFile, ValuesOfEveryTypeReachTheOptions) {
  auto p = apply(R"(
log-level = "debug"
[fpm]
fpm-listen = "[::1]:2700"
fpm-allow-user = ["frr", "1000"]
offload-feedback = false
sweep-delay = 2.5
fpm-hold-time = 30
[rib]
max-routes = 1000
[fast-path]
interface = "all"
keep-fast-path = true
nexthop-groups = 1024
nexthops = 4096
)");
  ASSERT_TRUE(p.problems.empty()) << joined(p.problems);
  EXPECT_EQ(p.opts.log_level, "debug");
  EXPECT_EQ(p.opts.fpm_listen, "[::1]:2700");
  EXPECT_EQ(p.opts.fpm_allow_users, (std::vector<std::string>{"frr", "1000"}));
  EXPECT_FALSE(p.opts.offload_feedback);
  EXPECT_DOUBLE_EQ(p.opts.sweep_delay_seconds, 2.5);
  EXPECT_EQ(p.opts.fpm_hold_time_seconds, 30u);
  EXPECT_EQ(p.opts.max_routes, 1000u);
  EXPECT_EQ(p.opts.interfaces, std::vector<std::string>{"all"});
  EXPECT_TRUE(p.opts.keep_fast_path);
  EXPECT_EQ(p.opts.nexthop_groups, 1024u);
  EXPECT_EQ(p.opts.nexthops, 4096u);
  // An integer is a fine number; untouched options keep their defaults.
  auto q = apply("[fpm]\nsweep-delay = 3\n");
  ASSERT_TRUE(q.problems.empty()) << joined(q.problems);
  EXPECT_DOUBLE_EQ(q.opts.sweep_delay_seconds, 3);
  EXPECT_EQ(q.opts.v6_nodes, Options{}.v6_nodes);
}

TEST(ConfigFile, CommandLineWins) {
  auto p = apply("log-level = \"debug\"\n[fast-path]\ninterface = [\"eth1\", \"eth2\"]\n",
                 {"--interface", "eth9", "--log-level", "warn"});
  ASSERT_TRUE(p.problems.empty()) << joined(p.problems);
  EXPECT_EQ(p.opts.interfaces, std::vector<std::string>{"eth9"});  // replaced, not merged
  EXPECT_EQ(p.opts.log_level, "warn");
}

TEST(ConfigFile, ProblemsNameTheKeyTheValueAndWhatIsWrong) {
  struct Case {
    const char* text;
    const char* expected;  // a substring of the one problem
  } cases[] = {
      {"log-levle = \"info\"", "config.unknown_key key=log-levle value=\"info\": no such option"},
      {"[fast-path]\nv6_nodes = 5", "config.unknown_key key=fast-path.v6_nodes value=5"},
      {"interface = [\"eth1\"]",
       "config.unknown_key key=interface value=[\"eth1\"]: this key belongs in [fast-path]"},
      {"[fpm]\nlog-level = \"info\"",
       "key=fpm.log-level value=\"info\": this key belongs in the top level"},
      {"[dataplane]\nx = 1", "config.unknown_key key=dataplane: no such section"},
      {"[fast-path]\nv6-nodes = \"65536\"",
       "config.bad_type key=fast-path.v6-nodes value=\"65536\": expected integer, got string"},
      {"[fast-path]\nkeep-fast-path = \"yes\"", "expected boolean, got string"},
      {"log-level = 3", "config.bad_type key=log-level value=3: expected string, got integer"},
      {"[fast-path]\ninterface = [\"eth1\", 2]",
       "key=fast-path.interface value=[\"eth1\", 2]: expected an array of strings (or one string)"},
      {"[fpm]\nsweep-delay = true", "expected number, got boolean"},
      {"[fast-path]\nv6-nodes = 0",
       "config.bad_value key=fast-path.v6-nodes value=0: Value 0 not in range"},
      {"[fast-path]\nnexthop-groups = 2000000",
       "config.bad_value key=fast-path.nexthop-groups value=2000000"},
      {"[fast-path]\nnexthops = -1", "config.bad_value key=fast-path.nexthops value=-1"},
      {"log-level = \"loud\"", "config.bad_value key=log-level value=\"loud\": loud not in"},
      {"[fpm]\nfpm-listen = \"localhost\"",
       "key=fpm.fpm-listen value=\"localhost\": not an IP address"},
      {"[fast-path]\nxdp-mode = \"turbo\"", "key=fast-path.xdp-mode value=\"turbo\""},
      {"log-level = \"info\"\nlog-level = \"debug\"", "config.syntax test.toml:2:"},
      {"[fpm\nx = 1", "config.syntax test.toml:1:"},
  };
  for (const auto& c : cases) {
    auto p = apply(c.text);
    ASSERT_EQ(p.problems.size(), 1u) << c.text << "\n" << joined(p.problems);
    EXPECT_NE(p.problems[0].find(c.expected), std::string::npos)
        << c.text << "\n got: " << p.problems[0] << "\nwant: " << c.expected;
  }
}

TEST(ConfigFile, EveryProblemIsReportedNotJustTheFirst) {
  auto p = apply("bogus = 1\nlog-level = 2\n[fast-path]\nv6-nodes = 0\n");
  EXPECT_EQ(p.problems.size(), 3u) << joined(p.problems);
}

TEST(OptionLoader, AMissingDefaultFileIsFineANamedOneIsNot) {
  Options opts;
  CLI::App app;
  add_options(app, opts);
  opts.config_path = "/nonexistent/fpm-sink.toml";  // as if it were the default
  app.parse(std::vector<std::string>{});
  auto loaded = complete_options(app, opts);
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  EXPECT_EQ(loaded->config_source, "");

  auto named = load("/nonexistent/fpm-sink.toml");
  ASSERT_FALSE(named);
  EXPECT_EQ(named.error().id, "config.invalid");
  EXPECT_NE(named.error().message.find("config.file path=/nonexistent/fpm-sink.toml: cannot read"),
            std::string::npos)
      << named.error().message;
}

TEST(OptionLoader, KeysTheCommandLineOverridesAreStillValidated) {
  TempFile file("[fast-path]\nv6-nodes = 0\n");
  auto loaded = load(file.path(), {"--v6-nodes", "1024"});
  ASSERT_FALSE(loaded);
  EXPECT_NE(loaded.error().message.find("key=fast-path.v6-nodes value=0"), std::string::npos)
      << loaded.error().message;
}

TEST(OptionLoader, ChecksWhatSpansOptionsAndUnknownUsers) {
  TempFile file("[fpm]\nfpm-listen = \"0.0.0.0:2620\"\n");
  auto loaded = load(file.path());
  ASSERT_FALSE(loaded);
  EXPECT_NE(loaded.error().message.find("fpm-allow-peer"), std::string::npos);
  file.write("[fpm]\nfpm-listen = \"0.0.0.0:2620\"\nfpm-allow-peer = [\"192.0.2.1\"]\n");
  ASSERT_TRUE(load(file.path()));
  file.write("[fpm]\nfpm-allow-user = [\"no-such-user-fpm-sink\"]\n");
  loaded = load(file.path());
  ASSERT_FALSE(loaded);
  EXPECT_NE(loaded.error().message.find("no-such-user-fpm-sink"), std::string::npos)
      << loaded.error().message;
}

TEST(OptionLoader, ValuesRecordWhatEachKeyHolds) {
  TempFile file("log-level = \"debug\"\n[fast-path]\ninterface = [\"a\", \"b\"]\n");
  auto loaded = load(file.path(), {"--v6-nodes", "1024"});
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  EXPECT_EQ(loaded->config_source, file.path());
  EXPECT_EQ(loaded->values.at("log-level").value, "debug");
  EXPECT_EQ(loaded->values.at("log-level").option, "--log-level");
  EXPECT_EQ(loaded->values.at("fast-path.interface").value, "a,b");
  EXPECT_EQ(loaded->values.at("fast-path.v6-nodes").value, "1024");
  EXPECT_EQ(loaded->values.at("rib.max-routes").value, "");  // the default
}

// dist/fpm-sink.toml is what the package installs: it must parse, every
// option must appear in it (as "# key = default"), and each shown value must
// be valid, so the documentation cannot fall behind the options.
TEST(ExampleConfig, ParsesAndDocumentsEveryOption) {
  const std::string path = std::string(FPM_SINK_SOURCE_DIR) + "/dist/fpm-sink.toml";
  std::ifstream in(path);
  ASSERT_TRUE(in) << path;
  std::stringstream text;
  text << in.rdbuf();
  auto as_is = apply(text.str());
  EXPECT_TRUE(as_is.problems.empty()) << joined(as_is.problems);

  // Uncomment every "# key = value" line.
  const std::regex setting(R"(^# ?([a-z0-9][a-z0-9-]*) = (.*)$)");
  const std::regex section(R"(^\[([a-z0-9-]+)\]\s*$)");
  std::set<std::string> documented;
  std::string current, uncommented, line;
  std::istringstream lines(text.str());
  while (std::getline(lines, line)) {
    std::smatch m;
    if (std::regex_match(line, m, section)) current = m[1];
    if (std::regex_match(line, m, setting)) {
      documented.insert(current.empty() ? std::string(m[1]) : current + "." + std::string(m[1]));
      line = std::string(m[1]) + " = " + std::string(m[2]);
    }
    uncommented += line + "\n";
  }
  auto all = apply(uncommented);
  EXPECT_TRUE(all.problems.empty()) << joined(all.problems);

  Options opts;
  CLI::App app;
  add_options(app, opts);
  for (const auto& k : config_keys(app))
    EXPECT_TRUE(documented.contains(k.key)) << k.key << " is not in dist/fpm-sink.toml";
  for (const auto& key : documented) {
    const auto keys = config_keys(app);
    EXPECT_TRUE(
        std::any_of(keys.begin(), keys.end(), [&](const ConfigKey& k) { return k.key == key; }))
        << key << " in dist/fpm-sink.toml is no option";
  }
}

TEST(ConfigReloader, AppliesLiveKeysAndNamesTheRest) {
  TempFile file("log-level = \"info\"\n[fast-path]\nv6-nodes = 1024\n");
  auto start = load(file.path());
  ASSERT_TRUE(start) << start.error().to_string();
  ConfigReloader reloader({"--config", file.path()}, *start);
  std::vector<std::string> applied_levels;
  reloader.on_change("--log-level", [&](const Options& o) -> Status {
    applied_levels.push_back(o.log_level);
    return ok_status();
  });
  reloader.on_change("--interface", [](const Options&) -> Status {
    return Error{"test.fast_path_off", "no fast path"};
  });

  // Nothing changed: nothing applied.
  auto same = reloader.reload();
  EXPECT_TRUE(same.loaded);
  EXPECT_TRUE(same.applied.empty());
  EXPECT_TRUE(same.restart_needed.empty());

  file.write("log-level = \"debug\"\n[fast-path]\nv6-nodes = 2048\ninterface = [\"eth1\"]\n");
  auto changed = reloader.reload();
  EXPECT_TRUE(changed.loaded);
  EXPECT_EQ(changed.applied, std::vector<std::string>{"log-level"});
  EXPECT_EQ(changed.restart_needed,
            (std::vector<std::string>{"fast-path.interface", "fast-path.v6-nodes"}));
  EXPECT_EQ(applied_levels, std::vector<std::string>{"debug"});
  EXPECT_EQ(reloader.running().values.at("log-level").value, "debug");
  // What waits for a restart is still the running value: named again next time.
  EXPECT_EQ(reloader.running().values.at("fast-path.v6-nodes").value, "1024");

  file.write("log-level = \"chatty\"\n");
  auto bad = reloader.reload();
  EXPECT_FALSE(bad.loaded);
  EXPECT_EQ(applied_levels.size(), 1u);
  EXPECT_EQ(reloader.running().values.at("log-level").value, "debug");
}

}  // namespace
}  // namespace fpm_sink
