// The fpm-sinkctl side of the control socket: one request, one response.
#pragma once

#include <chrono>
#include <string>

#include "common/result.hpp"
#include "control.pb.h"

namespace fpm_sink::control {

// Errors: control.client.connect, control.client.io, control.client.timeout,
// control.client.too_large, control.client.malformed.
Result<Response> call(const std::string& socket_path, const Request& request,
                      std::chrono::milliseconds timeout = std::chrono::seconds(30));

}  // namespace fpm_sink::control
