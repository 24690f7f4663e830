// The builder's own contract: zebra's wire shape, framing, batching and its error paths.
#include <libmnl/libmnl.h>

#include "nl_test_util.hpp"

namespace fpm_sink::test {
namespace {

const nlmsghdr* header_of(const std::vector<uint8_t>& b, size_t off = 0) {
  return reinterpret_cast<const nlmsghdr*>(b.data() + off);
}

// Attribute types in wire order, read back with libmnl.
std::vector<const nlattr*> attrs(const std::vector<uint8_t>& b, size_t family_hdr) {
  std::vector<const nlattr*> out;
  mnl_attr_parse(
      header_of(b), static_cast<unsigned>(family_hdr),
      [](const nlattr* a, void* data) {
        static_cast<std::vector<const nlattr*>*>(data)->push_back(a);
        return MNL_CB_OK;
      },
      &out);
  return out;
}

std::vector<uint16_t> attr_types(const std::vector<uint8_t>& b, size_t family_hdr) {
  std::vector<uint16_t> types;
  for (const nlattr* a : attrs(b, family_hdr)) types.push_back(mnl_attr_get_type(a));
  return types;
}

TEST(NetlinkBuilder, RouteAddHasZebrasShape) {
  auto b = body_of(route("10.0.0.0/8", {via("192.0.2.1", 3)}, 254));
  const nlmsghdr* h = header_of(b);
  EXPECT_EQ(h->nlmsg_type, RTM_NEWROUTE);
  EXPECT_EQ(h->nlmsg_flags, NLM_F_REQUEST | NLM_F_CREATE | NLM_F_REPLACE);
  EXPECT_EQ(h->nlmsg_len, b.size());
  EXPECT_EQ(h->nlmsg_len % 4, 0u);
  rtmsg rtm;
  std::memcpy(&rtm, mnl_nlmsg_get_payload(h), sizeof rtm);
  EXPECT_EQ(rtm.rtm_table, RT_TABLE_MAIN);
  EXPECT_EQ(rtm.rtm_type, RTN_UNICAST);
  EXPECT_EQ(rtm.rtm_protocol, proto_id::bgp);
  EXPECT_EQ(rtm.rtm_scope, RT_SCOPE_UNIVERSE);
  EXPECT_EQ(attr_types(b, sizeof(rtmsg)),
            (std::vector<uint16_t>{RTA_DST, RTA_PRIORITY, RTA_GATEWAY, RTA_OIF}));
}

TEST(NetlinkBuilder, BigTableGoesToRtaTable) {
  auto b = body_of(route("10.0.0.0/8", {}, 100000));
  rtmsg rtm;
  std::memcpy(&rtm, mnl_nlmsg_get_payload(header_of(b)), sizeof rtm);
  EXPECT_EQ(rtm.rtm_table, RT_TABLE_UNSPEC);
  EXPECT_EQ(attr_types(b, sizeof(rtmsg)),
            (std::vector<uint16_t>{RTA_DST, RTA_PRIORITY, RTA_TABLE}));
}

TEST(NetlinkBuilder, RouteDelCarriesNoNexthopAndNoType) {
  auto b = body_of(RouteDel{254, pfx("10.0.0.0/8"), proto_id::bgp, 20});
  const nlmsghdr* h = header_of(b);
  EXPECT_EQ(h->nlmsg_type, RTM_DELROUTE);
  EXPECT_EQ(h->nlmsg_flags, NLM_F_REQUEST | NLM_F_CREATE);
  rtmsg rtm;
  std::memcpy(&rtm, mnl_nlmsg_get_payload(h), sizeof rtm);
  EXPECT_EQ(rtm.rtm_type, RTN_UNSPEC);
  EXPECT_EQ(attr_types(b, sizeof(rtmsg)), (std::vector<uint16_t>{RTA_DST, RTA_PRIORITY}));
}

TEST(NetlinkBuilder, NexthopAddStartsWithId) {
  NexthopAdd n{9, proto_id::zebra, Family::V4, NextHop{ip("192.0.2.1"), 3, true, false}, true};
  auto b = body_of(n);
  const nlmsghdr* h = header_of(b);
  EXPECT_EQ(h->nlmsg_type, RTM_NEWNEXTHOP);
  EXPECT_EQ(h->nlmsg_flags, NLM_F_REQUEST | NLM_F_CREATE | NLM_F_REPLACE);
  nhmsg nhm;
  std::memcpy(&nhm, mnl_nlmsg_get_payload(h), sizeof nhm);
  EXPECT_EQ(nhm.nh_family, AF_INET);
  EXPECT_EQ(nhm.nh_flags, RTNH_F_ONLINK);
  EXPECT_EQ(attr_types(b, sizeof(nhmsg)), (std::vector<uint16_t>{NHA_ID, NHA_GATEWAY, NHA_OIF}));
  NexthopAdd bh{10, proto_id::zebra, Family::V4, NextHop{std::nullopt, 3, false, true}, true};
  EXPECT_EQ(attr_types(body_of(bh), sizeof(nhmsg)), (std::vector<uint16_t>{NHA_ID, NHA_BLACKHOLE}));
}

TEST(NetlinkBuilder, GroupWeightsOnWireAreWeightMinusOne) {
  NexthopAdd g{100, 0, Family::V4, std::vector<NexthopGroupMember>{{1, 1}, {2, 256}}, true};
  auto b = body_of(g);
  const nlattr* grp = nullptr;
  for (const nlattr* a : attrs(b, sizeof(nhmsg))) {
    if (mnl_attr_get_type(a) == NHA_GROUP) grp = a;
  }
  ASSERT_NE(grp, nullptr);
  ASSERT_EQ(mnl_attr_get_payload_len(grp), 16u);
  nexthop_grp e[2];
  std::memcpy(e, mnl_attr_get_payload(grp), sizeof e);
  EXPECT_EQ(e[0].id, 1u);
  EXPECT_EQ(e[0].weight, 0);
  EXPECT_EQ(e[1].weight, 255);
}

TEST(NetlinkBuilder, LargeGroupRoundTrips) {
  std::vector<NexthopGroupMember> m;
  for (uint32_t i = 1; i <= 300; ++i) m.push_back({i, static_cast<uint16_t>(1 + i % 256)});
  NexthopAdd g{1000, 0, Family::V4, m, true};
  auto d = decode(body_of(g));
  ASSERT_TRUE(d.frame.errors.empty()) << d.error_id();
  expect_same(d.event<NexthopAdd>(0), g);
}

TEST(NetlinkBuilder, BadWeightsRejectedAndNothingAppended) {
  std::vector<uint8_t> out = {1, 2, 3, 4};
  auto r = route("10.0.0.0/8", {via("192.0.2.1", 3, 0), via("192.0.2.2", 3)});
  auto st = append_route_add(out, r);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().id, "fpm.nl.encode.bad_weight");
  auto r2 = route("10.0.0.0/8", {via("192.0.2.1", 3, 257), via("192.0.2.2", 3)});
  EXPECT_FALSE(append_route_add(out, r2).ok());
  NexthopAdd g{1, 0, Family::V4, std::vector<NexthopGroupMember>{{2, 0}}, true};
  EXPECT_EQ(append_nexthop_add(out, g).error().id, "fpm.nl.encode.bad_weight");
  EXPECT_EQ(out.size(), 4u);
}

TEST(NetlinkBuilder, NexthopGatewayFamilyMustMatch) {
  std::vector<uint8_t> out;
  NexthopAdd n{9, 0, Family::V4, NextHop{ip("fe80::1"), 3, false, false}, true};
  auto st = append_nexthop_add(out, n);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().id, "fpm.nl.encode.gateway_family");
  EXPECT_TRUE(out.empty());
}

