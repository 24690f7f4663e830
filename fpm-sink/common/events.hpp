// The RIB's vocabulary: routes and next-hop objects as plain values,
// independent of the wire encoding. The FPM decoders (fpm/, netlink or the
// legacy protobuf) produce them and the RIB model (rib/) consumes them, so they
// live below both.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/ip.hpp"
#include "common/main_table.hpp"

namespace fpm_sink {

// rtm_protocol values zebra uses (linux/rtnetlink.h + FRR's rt_netlink.h).
namespace proto_id {
constexpr uint8_t kernel = 2, boot = 3, static_ = 4, zebra = 11, bgp = 186, isis = 187, ospf = 188,
                  rip = 189, ripng = 190, babel = 42, eigrp = 192, ldp = 193, sharp = 194,
                  pbr = 195, zstatic = 196, openfabric = 197, srte = 198;
}
std::string protocol_name(uint8_t rtm_protocol);

// RTN_* route types that matter to a forwarding plane.
enum class RouteType : uint8_t { Unicast, Blackhole, Unreachable, Prohibit, Local, Other };
std::string_view to_string(RouteType t);

struct NextHop {
  std::optional<IpAddr> gateway;  // none for directly connected / interface-only next hops
  uint32_t ifindex = 0;           // 0 if not given
  bool onlink = false;            // RTNH_F_ONLINK (BGP unnumbered: 169.254.0.1 + ifindex)
  bool blackhole = false;         // NHA_BLACKHOLE

  auto operator<=>(const NextHop&) const = default;
};

struct WeightedNextHop {
  NextHop nh;
  uint16_t weight = 1;  // 1..256 (wire carries weight-1 in rtnh_hops)

  auto operator<=>(const WeightedNextHop&) const = default;
};

struct RouteAdd {
  uint32_t table = kMainTable;  // RTA_TABLE if present, else rtm_table
  Prefix prefix;
  uint8_t protocol = 0;  // rtm_protocol
  uint32_t metric = 0;   // RTA_PRIORITY
  RouteType type = RouteType::Unicast;
  uint32_t nhg_id = 0;                    // RTA_NH_ID; 0 means the next hops are inline
  std::vector<WeightedNextHop> nexthops;  // RTA_GATEWAY/RTA_OIF, or RTA_MULTIPATH members
  bool replace = false;                   // NLM_F_REPLACE (informational: adds are upserts)
};

struct RouteDel {
  uint32_t table = kMainTable;
  Prefix prefix;
  uint8_t protocol = 0;
  uint32_t metric = 0;
};

struct NexthopGroupMember {
  uint32_t id = 0;
  uint16_t weight = 1;  // 1..256

  auto operator<=>(const NexthopGroupMember&) const = default;
};

struct NexthopAdd {
  uint32_t id = 0;  // NHA_ID
  uint8_t protocol = 0;
  Family family = Family::V4;  // nhmsg family of a single next hop; groups always V4
  // A single next hop (gateway/oif/blackhole) or a group of other next-hop ids.
  std::variant<NextHop, std::vector<NexthopGroupMember>> body;
  bool replace = false;
};

struct NexthopDel {
  uint32_t id = 0;
};

using FpmEvent = std::variant<RouteAdd, RouteDel, NexthopAdd, NexthopDel>;

}  // namespace fpm_sink
