#include "app/logging.hpp"

#include <bpf/libbpf.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdarg>
#include <cstdio>

namespace fpm_sink {
namespace {

int libbpf_to_spdlog(enum libbpf_print_level level, const char* format, va_list args) {
  const auto lvl = level == LIBBPF_WARN   ? spdlog::level::warn
                   : level == LIBBPF_INFO ? spdlog::level::info
                                          : spdlog::level::debug;
  if (!spdlog::should_log(lvl)) return 0;
  char buf[1024];
  int n = std::vsnprintf(buf, sizeof buf, format, args);
  if (n < 0) return n;
  std::string_view text(buf, std::min<size_t>(static_cast<size_t>(n), sizeof buf - 1));
  while (!text.empty() && text.back() == '\n') text.remove_suffix(1);  // spdlog adds its own
  spdlog::log(lvl, "libbpf: {}", text);
  return n;
}

}  // namespace

void setup_logging(const std::string& level) {
  // stderr keeps stdout free and is what journald captures for a service.
  auto logger = spdlog::stderr_color_mt("fpm-sink");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  spdlog::set_level(spdlog::level::from_str(level));
  libbpf_set_print(libbpf_to_spdlog);
}

}  // namespace fpm_sink
