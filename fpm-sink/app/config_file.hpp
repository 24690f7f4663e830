// The TOML config file as a second source of command-line options. The key of
// an option is derived from the option itself, so a new option is a key
// without a second list to keep:
//   section = its CLI11 group, lowercased, spaces as dashes ("Fast path" ->
//             [fast-path]); the default group "Options" is the top level;
//   name    = its long name without the dashes (--v6-nodes -> v6-nodes).
// The TOML type follows the option's: a flag or a bool option takes a
// boolean, INT / UINT an integer, FLOAT a number, anything else a string; a
// repeatable option takes an array of those (or one of them). Values are fed
// through the option's own CLI11 validators, so ranges live in one place
// (app/options.cpp). Options marked configurable(false) have no key.
#pragma once

#include <string>
#include <vector>

namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace fpm_sink {

struct ConfigKey {
  std::string key;        // "fast-path.interface", "log-level"
  std::string section;    // "fast-path", "" for the top level
  std::string name;       // "interface"
  std::string toml_type;  // "boolean", "integer", "number", "string"
  bool repeatable = false;
  CLI::Option* option = nullptr;
};

// Every configurable option of app, in registration order.
std::vector<ConfigKey> config_keys(const CLI::App& app);

// Parses text (the file's contents; source names it in messages) and feeds
// every key into the option it belongs to, unless the command line already
// set that option. Every key is validated either way. Returns one line per
// problem, naming the key, the value and what is wrong ("config.syntax",
// "config.unknown_key", "config.bad_type", "config.bad_value"); empty: all good.
std::vector<std::string> apply_config_text(const CLI::App& app, const std::string& text,
                                           const std::string& source);

}  // namespace fpm_sink
