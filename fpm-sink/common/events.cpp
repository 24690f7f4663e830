#include "common/events.hpp"

namespace fpm_sink {

std::string protocol_name(uint8_t p) {
  switch (p) {
    case proto_id::kernel:
      return "kernel";
    case proto_id::boot:
      return "boot";
    case proto_id::static_:
      return "static";
    case proto_id::zebra:
      return "zebra";
    case proto_id::bgp:
      return "bgp";
    case proto_id::isis:
      return "isis";
    case proto_id::ospf:
      return "ospf";
    case proto_id::rip:
      return "rip";
    case proto_id::ripng:
      return "ripng";
    case proto_id::babel:
      return "babel";
    case proto_id::eigrp:
      return "eigrp";
    case proto_id::ldp:
      return "ldp";
    case proto_id::sharp:
      return "sharp";
    case proto_id::pbr:
      return "pbr";
    case proto_id::zstatic:
      return "static";
    case proto_id::openfabric:
      return "openfabric";
    case proto_id::srte:
      return "srte";
    default:
      return "proto-" + std::to_string(p);
  }
}

std::string_view to_string(RouteType t) {
  switch (t) {
    case RouteType::Unicast:
      return "unicast";
    case RouteType::Blackhole:
      return "blackhole";
    case RouteType::Unreachable:
      return "unreachable";
    case RouteType::Prohibit:
      return "prohibit";
    case RouteType::Local:
      return "local";
    case RouteType::Other:
      return "other";
  }
  return "other";
}

}  // namespace fpm_sink