TEST(NetlinkBuilder, OversizedMessageReported) {
  std::vector<WeightedNextHop> nhs(3000, via("2001:db8::1", 1, 2));
  std::vector<uint8_t> out;
  auto st = append_route_add(out, route("2001:db8::/32", nhs));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().id, "fpm.nl.encode.too_big");
  EXPECT_TRUE(out.empty());
}

TEST(NetlinkBuilder, FrameTooBig) {
  std::vector<uint8_t> out;
  const size_t f = begin_frame(out);
  out.resize(out.size() + 65532);
  auto st = end_frame(out, f);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().id, "fpm.frame.too_big");
  out.resize(4 + 65531);
  EXPECT_TRUE(end_frame(out, f).ok());
  EXPECT_EQ(out[2], 0xff);
  EXPECT_EQ(out[3], 0xff);
}

TEST(NetlinkBuilder, EncodeFrameHeaderMatchesSize) {
  std::vector<FpmEvent> ev = {route("10.0.0.0/8", {via("192.0.2.1", 3)}), NexthopDel{3}};
  auto f = encode_frame(ev);
  ASSERT_TRUE(f.ok());
  auto h = parse_frame_header(std::span<const uint8_t, 4>(f->data(), 4));
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->type, FrameType::Netlink);
  EXPECT_EQ(h->length, f->size());
}

