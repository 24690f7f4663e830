// Every message and attribute zebra sends, encoded with the builder and decoded back.
#include "nl_test_util.hpp"

namespace fpm_sink::test {
namespace {

RouteAdd roundtrip(const RouteAdd& r) {
  auto d = decode(body_of(r));
  EXPECT_TRUE(d.frame.errors.empty()) << d.error_id() << ": " << d.error()->reason;
  EXPECT_EQ(d.frame.events.size(), 1u);
  EXPECT_EQ(d.stats.new_route, 1u);
  EXPECT_EQ(d.stats.unknown_attr, 0u);
  return d.event<RouteAdd>(0);
}

TEST(NetlinkRoundTrip, V4SingleGatewayAndOif) {
  auto r = route("10.1.0.0/16", {via("192.0.2.1", 3)});
  expect_same(roundtrip(r), r);
}

TEST(NetlinkRoundTrip, V6SingleGatewayAndOif) {
  auto r = route("2001:db8:1::/48", {via("fe80::1", 9)});
  r.replace = false;  // zebra without v6 replace semantics
  r.protocol = proto_id::ospf;
  r.metric = 4242;
  expect_same(roundtrip(r), r);
}

TEST(NetlinkRoundTrip, InterfaceOnlyAndGatewayOnly) {
  auto a = route("10.9.0.0/24", {via(nullptr, 5)});
  expect_same(roundtrip(a), a);
  auto b = route("10.9.1.0/24", {via("10.0.0.1", 0)});
  expect_same(roundtrip(b), b);
}

TEST(NetlinkRoundTrip, TableFromRtmTableAndFromRtaTable) {
  auto small = route("10.0.0.0/8", {via("192.0.2.1", 3)}, 10);
  expect_same(roundtrip(small), small);
  auto big = route("10.0.0.0/8", {via("192.0.2.1", 3)}, 1000);  // > 255: only RTA_TABLE
  expect_same(roundtrip(big), big);
  // RTA_TABLE wins over rtm_table when both are present.
  EncodeOptions opt;
  opt.always_table_attr = true;
  auto d = decode(body_of(small, opt));
  EXPECT_EQ(d.event<RouteAdd>(0).table, 10u);
}

TEST(NetlinkRoundTrip, NexthopGroupId) {
  auto r = route("198.51.100.0/24");
  r.nhg_id = 77;
  expect_same(roundtrip(r), r);
  auto v6 = route("2001:db8::/32");
  v6.nhg_id = 0xfffffff0u;
  expect_same(roundtrip(v6), v6);
}

TEST(NetlinkRoundTrip, MultipathWeightsFlagsAndIfindex) {
  auto r = route("203.0.113.0/24", {via("192.0.2.1", 3, 1), via("192.0.2.2", 4, 5, true),
                                    via("192.0.2.3", 5, 256), via(nullptr, 6, 2)});
  auto got = roundtrip(r);
  expect_same(got, r);
  EXPECT_EQ(got.nexthops[2].weight, 256);  // rtnh_hops 255
  EXPECT_TRUE(got.nexthops[1].nh.onlink);
  EXPECT_FALSE(got.nexthops[0].nh.onlink);
}

TEST(NetlinkRoundTrip, V6Multipath) {
  auto r = route("2001:db8:5::/64", {via("fe80::1", 3), via("fe80::2", 4)});
  expect_same(roundtrip(r), r);
}

TEST(NetlinkRoundTrip, SingleNexthopWithWeightUsesMultipath) {
  auto r = route("10.3.0.0/16", {via("192.0.2.1", 3, 7)});
  expect_same(roundtrip(r), r);
}

TEST(NetlinkRoundTrip, BgpUnnumberedV4OverLinkLocal) {
  // What zebra sends for an IPv4 route learnt over an IPv6 link-local session.
  auto r = route("10.20.0.0/16", {via("169.254.0.1", 12, 1, true)});
  auto body = body_of(r);
  rtmsg rtm;
  std::memcpy(&rtm, body.data() + sizeof(nlmsghdr), sizeof rtm);
  EXPECT_TRUE(rtm.rtm_flags & RTNH_F_ONLINK);  // on the route, not in a rtnexthop
  auto got = roundtrip(r);
  expect_same(got, r);
  EXPECT_TRUE(got.nexthops[0].nh.onlink);
  EXPECT_EQ(got.nexthops[0].nh.gateway->to_string(), "169.254.0.1");
  auto ecmp =
      route("10.21.0.0/16", {via("169.254.0.1", 12, 1, true), via("169.254.0.1", 13, 1, true)});
  expect_same(roundtrip(ecmp), ecmp);
}

TEST(NetlinkRoundTrip, V4OverV6ViaAttribute) {
  auto r = route("10.30.0.0/16", {via("fe80::99", 4)});
  auto body = body_of(r);
  auto d = decode(body);
  ASSERT_TRUE(d.frame.errors.empty()) << d.error_id();
  expect_same(d.event<RouteAdd>(0), r);
  EXPECT_EQ(d.event<RouteAdd>(0).nexthops[0].nh.gateway->family, Family::V6);
  auto mp = route("10.31.0.0/16", {via("fe80::1", 4), via("192.0.2.1", 5)});
  expect_same(roundtrip(mp), mp);
}

TEST(NetlinkRoundTrip, RouteTypes) {
  for (auto t :
       {RouteType::Blackhole, RouteType::Unreachable, RouteType::Prohibit, RouteType::Local}) {
    auto r = route("192.0.2.0/24");
    r.type = t;
    auto got = roundtrip(r);
    EXPECT_EQ(got.type, t) << to_string(t);
    EXPECT_TRUE(got.nexthops.empty());
  }
  auto w = raw_route(AF_INET, 4, RTM_NEWROUTE, RTN_MULTICAST);
  w.put_addr(RTA_DST, ip("224.0.0.0"));
  auto d = decode(bytes_of(w));
  EXPECT_EQ(d.event<RouteAdd>(0).type, RouteType::Other);
}

TEST(NetlinkRoundTrip, DefaultRouteWithAndWithoutDst) {
  auto r = route("0.0.0.0/0", {via("192.0.2.1", 3)});
  expect_same(roundtrip(r), r);
  auto w = raw_route(AF_INET6, 0);
  w.put_u32(RTA_OIF, 2);
  auto d = decode(bytes_of(w));
  ASSERT_TRUE(d.frame.errors.empty()) << d.error_id();
  EXPECT_EQ(d.event<RouteAdd>(0).prefix.to_string(), "::/0");
}

TEST(NetlinkRoundTrip, PrefixIsCanonicalised) {
  RouteAdd r = route("10.0.0.0/8", {via("192.0.2.1", 3)});
  r.prefix.addr = ip("10.1.2.3");  // host bits set on the wire
  auto d = decode(body_of(r));
  EXPECT_EQ(d.event<RouteAdd>(0).prefix.to_string(), "10.0.0.0/8");
  RouteAdd v6 = route("2001:db8::/33");
  v6.prefix.addr = ip("2001:db8:ffff::1");
  auto d6 = decode(body_of(v6));
  EXPECT_EQ(d6.event<RouteAdd>(0).prefix.to_string(), "2001:db8:8000::/33");
}

TEST(NetlinkRoundTrip, ReplaceFlag) {
  auto r = route("10.0.0.0/8", {via("192.0.2.1", 3)});
  r.replace = false;
  EXPECT_FALSE(roundtrip(r).replace);
  r.replace = true;
  EXPECT_TRUE(roundtrip(r).replace);
}

TEST(NetlinkRoundTrip, RouteDelete) {
  RouteDel del{1000, pfx("2001:db8::/32"), proto_id::isis, 20};
  auto d = decode(body_of(del));
  ASSERT_TRUE(d.frame.errors.empty());
  EXPECT_EQ(d.stats.del_route, 1u);
  const auto& got = d.event<RouteDel>(0);
  EXPECT_EQ(got.table, 1000u);
  EXPECT_EQ(got.prefix.to_string(), "2001:db8::/32");
  EXPECT_EQ(got.protocol, proto_id::isis);
  EXPECT_EQ(got.metric, 20u);
  RouteDel v4{254, pfx("10.0.0.0/8"), proto_id::bgp, 0};
  EXPECT_EQ(decode(body_of(v4)).event<RouteDel>(0).prefix.to_string(), "10.0.0.0/8");
}

TEST(NetlinkRoundTrip, EncapAndSourceSpecificRoutesAreOther) {
  auto w = raw_route(AF_INET, 24);
  w.put_addr(RTA_DST, ip("10.0.0.0"));
  w.put_u16(RTA_ENCAP_TYPE, 100);  // zebra's NET_VXLAN encap for EVPN
  size_t n = w.nest_start(RTA_ENCAP);
  w.put_u32(0, 1000);
  w.nest_end(n);
  w.put_u32(RTA_OIF, 4);
  auto d = decode(bytes_of(w));
  ASSERT_TRUE(d.frame.errors.empty()) << d.error_id();
  EXPECT_EQ(d.event<RouteAdd>(0).type, RouteType::Other);

  rtmsg rtm{};
  rtm.rtm_family = AF_INET6;
  rtm.rtm_dst_len = 64;
  rtm.rtm_src_len = 48;
  rtm.rtm_type = RTN_UNICAST;
  auto s = NlMessageWriter::with(RTM_NEWROUTE, NLM_F_REQUEST, rtm);
  s.put_addr(RTA_DST, ip("2001:db8::"));
  s.put_addr(RTA_SRC, ip("2001:db8:1::"));
  s.put_u32(RTA_OIF, 4);
  auto ds = decode(bytes_of(s));
  ASSERT_TRUE(ds.frame.errors.empty()) << ds.error_id();
  EXPECT_EQ(ds.event<RouteAdd>(0).type, RouteType::Other);
}

TEST(NetlinkRoundTrip, NexthopSingles) {
  NexthopAdd v4{10, proto_id::zebra, Family::V4, NextHop{ip("192.0.2.1"), 3, true, false}, true};
  NexthopAdd v6{11, proto_id::bgp, Family::V6, NextHop{ip("fe80::1"), 4, false, false}, true};
  NexthopAdd oif{12, proto_id::zebra, Family::V4, NextHop{std::nullopt, 5, false, false}, false};
  NexthopAdd bh{13, proto_id::zebra, Family::V6, NextHop{std::nullopt, 0, false, true}, true};
  for (const auto& n : {v4, v6, oif, bh}) {
    auto d = decode(body_of(n));
    ASSERT_TRUE(d.frame.errors.empty()) << n.id << " " << d.error_id();
    EXPECT_EQ(d.stats.new_nexthop, 1u);
    EXPECT_EQ(d.stats.unknown_attr, 0u);
    expect_same(d.event<NexthopAdd>(0), n);
  }
}

TEST(NetlinkRoundTrip, NexthopGroup) {
  NexthopAdd g{100, proto_id::zebra, Family::V4,
               std::vector<NexthopGroupMember>{{10, 1}, {11, 2}, {12, 256}}, true};
  auto body = body_of(g);
  nhmsg nhm;
  std::memcpy(&nhm, body.data() + sizeof(nlmsghdr), sizeof nhm);
  EXPECT_EQ(nhm.nh_family, AF_UNSPEC);  // as zebra sends groups
  auto d = decode(body);
  ASSERT_TRUE(d.frame.errors.empty()) << d.error_id();
  expect_same(d.event<NexthopAdd>(0), g);
}

TEST(NetlinkRoundTrip, NexthopGroupTypeAttributeAccepted) {
  auto w = raw_nexthop(AF_UNSPEC);
  w.put_u32(NHA_ID, 5);
  nexthop_grp e[2] = {{1, 0, 0, 0}, {2, 3, 0, 0}};
  w.put(NHA_GROUP, {reinterpret_cast<const uint8_t*>(e), sizeof e});
  w.put_u16(NHA_GROUP_TYPE, NEXTHOP_GRP_TYPE_MPATH);
  auto d = decode(bytes_of(w));
  ASSERT_TRUE(d.frame.errors.empty()) << d.error_id();
  const auto& m = std::get<std::vector<NexthopGroupMember>>(d.event<NexthopAdd>(0).body);
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[1].weight, 4);
}

// Found by fpm_fuzz: a group sent with nh_family AF_INET6 decoded with family V6 and
// so differed from the same group sent as zebra does (AF_UNSPEC).
TEST(NetlinkRoundTrip, GroupFamilyDoesNotDependOnNhmsgFamily) {
  for (uint8_t family : {AF_UNSPEC, AF_INET, AF_INET6}) {
    auto w = raw_nexthop(family);
    w.put_u32(NHA_ID, 10);
    nexthop_grp e[2] = {{1, 0, 0, 0}, {2, 2, 0, 0}};
    w.put(NHA_GROUP, {reinterpret_cast<const uint8_t*>(e), sizeof e});
    auto d = decode(bytes_of(w));
    ASSERT_TRUE(d.frame.errors.empty()) << d.error_id();
    EXPECT_EQ(d.event<NexthopAdd>(0).family, Family::V4) << int(family);
  }
}

TEST(NetlinkRoundTrip, NexthopDelete) {
  auto d = decode(body_of(NexthopDel{4711}));
  ASSERT_TRUE(d.frame.errors.empty());
  EXPECT_EQ(d.stats.del_nexthop, 1u);
  EXPECT_EQ(d.event<NexthopDel>(0).id, 4711u);
}

TEST(NetlinkFrames, DelThenNewInOneFramePreservesOrder) {
  // FRR < 9.1 sends a route update as RTM_DELROUTE + RTM_NEWROUTE in one frame.
  std::vector<FpmEvent> in = {RouteDel{254, pfx("10.0.0.0/8"), proto_id::bgp, 20},
                              route("10.0.0.0/8", {via("192.0.2.7", 3)})};
  auto frame = encode_frame(in);
  ASSERT_TRUE(frame.ok());
  auto f = next_frame(*frame);
  ASSERT_TRUE(f.ok() && f->has_value());
  DecodeStats stats;
  auto out = decode_netlink((*f)->body, stats);
  ASSERT_EQ(out.events.size(), 2u);
  EXPECT_TRUE(std::holds_alternative<RouteDel>(out.events[0]));
  EXPECT_TRUE(std::holds_alternative<RouteAdd>(out.events[1]));
  EXPECT_EQ(stats.messages, 2u);
  EXPECT_TRUE(out.complete);
}

TEST(NetlinkFrames, MixedFrameKeepsEveryMessageInOrder) {
  std::vector<FpmEvent> in;
  in.push_back(
      NexthopAdd{1, proto_id::zebra, Family::V4, NextHop{ip("192.0.2.1"), 3, false, false}, true});
  in.push_back(
      NexthopAdd{2, proto_id::zebra, Family::V4, std::vector<NexthopGroupMember>{{1, 1}}, true});
  for (int i = 0; i < 50; ++i) {
    RouteAdd r = route("10.0.0.0/24");
    r.prefix = *Prefix::make(IpAddr::v4(0x0a000000u + (i << 8)), 24);
    r.nhg_id = 2;
    in.push_back(r);
  }
  in.push_back(RouteDel{254, pfx("10.0.0.0/24"), proto_id::bgp, 20});
  in.push_back(NexthopDel{2});
  auto frame = encode_frame(in);
  ASSERT_TRUE(frame.ok());
  DecodeStats stats;
  auto out = decode_netlink(std::span(*frame).subspan(4), stats);
  ASSERT_EQ(out.events.size(), in.size());
  for (size_t i = 0; i < in.size(); ++i) EXPECT_EQ(out.events[i].index(), in[i].index()) << i;
  EXPECT_EQ(std::get<RouteAdd>(out.events[2 + 49]).prefix.to_string(), "10.0.49.0/24");
  EXPECT_EQ(stats.new_route, 50u);
  EXPECT_EQ(stats.new_nexthop, 2u);
  EXPECT_EQ(stats.del_route, 1u);
  EXPECT_EQ(stats.del_nexthop, 1u);
}

TEST(NetlinkFrames, Ecmp256OverflowsFourKilobytes) {
  std::vector<WeightedNextHop> nhs;
  for (uint32_t i = 0; i < 256; ++i) {
    WeightedNextHop w;
    w.nh.gateway = IpAddr::v6({0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                               static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i)});
    w.nh.ifindex = 100 + i;
    w.weight = static_cast<uint16_t>(1 + i);
    nhs.push_back(w);
  }
  auto r = route("2001:db8:77::/48", nhs);
  std::vector<FpmEvent> in = {r};
  auto frame = encode_frame(in);
  ASSERT_TRUE(frame.ok());
  EXPECT_GT(frame->size(), 4096u);
  auto f = next_frame(*frame);
  ASSERT_TRUE(f.ok() && f->has_value());
  EXPECT_EQ((*f)->header.length, frame->size());
  DecodeStats stats;
  auto out = decode_netlink((*f)->body, stats);
  ASSERT_TRUE(out.errors.empty());
  ASSERT_EQ(out.events.size(), 1u);
  expect_same(std::get<RouteAdd>(out.events[0]), r);
}

