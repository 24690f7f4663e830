// Helpers for bench drivers that play zebra towards a running fpm-sink. Every
// failure throws std::runtime_error: a bench that cannot set up has no figure.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "common/ip.hpp"
#include "common/result.hpp"
#include "control.pb.h"

namespace fpm_sink::bench {

// One prefix per line (blank lines skipped), as bench/ingest/prefix_tool writes them.
std::vector<Prefix> load_prefixes(const std::string& path);

// Throws the error of a failed encoder step.
void check(const Status& st);

// A TCP connection to fpm-sink's FPM listener on 127.0.0.1:port.
int connect_fpm(uint16_t port);

// `show fpm` over the control socket.
control::FpmReply show_fpm(const std::string& socket, std::chrono::milliseconds timeout);

}  // namespace fpm_sink::bench
