// Answers control-API requests from the daemon's live state.
#pragma once

#include "app/fast_path_runtime.hpp"
#include "app/fpm_server.hpp"
#include "control.pb.h"
#include "rib/rib.hpp"

namespace fpm_sink {

control::FpmReply fpm_reply(const Rib& rib, const FpmServer& fpm);
// fp is null when the daemon runs without a fast path.
control::Response handle_control_request(const control::Request& req, const Rib& rib,
                                         const FpmServer& fpm, const FastPathRuntime* fp = nullptr);

}  // namespace fpm_sink