TEST(NetlinkFrames, KnownButIgnoredMessagesAreCounted) {
  std::vector<uint8_t> body;
  for (uint16_t t : {uint16_t{NLMSG_NOOP}, uint16_t{NLMSG_DONE}}) {
    ASSERT_TRUE(NlMessageWriter(t, 0, {}).append_to(body).ok());
  }
  ndmsg nd{};
  nd.ndm_family = AF_BRIDGE;
  auto neigh = NlMessageWriter::with(RTM_NEWNEIGH, NLM_F_REQUEST | NLM_F_CREATE, nd);
  neigh.put_addr(NDA_DST, ip("192.0.2.44"));
  ASSERT_TRUE(neigh.append_to(body).ok());
  ASSERT_TRUE(append_route_add(body, route("10.0.0.0/8", {via("192.0.2.1", 3)})).ok());
  auto d = decode(body);
  EXPECT_EQ(d.stats.other_known, 3u);
  EXPECT_EQ(d.stats.messages, 4u);
  EXPECT_EQ(d.stats.errors, 0u);
  ASSERT_EQ(d.frame.events.size(), 1u);
}

TEST(NetlinkFrames, MplsAndOtherFamiliesAreSkippedNotErrors) {
  std::vector<uint8_t> body;
  auto lsp = raw_route(AF_MPLS, 20);
  uint32_t label = htonl(16000 << 12);
  lsp.put(RTA_DST, {reinterpret_cast<const uint8_t*>(&label), 4});
  ASSERT_TRUE(lsp.append_to(body).ok());
  auto nh = raw_nexthop(AF_MPLS);
  nh.put_u32(NHA_ID, 3);
  ASSERT_TRUE(nh.append_to(body).ok());
  ASSERT_TRUE(append_route_add(body, route("10.0.0.0/8", {via("192.0.2.1", 3)})).ok());
  auto d = decode(body);
  EXPECT_EQ(d.stats.skipped_family, 2u);
  EXPECT_EQ(d.stats.errors, 0u);
  EXPECT_EQ(d.frame.events.size(), 1u);
}

