// Turns the RIB model into control-API replies. Read-only over the Rib.
#pragma once

#include "common/result.hpp"
#include "control.pb.h"
#include "rib/rib.hpp"

namespace fpm_sink::control {

// One route as `show routes` shows it (see route_dump.hpp for the whole reply).
void fill_route(const Rib& rib, const RibRoute& r, control::Route* out);
void query_groups(const Rib& rib, NexthopGroupsReply* out);

}  // namespace fpm_sink::control
