// Decoder for FRR's deprecated protobuf FPM encoding (`zebra -M fpm:protobuf`,
// frame type 2). Same contract as decode_netlink: a pure function over one frame
// body that yields the encoding-independent events of common/events.hpp.
//
// Mapping decisions (from FRR's zebra_fpm_protobuf.c / qpb.h):
// - vrf_id is zebra's VRF id, not a kernel table. VRF 0 is the default VRF and maps to
//   table 254 (main). Other VRFs cannot be mapped to a table from the message alone, so
//   they are rejected with fpm.pb.vrf_unsupported rather than guessed.
// - The encoding carries no weights and no next-hop groups: every next hop gets
//   weight 1 and routes come with nhg_id 0 (inline next hops).
// - qpb.Protocol is folded onto the rtm_protocol zebra uses on the netlink path, so
//   the RIB sees the same protocol whichever encoding zebra was built with.
//
// Error ids (each rejects the whole message, counted in DecodeStats::errors):
//   fpm.pb.parse_failed       body is not a valid fpm.Message
//   fpm.pb.unknown_type       Message.type absent or not ADD_ROUTE / DELETE_ROUTE
//   fpm.pb.missing_field      a field the route needs is absent (reason names it)
//   fpm.pb.bad_family         address_family is not IPV4 / IPV6
//   fpm.pb.vrf_unsupported    vrf_id != 0
//   fpm.pb.bad_prefixlen      prefix length exceeds the family's width
//   fpm.pb.bad_prefix_bytes   prefix bytes too short for the length, or wider than the family
//   fpm.pb.bad_address        next-hop address of the wrong size, or neither v4 nor v6
//   fpm.pb.bad_nexthop        next hop with neither an address nor an interface index
//   fpm.pb.no_nexthop         NORMAL route without any next hop
// Non-unicast sub-address families are skipped on purpose (DecodeStats::skipped_family).
#pragma once

#include <cstdint>
#include <span>

#include "fpm/decode.hpp"

namespace fpm_sink {

// body = one FPM frame of type 2 = one serialized fpm.Message.
DecodedFrame decode_protobuf(std::span<const uint8_t> body, DecodeStats& stats);

}  // namespace fpm_sink