TEST(NetlinkFrames, UnknownTypesAndAttributesAreCountedAndSkipped) {
  std::vector<uint8_t> body;
  ASSERT_TRUE(NlMessageWriter(200, 0, std::vector<uint8_t>(12, 0xee)).append_to(body).ok());
  auto w = raw_route(AF_INET, 24);
  w.put_addr(RTA_DST, ip("10.1.1.0"));
  w.put_u32(RTA_MAX + 5, 1);  // beyond RTA_MAX
  w.put_u32(RTA_FLOW, 7);     // known to the kernel, unused here
  w.put_u32(RTA_OIF, 3);
  w.put_addr(RTA_PREFSRC, ip("10.1.1.1"));  // zebra sends it: not "unknown"
  ASSERT_TRUE(w.append_to(body).ok());
  ASSERT_TRUE(NlMessageWriter(RTM_NEWLINK, 0, std::vector<uint8_t>(16, 0)).append_to(body).ok());
  auto d = decode(body);
  EXPECT_EQ(d.stats.unknown_type, 2u);
  EXPECT_EQ(d.stats.unknown_attr, 2u);
  EXPECT_EQ(d.stats.errors, 0u);
  ASSERT_EQ(d.frame.events.size(), 1u);
  EXPECT_EQ(d.event<RouteAdd>(0).nexthops[0].nh.ifindex, 3u);
}