TEST(NetlinkBuilder, StreamWriterPacksFramesUnderTheLimit) {
  std::vector<uint8_t> stream;
  FrameStreamWriter w(stream, 4096);
  const int n = 2000;
  for (int i = 0; i < n; ++i) {
    RouteAdd r = route("10.0.0.0/24", {via("192.0.2.1", 3)});
    r.prefix = *Prefix::make(IpAddr::v4(0x0a000000u + (static_cast<uint32_t>(i) << 8)), 24);
    ASSERT_TRUE(w.add(r).ok());
  }
  w.flush();
  w.flush();  // idempotent
  EXPECT_GT(w.frames(), 10u);
  std::span<const uint8_t> rest(stream);
  DecodeStats stats;
  size_t frames = 0, routes = 0;
  for (auto f = next_frame(rest); f.ok() && f->has_value(); f = next_frame(rest)) {
    rest = rest.subspan((*f)->header.length);
    EXPECT_LE((*f)->header.length, 4096);
    auto out = decode_netlink((*f)->body, stats);
    EXPECT_TRUE(out.errors.empty());
    for (auto& e : out.events) {
      EXPECT_EQ(std::get<RouteAdd>(e).prefix.addr.v4_host_order(),
                0x0a000000u + (static_cast<uint32_t>(routes) << 8));
      ++routes;
    }
    ++frames;
  }
  EXPECT_EQ(frames, w.frames());
  EXPECT_EQ(routes, static_cast<size_t>(n));
  EXPECT_TRUE(rest.empty()) << rest.size() << " bytes left unsplit";
}

TEST(NetlinkBuilder, OffloadReply) {
  const RouteAdd sent = route("2001:db8::/32", {via("fe80::1", 3)}, 1000);
  OffloadReply reply{sent.table, sent.prefix, sent.protocol, sent.metric, sent.type, RTM_F_OFFLOAD};
  std::vector<uint8_t> out;
  ASSERT_TRUE(append_route_offload_reply(out, reply).ok());
  const size_t second = out.size();
  reply.rtm_flags = RTM_F_OFFLOAD_FAILED;
  ASSERT_TRUE(append_route_offload_reply(out, reply).ok());
  for (auto [off, flag] : {std::pair{size_t{0}, uint32_t{RTM_F_OFFLOAD}},
                           std::pair{second, uint32_t{RTM_F_OFFLOAD_FAILED}}}) {
    const nlmsghdr* h = header_of(out, off);
    EXPECT_EQ(h->nlmsg_type, RTM_NEWROUTE);
    EXPECT_EQ(h->nlmsg_flags, NLM_F_REQUEST);
    rtmsg rtm;
    std::memcpy(&rtm, mnl_nlmsg_get_payload(h), sizeof rtm);
    EXPECT_EQ(rtm.rtm_flags, flag);
    EXPECT_EQ(rtm.rtm_family, AF_INET6);
    EXPECT_EQ(rtm.rtm_dst_len, 32);
    EXPECT_EQ(rtm.rtm_protocol, proto_id::bgp);
  }
  auto d = decode(out);
  ASSERT_EQ(d.frame.events.size(), 2u);
  EXPECT_EQ(d.event<RouteAdd>(0).table, 1000u);
  EXPECT_EQ(d.event<RouteAdd>(0).prefix.to_string(), "2001:db8::/32");
  EXPECT_FALSE(d.event<RouteAdd>(0).replace);
}

TEST(NetlinkBuilder, WriterCraftingHelpers) {
  auto w = raw_route(AF_INET, 8);
  EXPECT_EQ(w.nlmsg_len(), sizeof(nlmsghdr) + sizeof(rtmsg));
  w.put_addr(RTA_DST, ip("10.0.0.0"));
  EXPECT_EQ(w.nlmsg_len(), 28u + 8u);
  w.set_nlmsg_len(1000);
  EXPECT_EQ(w.nlmsg_len(), 1000u);
  EXPECT_EQ(w.bytes().size(), 36u);  // what is copied is what was written
  auto b = bytes_of(w);
  EXPECT_EQ(header_of(b)->nlmsg_len, 1000u);
}

}  // namespace
}  // namespace fpm_sink::test
