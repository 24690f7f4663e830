#include "app/option_loader.hpp"

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>

#include "app/config_file.hpp"
#include "app/peer_policy.hpp"

namespace fpm_sink {
namespace {

// The file's text; nullopt and no problem when the default file is absent.
std::optional<std::string> read_config(const std::string& path, bool named,
                                       std::vector<std::string>& problems) {
  std::ifstream in(path);
  if (!in) {
    const int e = errno;
    if (e == ENOENT && !named) return std::nullopt;
    problems.push_back("config.file path=" + path + ": cannot read it: " + std::strerror(e));
    return std::nullopt;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string joined(const std::vector<std::string>& items, const char* sep) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : sep) + s;
  return out;
}

}  // namespace

Result<LoadedOptions> complete_options(CLI::App& app, Options& opts) {
  std::vector<std::string> problems;
  LoadedOptions loaded;
  const bool named = app.get_option("--config")->count() > 0;
  if (auto text = read_config(opts.config_path, named, problems)) {
    loaded.config_source = opts.config_path;
    // Every key is validated on a fresh app first: on the real one, keys the
    // command line overrides are not fed through their option.
    Options scratch;
    CLI::App scratch_app;
    add_options(scratch_app, scratch);
    problems = apply_config_text(scratch_app, *text, opts.config_path);
    if (problems.empty()) problems = apply_config_text(app, *text, opts.config_path);
  }
  if (problems.empty()) {
    try {
      finish_options(opts);
    } catch (const CLI::Error& e) {
      problems.push_back(std::string("config.bad_value ") + e.what());
    }
  }
  if (problems.empty()) {
    // User names resolve now, so --check-config catches a user that does not exist.
    if (auto policy = make_peer_policy(opts.fpm_allow_users, opts.fpm_allow_peers); !policy)
      problems.push_back("config.bad_value " + policy.error().to_string());
  }
  if (!problems.empty()) return Error{"config.invalid", joined(problems, "\n")};
  for (const auto& key : config_keys(app))
    loaded.values[key.key] =
        ConfigValue{key.option->get_name(), joined(key.option->results(), ",")};
  loaded.options = opts;
  return loaded;
}

Result<LoadedOptions> load_options(const std::vector<std::string>& args) {
  Options opts;
  CLI::App app;
  add_options(app, opts);
  try {
    app.parse(std::vector<std::string>(args.rbegin(), args.rend()));  // CLI11 pops from the back
  } catch (const CLI::Error& e) {
    return Error{"config.invalid", std::string("command line: ") + e.what()};
  }
  return complete_options(app, opts);
}

}  // namespace fpm_sink
