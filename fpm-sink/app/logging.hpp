// Process-wide logging: spdlog for our own lines, libbpf's messages routed
// into the same logger so BPF load failures land next to everything else.
#pragma once

#include <string>

namespace fpm_sink {

// level: trace, debug, info, warn, error, critical, off. Call once at start-up.
void setup_logging(const std::string& level);

}  // namespace fpm_sink
