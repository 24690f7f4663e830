// `show routes ADDR from SRC proto P sport S dport D`: which ECMP member the
// XDP program sends that flow to, computed with its own hash
// (dataplane/flow_hash.hpp) over the live group buckets and next-hop entries.
#pragma once

#include "app/xdp_dataplane.hpp"
#include "common/result.hpp"
#include "control.pb.h"
#include "dataplane/flow_hash.hpp"

namespace fpm_sink {

// The request's flow with `destination` (ShowRoutes.prefix, a bare address).
// Error control.bad_flow: unparsable source, mixed families, ports > 65535,
// protocol > 255, or a destination that is a prefix.
Result<FlowKey> flow_key(const std::string& destination, const control::Flow& flow);

// Adds a flow_path to every route of `routes` (those from the longest-match
// query for the flow's destination). fp null: no fast path, nothing forwarded.
void annotate_flow_path(const XdpDataplane* fp, const FlowKey& flow, control::RoutesReply* routes);

}  // namespace fpm_sink
