// The fpm-sinkctl side of the control socket: one request, its reply in one or
// more parts (Response.more).
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "common/result.hpp"
#include "control.pb.h"

namespace fpm_sink::control {

// Called with each part as it arrives; the last one has more() == false.
using PartHandler = std::function<void(Response&& part)>;

// Sends `request` (accept_parts set) and hands every part of the reply to
// on_part. `timeout` bounds the wait for each part, not the whole reply: a
// full table takes a while, but the daemon never goes quiet for long.
// Errors: control.client.connect (err: the errno of connect()), control.client.io,
// control.client.timeout, control.client.too_large, control.client.malformed.
Status call_parts(const std::string& socket_path, Request request, const PartHandler& on_part,
                  std::chrono::milliseconds timeout = std::chrono::seconds(30));

// The same, with the parts merged into one Response.
Result<Response> call(const std::string& socket_path, const Request& request,
                      std::chrono::milliseconds timeout = std::chrono::seconds(30));

}  // namespace fpm_sink::control
