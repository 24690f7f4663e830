// SIGHUP: the options are loaded again (command line + config file, exactly as
// at start). Options that can change while running are applied through the
// appliers main registers (ports, log level, allowed peers); every other
// change is logged as needing a restart, and a file that does not load is
// logged while the running config stays.
//
// Log lines, one per key: config.reload.applied / config.reload.restart_needed
// key=KEY old=... new=...; config.reload.failed for a bad file.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "app/option_loader.hpp"
#include "common/result.hpp"

namespace fpm_sink {

struct ReloadOutcome {
  bool loaded = false;                      // false: the file or the command line did not validate
  std::vector<std::string> applied;         // config keys
  std::vector<std::string> restart_needed;  // config keys
};

class ConfigReloader {
 public:
  // An error means the change could not be made live: logged as restart_needed.
  using Apply = std::function<Status(const Options&)>;

  ConfigReloader(std::vector<std::string> args, LoadedOptions running);
  // option: its long name, "--log-level". Appliers are idempotent: two
  // changed options that share one run it twice.
  void on_change(const std::string& option, Apply apply);
  ReloadOutcome reload();
  const LoadedOptions& running() const { return running_; }

 private:
  std::vector<std::string> args_;
  LoadedOptions running_;
  std::map<std::string, Apply> appliers_;
};

}  // namespace fpm_sink
