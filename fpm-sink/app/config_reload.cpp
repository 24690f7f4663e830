#include "app/config_reload.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace fpm_sink {
namespace {

std::string shown(const std::string& value) {
  return value.empty() ? "(default)" : value;
}

}  // namespace

ConfigReloader::ConfigReloader(std::vector<std::string> args, LoadedOptions running)
    : args_(std::move(args)), running_(std::move(running)) {}

void ConfigReloader::on_change(const std::string& option, Apply apply) {
  appliers_[option] = std::move(apply);
}

ReloadOutcome ConfigReloader::reload() {
  ReloadOutcome outcome;
  auto next = load_options(args_);
  if (!next) {
    // One line per problem: each names its key.
    size_t start = 0;
    const std::string& all = next.error().message;
    while (start <= all.size()) {
      const size_t end = std::min(all.find('\n', start), all.size());
      spdlog::error("config.reload.failed {}; the running config stays",
                    all.substr(start, end - start));
      start = end + 1;
    }
    return outcome;
  }
  outcome.loaded = true;
  for (const auto& [key, value] : next->values) {
    auto& running = running_.values[key];
    if (running.value == value.value) continue;
    const auto applier = appliers_.find(value.option);
    const Status st =
        applier != appliers_.end()
            ? applier->second(next->options)
            : Status{Error{"config.reload.restart_needed", "takes effect at the next start"}};
    if (st) {
      spdlog::info("config.reload.applied key={} old={} new={}", key, shown(running.value),
                   shown(value.value));
      running = value;
      outcome.applied.push_back(key);
    } else {
      spdlog::warn("config.reload.restart_needed key={} old={} new={}: {}", key,
                   shown(running.value), shown(value.value), st.error().message);
      outcome.restart_needed.push_back(key);
    }
  }
  spdlog::info("config.reload.done source={} applied={} restart_needed={}",
               next->config_source.empty() ? "(no file)" : next->config_source,
               outcome.applied.size(), outcome.restart_needed.size());
  return outcome;
}

}  // namespace fpm_sink
