// Answers control-API requests from the daemon's live state.
#pragma once

#include "app/fpm_server.hpp"
#include "app/xdp_dataplane.hpp"
#include "control.pb.h"
#include "control/server.hpp"
#include "rib/rib.hpp"

namespace fpm_sink {

control::FpmReply fpm_reply(const Rib& rib, const FpmServer& fpm);
// fp is null when the daemon runs without a fast path. `show routes` is a
// ReplyStream over the live RIB: the Rib (and fp) must outlive the server's
// connections, i.e. the io_context's run.
control::Reply handle_control_request(const control::Request& req, const Rib& rib,
                                      const FpmServer& fpm, const XdpDataplane* fp = nullptr);

}  // namespace fpm_sink
