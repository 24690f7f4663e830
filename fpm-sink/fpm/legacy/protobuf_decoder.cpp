#include "fpm/legacy/protobuf_decoder.hpp"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "common/main_table.hpp"
#include "legacy/fpm.pb.h"

namespace fpm_sink {
namespace {

// Carries the first thing wrong with a message up to decode_protobuf, which owns
// the counting; keeps each helper free of DecodeStats.
struct Reject {
  std::string id;
  std::string reason;
};

template <typename T>
using Checked = std::variant<T, Reject>;

Reject reject(std::string id, std::string reason) {
  return {std::move(id), std::move(reason)};
}

Reject missing(const char* field) {
  return reject("fpm.pb.missing_field", field);
}

// The rtm_protocol zebra's netlink encoder (zebra2proto) would have used.
uint8_t to_rtm_protocol(qpb::Protocol p) {
  switch (p) {
    case qpb::LOCAL:
    case qpb::CONNECTED:
    case qpb::KERNEL:
      return proto_id::kernel;
    case qpb::STATIC:
      return proto_id::zstatic;
    case qpb::RIP:
      return proto_id::rip;
    case qpb::RIPNG:
      return proto_id::ripng;
    case qpb::OSPF:
      return proto_id::ospf;
    case qpb::ISIS:
      return proto_id::isis;
    case qpb::BGP:
      return proto_id::bgp;
    default:
      return proto_id::zebra;
  }
}

std::optional<Family> to_family(qpb::AddressFamily af) {
  if (af == qpb::IPV4) return Family::V4;
  if (af == qpb::IPV6) return Family::V6;
  return std::nullopt;
}

Checked<Prefix> to_prefix(Family family, const fpm::RouteKey& key) {
  if (!key.has_prefix()) return missing("key.prefix");
  const qpb::L3Prefix& pb = key.prefix();
  if (!pb.has_length()) return missing("key.prefix.length");
  if (!pb.has_bytes()) return missing("key.prefix.bytes");
  if (pb.length() > max_prefix_len(family)) {
    return reject("fpm.pb.bad_prefixlen", "length " + std::to_string(pb.length()) + " exceeds " +
                                              std::to_string(max_prefix_len(family)));
  }
  // zebra sends only the (len + 7) / 8 significant bytes; anything between that and
  // the full address width is tolerated (host bits are cleared below).
  const size_t need = (pb.length() + 7) / 8;
  const std::string& raw = pb.bytes();
  if (raw.size() < need || raw.size() > address_bytes(family)) {
    return reject("fpm.pb.bad_prefix_bytes",
                  std::to_string(raw.size()) + " bytes for /" + std::to_string(pb.length()));
  }
  IpAddr addr;
  addr.family = family;
  std::copy(raw.begin(), raw.end(), addr.bytes.begin());
  return *Prefix::make(addr, pb.length());
}

Checked<IpAddr> to_address(const qpb::L3Address& pb) {
  if (pb.has_v4()) {
    if (!pb.v4().has_value()) return missing("nexthop.address.v4.value");
    return IpAddr::v4(pb.v4().value());  // zebra stored ntohl(s_addr)
  }
  if (pb.has_v6()) {
    const std::string& raw = pb.v6().bytes();
    auto a = IpAddr::from_bytes(
        Family::V6, std::span(reinterpret_cast<const uint8_t*>(raw.data()), raw.size()));
    if (!a) {
      return reject("fpm.pb.bad_address",
                    "ipv6 next hop of " + std::to_string(raw.size()) + " bytes");
    }
    return *a;
  }
  return reject("fpm.pb.bad_address", "next-hop address with neither v4 nor v6");
}

Checked<WeightedNextHop> to_nexthop(const fpm::Nexthop& pb) {
  WeightedNextHop out;
  if (pb.has_if_id() && pb.if_id().has_index()) out.nh.ifindex = pb.if_id().index();
  if (pb.has_address()) {
    auto a = to_address(pb.address());
    if (auto* r = std::get_if<Reject>(&a)) return std::move(*r);
    out.nh.gateway = std::get<IpAddr>(a);
  }
  // An interface name alone would need a lookup, which a pure decoder cannot do;
  // zebra never sends one, so such a next hop is treated as empty.
  if (!out.nh.gateway && out.nh.ifindex == 0) {
    return reject("fpm.pb.bad_nexthop", "next hop with neither address nor if_id.index");
  }
  return out;
}

// Fields shared by AddRoute and DeleteRoute. skip marks a non-unicast SAFI, which
// the fast path does not serve.
struct RouteHead {
  uint32_t table = kMainTable;
  Prefix prefix;
  bool skip = false;
};

template <typename Pb>
Checked<RouteHead> to_head(const Pb& pb) {
  if (!pb.has_vrf_id()) return missing("vrf_id");
  if (!pb.has_address_family()) return missing("address_family");
  if (!pb.has_sub_address_family()) return missing("sub_address_family");
  if (!pb.has_key()) return missing("key");
  if (pb.vrf_id() != 0) {
    return reject("fpm.pb.vrf_unsupported", "vrf_id " + std::to_string(pb.vrf_id()));
  }
  auto family = to_family(pb.address_family());
  if (!family) {
    return reject("fpm.pb.bad_family",
                  "address_family " + std::to_string(static_cast<int>(pb.address_family())));
  }
  auto prefix = to_prefix(*family, pb.key());
  if (auto* r = std::get_if<Reject>(&prefix)) return std::move(*r);
  RouteHead head;
  head.prefix = std::get<Prefix>(prefix);
  head.skip = pb.sub_address_family() != qpb::UNICAST;
  return head;
}

RouteType to_route_type(const fpm::AddRoute& pb) {
  if (!pb.has_route_type()) return RouteType::Unicast;  // optional; zebra always sets it
  switch (pb.route_type()) {
    case fpm::NORMAL:
      return RouteType::Unicast;
    case fpm::BLACKHOLE:
      return RouteType::Blackhole;
    case fpm::UNREACHABLE:
      return RouteType::Unreachable;
    default:
      return RouteType::Other;
  }
}

Checked<std::optional<FpmEvent>> to_add(const fpm::AddRoute& pb) {
  auto head = to_head(pb);
  if (auto* r = std::get_if<Reject>(&head)) return std::move(*r);
  if (!pb.has_protocol()) return missing("protocol");
  if (!pb.has_metric()) return missing("metric");
  if (std::get<RouteHead>(head).skip) return std::optional<FpmEvent>{};

  RouteAdd add;
  add.table = std::get<RouteHead>(head).table;
  add.prefix = std::get<RouteHead>(head).prefix;
  add.protocol = to_rtm_protocol(pb.protocol());
  add.metric = static_cast<uint32_t>(pb.metric());
  add.type = to_route_type(pb);
  if (add.type == RouteType::Unicast) {
    add.nexthops.reserve(pb.nexthops_size());
    for (const fpm::Nexthop& nh : pb.nexthops()) {
      auto w = to_nexthop(nh);
      if (auto* r = std::get_if<Reject>(&w)) return std::move(*r);
      add.nexthops.push_back(std::get<WeightedNextHop>(w));
    }
    if (add.nexthops.empty()) {
      return reject("fpm.pb.no_nexthop", "NORMAL route " + add.prefix.to_string());
    }
  }
  return std::optional<FpmEvent>{std::move(add)};
}

Checked<std::optional<FpmEvent>> to_del(const fpm::DeleteRoute& pb) {
  auto head = to_head(pb);
  if (auto* r = std::get_if<Reject>(&head)) return std::move(*r);
  if (std::get<RouteHead>(head).skip) return std::optional<FpmEvent>{};
  RouteDel del;
  del.table = std::get<RouteHead>(head).table;
  del.prefix = std::get<RouteHead>(head).prefix;
  return std::optional<FpmEvent>{std::move(del)};
}

}  // namespace

DecodedFrame decode_protobuf(std::span<const uint8_t> body, DecodeStats& stats) {
  DecodedFrame out;
  ++stats.messages;
  auto fail = [&](std::string id, std::string reason) {
    ++stats.errors;
    out.errors.push_back(DecodeError{std::move(id), std::move(reason), 0});
  };

  // Partial parse: missing required fields are reported by name below instead of a
  // single opaque parse failure.
  fpm::Message msg;
  if (body.size() > static_cast<size_t>(INT32_MAX) ||
      !msg.ParsePartialFromArray(body.data(), static_cast<int>(body.size()))) {
    out.complete = false;
    fail("fpm.pb.parse_failed",
         "not a valid fpm.Message (" + std::to_string(body.size()) + " bytes)");
    return out;
  }

  Checked<std::optional<FpmEvent>> event = std::optional<FpmEvent>{};
  switch (msg.has_type() ? msg.type() : fpm::Message::UNKNOWN_MSG) {
    case fpm::Message::ADD_ROUTE:
      if (!msg.has_add_route()) {
        event = missing("add_route");
        break;
      }
      event = to_add(msg.add_route());
      break;
    case fpm::Message::DELETE_ROUTE:
      if (!msg.has_delete_route()) {
        event = missing("delete_route");
        break;
      }
      event = to_del(msg.delete_route());
      break;
    default:
      ++stats.unknown_type;
      fail("fpm.pb.unknown_type",
           msg.has_type() ? "type " + std::to_string(static_cast<int>(msg.type())) : "no type");
      return out;
  }

  if (auto* r = std::get_if<Reject>(&event)) {
    fail(std::move(r->id), std::move(r->reason));
    return out;
  }
  auto& ev = std::get<std::optional<FpmEvent>>(event);
  if (!ev) {
    ++stats.skipped_family;
    return out;
  }
  if (std::holds_alternative<RouteAdd>(*ev)) {
    ++stats.new_route;
  } else {
    ++stats.del_route;
  }
  out.events.push_back(std::move(*ev));
  return out;
}

}  // namespace fpm_sink
