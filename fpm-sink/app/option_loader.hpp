// Where the daemon's options come from, in order of precedence: the command
// line, then the config file (--config, default /etc/fpm-sink/fpm-sink.toml),
// then the built-in defaults. Used at start, by --check-config and on SIGHUP.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "app/options.hpp"
#include "common/result.hpp"

namespace CLI {
class App;
}

namespace fpm_sink {

struct ConfigValue {
  std::string option;  // "--interface": what the reload decides on
  std::string value;   // what the option holds after validation, "a,b" for lists; "" = default
};

struct LoadedOptions {
  Options options;
  std::string config_source;                  // the file read; "" when the default file is absent
  std::map<std::string, ConfigValue> values;  // by config key, every configurable option
};

// After app.parse() on an app set up by add_options(app, opts): reads the
// config file (a missing default file is fine, a missing --config file is
// not), validates every key (those the command line overrides too), applies
// the others, then finish_options(). Error config.invalid, one problem per
// line of its message, each naming the key, the value and what is wrong.
Result<LoadedOptions> complete_options(CLI::App& app, Options& opts);

// The whole load from the process's arguments (argv without argv[0]), as at
// start; SIGHUP calls it to read the file again.
Result<LoadedOptions> load_options(const std::vector<std::string>& args);

}  // namespace fpm_sink