TEST(NetlinkFrames, ReusedOutputIsClearedFirst) {
  DecodedFrame out;
  DecodeStats stats;
  std::vector<uint8_t> bad;
  auto w = raw_route(AF_INET, 8);
  w.set_nlmsg_len(500);
  ASSERT_TRUE(w.append_to(bad).ok());
  decode_netlink(bad, stats, out);
  EXPECT_FALSE(out.complete);
  EXPECT_EQ(out.errors.size(), 1u);
  decode_netlink(body_of(route("10.0.0.0/8", {via("192.0.2.1", 3)})), stats, out);
  EXPECT_TRUE(out.complete);
  EXPECT_TRUE(out.errors.empty());
  ASSERT_EQ(out.events.size(), 1u);
  decode_netlink(body_of(NexthopDel{5}), stats, out);
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(std::get<NexthopDel>(out.events[0]).id, 5u);
  EXPECT_EQ(stats.messages, 2u);  // the overrun one never became a message
  EXPECT_EQ(stats.errors, 1u);
}

TEST(NetlinkFrames, UnalignedBodyDecodesTheSame) {
  auto body = body_of(route("10.0.0.0/8", {via("192.0.2.1", 3), via("192.0.2.2", 4)}));
  std::vector<uint8_t> shifted(body.size() + 1);
  std::memcpy(shifted.data() + 1, body.data(), body.size());
  DecodeStats stats;
  auto out = decode_netlink(std::span(shifted).subspan(1), stats);
  ASSERT_TRUE(out.errors.empty());
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(std::get<RouteAdd>(out.events[0]).nexthops.size(), 2u);
}

}  // namespace
}  // namespace fpm_sink::test
