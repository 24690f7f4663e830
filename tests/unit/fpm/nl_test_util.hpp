// Shared helpers for the FPM netlink tests: build inputs with the builder, decode them, and
// compare decoded events field by field (events.hpp types have no operator==).
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <linux/nexthop.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <string>
#include <vector>

#include "fpm/decode.hpp"
#include "fpm/netlink_builder.hpp"

namespace fpm_sink::test {

inline IpAddr ip(const char* s) {
  auto a = IpAddr::parse(s);
  EXPECT_TRUE(a.has_value()) << s;
  return a.value_or(IpAddr{});
}

inline Prefix pfx(const char* s) {
  auto p = Prefix::parse(s);
  EXPECT_TRUE(p.has_value()) << s;
  return p.value_or(Prefix{});
}

inline WeightedNextHop via(const char* gw, uint32_t ifindex, uint16_t weight = 1,
                           bool onlink = false) {
  WeightedNextHop w;
  if (gw) w.nh.gateway = ip(gw);
  w.nh.ifindex = ifindex;
  w.nh.onlink = onlink;
  w.weight = weight;
  return w;
}

inline RouteAdd route(const char* prefix, std::vector<WeightedNextHop> nhs = {},
                      uint32_t table = 254) {
  RouteAdd r;
  r.prefix = pfx(prefix);
  r.table = table;
  r.protocol = proto_id::bgp;
  r.metric = 20;
  r.nexthops = std::move(nhs);
  r.replace = true;
  return r;
}

struct Decoded {
  DecodedFrame frame;
  DecodeStats stats;

  const DecodeError* error() const { return frame.errors.empty() ? nullptr : &frame.errors[0]; }
  std::string error_id() const { return frame.errors.empty() ? "" : frame.errors[0].id; }
  template <typename T>
  const T& event(size_t i) const {
    EXPECT_LT(i, frame.events.size());
    EXPECT_TRUE(std::holds_alternative<T>(frame.events.at(i))) << "event " << i;
    return std::get<T>(frame.events.at(i));
  }
};

inline Decoded decode(const std::vector<uint8_t>& body) {
  Decoded d;
  d.frame = decode_netlink(body, d.stats);
  return d;
}

inline std::vector<uint8_t> body_of(const FpmEvent& e, const EncodeOptions& opt = {}) {
  std::vector<uint8_t> out;
  EXPECT_TRUE(append_event(out, e, opt).ok());
  return out;
}

// A route message with an empty attribute area, for crafting bad input.
inline NlMessageWriter raw_route(uint8_t family, uint8_t dst_len, uint16_t type = RTM_NEWROUTE,
                                 uint8_t rtm_type = RTN_UNICAST) {
  rtmsg rtm{};
  rtm.rtm_family = family;
  rtm.rtm_dst_len = dst_len;
  rtm.rtm_table = RT_TABLE_MAIN;
  rtm.rtm_protocol = proto_id::bgp;
  rtm.rtm_type = rtm_type;
  return NlMessageWriter::with(type, NLM_F_REQUEST | NLM_F_CREATE, rtm);
}

inline NlMessageWriter raw_nexthop(uint8_t family, uint16_t type = RTM_NEWNEXTHOP,
                                   uint32_t nh_flags = 0) {
  nhmsg nhm{};
  nhm.nh_family = family;
  nhm.nh_protocol = proto_id::zebra;
  nhm.nh_flags = nh_flags;
  return NlMessageWriter::with(type, NLM_F_REQUEST | NLM_F_CREATE | NLM_F_REPLACE, nhm);
}

inline std::vector<uint8_t> bytes_of(const NlMessageWriter& w) {
  std::vector<uint8_t> out;
  EXPECT_TRUE(w.append_to(out).ok());
  return out;
}

inline void expect_same(const RouteAdd& a, const RouteAdd& b) {
  EXPECT_EQ(a.table, b.table);
  EXPECT_EQ(a.prefix.to_string(), b.prefix.to_string());
  EXPECT_EQ(a.protocol, b.protocol);
  EXPECT_EQ(a.metric, b.metric);
  EXPECT_EQ(a.type, b.type);
  EXPECT_EQ(a.nhg_id, b.nhg_id);
  EXPECT_EQ(a.replace, b.replace);
  ASSERT_EQ(a.nexthops.size(), b.nexthops.size());
  for (size_t i = 0; i < a.nexthops.size(); ++i) {
    EXPECT_TRUE(a.nexthops[i] == b.nexthops[i])
        << "next hop " << i << ": "
        << (a.nexthops[i].nh.gateway ? a.nexthops[i].nh.gateway->to_string() : "-") << " vs "
        << (b.nexthops[i].nh.gateway ? b.nexthops[i].nh.gateway->to_string() : "-");
  }
}

inline void expect_same(const NexthopAdd& a, const NexthopAdd& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.protocol, b.protocol);
  EXPECT_EQ(a.family, b.family);
  EXPECT_EQ(a.replace, b.replace);
  EXPECT_TRUE(a.body == b.body);
}

}  // namespace fpm_sink::test
