// Turns the RIB model into control-API replies. Read-only over the Rib.
#pragma once

#include "common/result.hpp"
#include "control.pb.h"
#include "rib/rib.hpp"

namespace fpm_sink::control {

// Errors: control.bad_prefix (the filter is neither a prefix nor an address).
Status query_routes(const Rib& rib, const ShowRoutes& req, RoutesReply* out);
void query_groups(const Rib& rib, NexthopGroupsReply* out);

}  // namespace fpm_sink::control
