// Every decoder error path: each bad message yields one DecodeError with a stable id and
// the right offset, is dropped, and the rest of the frame still decodes.
#include "nl_test_util.hpp"

namespace fpm_sink::test {
namespace {

constexpr size_t kRouteAttrOffset = sizeof(nlmsghdr) + sizeof(rtmsg);    // 28
constexpr size_t kNexthopAttrOffset = sizeof(nlmsghdr) + sizeof(nhmsg);  // 24

// Bad message first, then a good route: the error must not take the good one with it.
Decoded decode_with_follower(const NlMessageWriter& bad) {
  auto body = bytes_of(bad);
  EXPECT_TRUE(append_route_add(body, route("10.99.0.0/16", {via("192.0.2.9", 9)})).ok());
  return decode(body);
}

void expect_one_error(const Decoded& d, const std::string& id, size_t offset) {
  ASSERT_EQ(d.frame.errors.size(), 1u);
  EXPECT_EQ(d.frame.errors[0].id, id) << d.frame.errors[0].reason;
  EXPECT_EQ(d.frame.errors[0].offset, offset) << d.frame.errors[0].reason;
  EXPECT_FALSE(d.frame.errors[0].reason.empty());
  EXPECT_EQ(d.stats.errors, 1u);
  EXPECT_TRUE(d.frame.complete);
  ASSERT_EQ(d.frame.events.size(), 1u);
  EXPECT_EQ(d.event<RouteAdd>(0).prefix.to_string(), "10.99.0.0/16");
}

// ---------------------------------------------------------------- netlink header level

TEST(NetlinkErrors, BodyShorterThanNetlinkHeader) {
  std::vector<uint8_t> body(10, 0);
  auto d = decode(body);
  ASSERT_EQ(d.frame.errors.size(), 1u);
  EXPECT_EQ(d.error_id(), "fpm.nl.truncated_header");
  EXPECT_FALSE(d.frame.complete);
  EXPECT_EQ(d.stats.messages, 0u);
}

TEST(NetlinkErrors, TrailingBytesAfterLastMessage) {
  auto body = body_of(route("10.0.0.0/8", {via("192.0.2.1", 3)}));
  const size_t first = body.size();
  body.resize(body.size() + 8, 0);
  auto d = decode(body);
  ASSERT_EQ(d.frame.events.size(), 1u);  // the complete message before still counts
  ASSERT_EQ(d.frame.errors.size(), 1u);
  EXPECT_EQ(d.error_id(), "fpm.nl.truncated_header");
  EXPECT_EQ(d.error()->offset, first);
  EXPECT_FALSE(d.frame.complete);
}

TEST(NetlinkErrors, NlmsgLenShorterThanHeader) {
  auto w = raw_route(AF_INET, 8);
  w.set_nlmsg_len(8);
  auto d = decode(bytes_of(w));
  EXPECT_EQ(d.error_id(), "fpm.nl.bad_msg_len");
  EXPECT_FALSE(d.frame.complete);
}

TEST(NetlinkErrors, NlmsgLenOverrunsFrameStopsTheWalk) {
  std::vector<uint8_t> body;
  ASSERT_TRUE(append_route_add(body, route("10.1.0.0/16", {via("192.0.2.1", 3)})).ok());
  const size_t second = body.size();
  auto w = raw_route(AF_INET, 16);
  w.put_addr(RTA_DST, ip("10.2.0.0"));
  w.set_nlmsg_len(w.nlmsg_len() + 100);  // lies: claims bytes the frame does not have
  ASSERT_TRUE(w.append_to(body).ok());
  ASSERT_TRUE(append_route_add(body, route("10.3.0.0/16", {via("192.0.2.1", 3)})).ok());
  auto d = decode(body);
  ASSERT_EQ(d.frame.events.size(), 1u);
  EXPECT_EQ(d.event<RouteAdd>(0).prefix.to_string(), "10.1.0.0/16");
  EXPECT_EQ(d.error_id(), "fpm.nl.msg_overrun");
  EXPECT_EQ(d.error()->offset, second);
  EXPECT_FALSE(d.frame.complete);
  EXPECT_EQ(d.stats.errors, 1u);
}

TEST(NetlinkErrors, NlmsgLenAboveIntMaxIsAnOverrun) {
  // libmnl compares nlmsg_len as an int: 2^31 + 16 would look negative and pass.
  auto w = raw_route(AF_INET, 16);
  w.set_nlmsg_len(0x80000010u);
  auto d = decode(bytes_of(w));
  EXPECT_EQ(d.error_id(), "fpm.nl.msg_overrun");
  EXPECT_FALSE(d.frame.complete);
  EXPECT_TRUE(d.frame.events.empty());
}

TEST(NetlinkErrors, TruncatedFrameBody) {
  auto body = body_of(route("10.0.0.0/8", {via("192.0.2.1", 3), via("192.0.2.2", 4)}));
  for (size_t cut = 1; cut < body.size(); ++cut) {
    std::vector<uint8_t> part(body.begin(), body.begin() + cut);
    auto d = decode(part);
    EXPECT_TRUE(d.frame.events.empty()) << cut;
    EXPECT_EQ(d.frame.errors.size(), 1u) << cut;
    EXPECT_FALSE(d.frame.complete) << cut;
  }
}

TEST(NetlinkErrors, MessageTooShortForFamilyHeader) {
  auto r = NlMessageWriter(RTM_NEWROUTE, NLM_F_REQUEST, std::vector<uint8_t>(4, AF_INET));
  expect_one_error(decode_with_follower(r), "fpm.nl.truncated_msg", 0);
  auto n = NlMessageWriter(RTM_NEWNEXTHOP, NLM_F_REQUEST, std::vector<uint8_t>(4, AF_INET));
  expect_one_error(decode_with_follower(n), "fpm.nl.truncated_msg", 0);
}

// ---------------------------------------------------------------- attribute framing

TEST(NetlinkErrors, AttributeLongerThanMessage) {
  auto w = raw_route(AF_INET, 16);
  w.put_addr(RTA_DST, ip("10.2.0.0"));
  const size_t at = w.nlmsg_len();
  uint8_t bogus[8] = {};
  uint16_t nla_len = 200, nla_type = RTA_OIF;
  std::memcpy(bogus, &nla_len, 2);
  std::memcpy(bogus + 2, &nla_type, 2);
  w.put_raw(bogus);
  expect_one_error(decode_with_follower(w), "fpm.nl.attr_overrun", at);
}

TEST(NetlinkErrors, AttributeShorterThanItsHeader) {
  auto w = raw_route(AF_INET, 16);
  w.put_addr(RTA_DST, ip("10.2.0.0"));
  const size_t at = w.nlmsg_len();
  uint8_t bogus[4] = {2, 0, RTA_OIF, 0};  // nla_len 2
  w.put_raw(bogus);
  expect_one_error(decode_with_follower(w), "fpm.nl.attr_overrun", at);
}

TEST(NetlinkErrors, TrailingBytesInsideMessage) {
  auto w = raw_route(AF_INET, 16);
  w.put_addr(RTA_DST, ip("10.2.0.0"));
  const size_t at = w.nlmsg_len();
  uint8_t junk[2] = {1, 2};
  w.put_raw(junk);  // nlmsg_len ends unaligned, two bytes that are no attribute
  auto body = bytes_of(w);
  EXPECT_EQ(body.size() % 4, 2u);
  auto d = decode(body);
  EXPECT_EQ(d.error_id(), "fpm.nl.attr_overrun");
  EXPECT_EQ(d.error()->offset, at);
}

TEST(NetlinkErrors, UnalignedLastMessageIsFine) {
  // nlmsg_len need not be a multiple of 4 when nothing follows: a u8 attribute at the end.
  auto w = raw_route(AF_INET, 16);
  w.put_addr(RTA_DST, ip("10.2.0.0"));
  w.put_u32(RTA_OIF, 3);
  uint8_t u8attr[5] = {5, 0, 40, 0, 9};  // unknown type 40, 1-byte payload
  w.put_raw(u8attr);
  auto body = bytes_of(w);
  EXPECT_EQ(body.size() % 4, 1u);
  auto d = decode(body);
  EXPECT_TRUE(d.frame.errors.empty()) << d.error_id();
  EXPECT_EQ(d.frame.events.size(), 1u);
  EXPECT_EQ(d.stats.unknown_attr, 1u);
}

// ---------------------------------------------------------------- route attributes

struct SizeCase {
  uint16_t type;
  size_t len;
};

TEST(NetlinkErrors, RouteAttributesOfWrongSize) {
  for (auto c : {SizeCase{RTA_TABLE, 2}, SizeCase{RTA_TABLE, 8}, SizeCase{RTA_PRIORITY, 3},
                 SizeCase{RTA_OIF, 0}, SizeCase{RTA_NH_ID, 5}, SizeCase{RTA_DST, 3},
                 SizeCase{RTA_DST, 5}, SizeCase{RTA_GATEWAY, 5}, SizeCase{RTA_VIA, 1}}) {
    auto w = raw_route(AF_INET, 16);
    if (c.type != RTA_DST) w.put_addr(RTA_DST, ip("10.2.0.0"));
    const size_t at = w.nlmsg_len();
    w.put(c.type, std::vector<uint8_t>(c.len, 1));
    SCOPED_TRACE(testing::Message() << "type " << c.type << " len " << c.len);
    expect_one_error(decode_with_follower(w), "fpm.nl.attr_size", at);
  }
}

TEST(NetlinkErrors, V6DstOfV4Size) {
  auto w = raw_route(AF_INET6, 32);
  w.put_addr(RTA_DST, ip("10.2.0.0"));
  expect_one_error(decode_with_follower(w), "fpm.nl.attr_size", kRouteAttrOffset);
}

TEST(NetlinkErrors, AbsurdPrefixLengths) {
  for (auto [fam, len] : {std::pair{AF_INET, 33}, std::pair{AF_INET, 255}, std::pair{AF_INET6, 129},
                          std::pair{AF_INET6, 200}}) {
    auto w = raw_route(static_cast<uint8_t>(fam), static_cast<uint8_t>(len));
    w.put_addr(RTA_DST, fam == AF_INET ? ip("10.0.0.0") : ip("2001:db8::"));
    SCOPED_TRACE(len);
    auto d = decode_with_follower(w);
    expect_one_error(d, "fpm.nl.bad_prefixlen", 0);
    EXPECT_NE(d.frame.errors[0].reason.find(std::to_string(len)), std::string::npos);
  }
  rtmsg rtm{};
  rtm.rtm_family = AF_INET;
  rtm.rtm_src_len = 40;
  auto src = NlMessageWriter::with(RTM_NEWROUTE, NLM_F_REQUEST, rtm);
  expect_one_error(decode_with_follower(src), "fpm.nl.bad_prefixlen", 0);
  auto del = raw_route(AF_INET6, 130, RTM_DELROUTE);
  expect_one_error(decode_with_follower(del), "fpm.nl.bad_prefixlen", 0);
}

TEST(NetlinkErrors, PrefixLengthWithoutDst) {
  auto w = raw_route(AF_INET, 24);
  w.put_u32(RTA_OIF, 3);
  expect_one_error(decode_with_follower(w), "fpm.nl.missing_dst", 0);
}

TEST(NetlinkErrors, GatewayFamilyMismatch) {
  auto v4 = raw_route(AF_INET, 16);
  v4.put_addr(RTA_DST, ip("10.2.0.0"));
  const size_t at4 = v4.nlmsg_len();
  v4.put_addr(RTA_GATEWAY, ip("fe80::1"));
  expect_one_error(decode_with_follower(v4), "fpm.nl.gateway_family", at4);

  auto v6 = raw_route(AF_INET6, 64);
  v6.put_addr(RTA_DST, ip("2001:db8::"));
  const size_t at6 = v6.nlmsg_len();
  v6.put_addr(RTA_GATEWAY, ip("192.0.2.1"));
  expect_one_error(decode_with_follower(v6), "fpm.nl.gateway_family", at6);
}

TEST(NetlinkErrors, ViaWithBadFamilyOrSize) {
  auto fam = raw_route(AF_INET, 16);
  fam.put_addr(RTA_DST, ip("10.2.0.0"));
  uint8_t via99[6] = {99, 0, 1, 2, 3, 4};
  fam.put(RTA_VIA, via99);
  expect_one_error(decode_with_follower(fam), "fpm.nl.gateway_family", kRouteAttrOffset + 8);

  auto size = raw_route(AF_INET, 16);
  size.put_addr(RTA_DST, ip("10.2.0.0"));
  uint8_t via6short[6] = {AF_INET6, 0, 0xfe, 0x80, 0, 0};
  size.put(RTA_VIA, via6short);
  expect_one_error(decode_with_follower(size), "fpm.nl.attr_size", kRouteAttrOffset + 8);

  auto both = raw_route(AF_INET, 16);
  both.put_addr(RTA_DST, ip("10.2.0.0"));
  both.put_addr(RTA_GATEWAY, ip("192.0.2.1"));
  both.put_via(ip("fe80::1"));
  auto d = decode_with_follower(both);
  ASSERT_EQ(d.frame.errors.size(), 1u);
  EXPECT_EQ(d.error_id(), "fpm.nl.gateway_conflict");
}

// ---------------------------------------------------------------- RTA_MULTIPATH

NlMessageWriter mp_route() {
  auto w = raw_route(AF_INET, 16);
  w.put_addr(RTA_DST, ip("10.2.0.0"));
  return w;
}

TEST(NetlinkErrors, MultipathEntryOverruns) {
  auto w = mp_route();
  const size_t nest = w.nest_start(RTA_MULTIPATH);
  const size_t rtnh = w.rtnh_start(0, 0, 3);
  w.put_addr(RTA_GATEWAY, ip("192.0.2.1"));
  w.rtnh_end(rtnh);
  w.nest_end(nest);
  auto body = bytes_of(w);
  // Make the rtnexthop claim more than RTA_MULTIPATH holds.
  const size_t rtnh_at = nest + 4;
  uint16_t len = 64;
  std::memcpy(body.data() + rtnh_at, &len, 2);
  ASSERT_TRUE(append_route_add(body, route("10.99.0.0/16", {via("192.0.2.9", 9)})).ok());
  auto d = decode(body);
  expect_one_error(d, "fpm.nl.rtnh_overrun", rtnh_at);
}

TEST(NetlinkErrors, MultipathEntryShorterThanRtnexthop) {
  auto w = mp_route();
  const size_t nest = w.nest_start(RTA_MULTIPATH);
  const size_t rtnh = w.rtnh_start(0, 0, 3);
  w.rtnh_end(rtnh);
  w.nest_end(nest);
  auto body = bytes_of(w);
  uint16_t len = 4;
  std::memcpy(body.data() + nest + 4, &len, 2);
  ASSERT_TRUE(append_route_add(body, route("10.99.0.0/16", {via("192.0.2.9", 9)})).ok());
  expect_one_error(decode(body), "fpm.nl.rtnh_overrun", nest + 4);
}

TEST(NetlinkErrors, MultipathTrailingBytes) {
  auto w = mp_route();
  const size_t nest = w.nest_start(RTA_MULTIPATH);
  const size_t rtnh = w.rtnh_start(0, 0, 3);
  w.rtnh_end(rtnh);
  uint8_t junk[4] = {};
  w.put_raw(junk);  // 4 bytes: not enough for another rtnexthop
  w.nest_end(nest);
  expect_one_error(decode_with_follower(w), "fpm.nl.rtnh_overrun", nest + 4 + 8);
}

TEST(NetlinkErrors, EmptyMultipath) {
  auto w = mp_route();
  const size_t nest = w.nest_start(RTA_MULTIPATH);
  w.nest_end(nest);
  expect_one_error(decode_with_follower(w), "fpm.nl.empty_multipath", nest);
}

TEST(NetlinkErrors, MultipathNestedGatewayOfWrongFamily) {
  auto w = mp_route();
  const size_t nest = w.nest_start(RTA_MULTIPATH);
  size_t rtnh = w.rtnh_start(0, 0, 3);
  w.put_addr(RTA_GATEWAY, ip("192.0.2.1"));
  w.rtnh_end(rtnh);
  rtnh = w.rtnh_start(0, 0, 4);
  const size_t gw_at = w.nlmsg_len();
  w.put_addr(RTA_GATEWAY, ip("2001:db8::1"));
  w.rtnh_end(rtnh);
  w.nest_end(nest);
  expect_one_error(decode_with_follower(w), "fpm.nl.gateway_family", gw_at);
}

TEST(NetlinkErrors, MultipathNestedAttributeOverrun) {
  auto w = mp_route();
  const size_t nest = w.nest_start(RTA_MULTIPATH);
  size_t rtnh = w.rtnh_start(0, 0, 3);
  const size_t at = w.nlmsg_len();
  uint8_t bogus[4] = {40, 0, RTA_GATEWAY, 0};  // nla_len 40 inside an 12-byte entry
  w.put_raw(bogus);
  w.rtnh_end(rtnh);
  w.nest_end(nest);
  expect_one_error(decode_with_follower(w), "fpm.nl.attr_overrun", at);
}

// ---------------------------------------------------------------- next hops

TEST(NetlinkErrors, NexthopWithoutId) {
  auto none = raw_nexthop(AF_INET);
  none.put_u32(NHA_OIF, 3);
  expect_one_error(decode_with_follower(none), "fpm.nl.missing_nh_id", 0);
  auto zero = raw_nexthop(AF_UNSPEC, RTM_DELNEXTHOP);
  zero.put_u32(NHA_ID, 0);
  expect_one_error(decode_with_follower(zero), "fpm.nl.missing_nh_id", 0);
}

TEST(NetlinkErrors, NexthopAttributesOfWrongSize) {
  for (auto c : {SizeCase{NHA_ID, 2}, SizeCase{NHA_OIF, 8}, SizeCase{NHA_BLACKHOLE, 4},
                 SizeCase{NHA_GATEWAY, 6}, SizeCase{NHA_GROUP_TYPE, 4}}) {
    auto w = raw_nexthop(AF_INET);
    if (c.type != NHA_ID) w.put_u32(NHA_ID, 7);
    const size_t at = w.nlmsg_len();
    w.put(c.type, std::vector<uint8_t>(c.len, 1));
    if (c.type == NHA_GROUP_TYPE) {
      nexthop_grp e{1, 0, 0, 0};
      w.put(NHA_GROUP, {reinterpret_cast<const uint8_t*>(&e), sizeof e});
    }
    SCOPED_TRACE(testing::Message() << "type " << c.type << " len " << c.len);
    expect_one_error(decode_with_follower(w), "fpm.nl.attr_size", at);
  }
}

TEST(NetlinkErrors, NexthopGatewayFamilyMismatch) {
  auto v4 = raw_nexthop(AF_INET);
  v4.put_u32(NHA_ID, 7);
  v4.put_addr(NHA_GATEWAY, ip("fe80::1"));
  v4.put_u32(NHA_OIF, 3);
  expect_one_error(decode_with_follower(v4), "fpm.nl.gateway_family", kNexthopAttrOffset + 8);
  auto unspec = raw_nexthop(AF_UNSPEC);
  unspec.put_u32(NHA_ID, 7);
  unspec.put_addr(NHA_GATEWAY, ip("192.0.2.1"));
  expect_one_error(decode_with_follower(unspec), "fpm.nl.gateway_family", kNexthopAttrOffset + 8);
}

TEST(NetlinkErrors, NexthopWithNothingToForwardTo) {
  auto w = raw_nexthop(AF_INET);
  w.put_u32(NHA_ID, 7);
  expect_one_error(decode_with_follower(w), "fpm.nl.empty_nexthop", 0);
}

TEST(NetlinkErrors, NexthopWithEncapIsRefused) {
  auto w = raw_nexthop(AF_INET);
  w.put_u32(NHA_ID, 7);
  w.put_addr(NHA_GATEWAY, ip("192.0.2.1"));
  w.put_u32(NHA_OIF, 3);
  w.put_u16(NHA_ENCAP_TYPE, 1);  // LWTUNNEL_ENCAP_MPLS
  expect_one_error(decode_with_follower(w), "fpm.nl.unsupported_encap", 0);
}

NlMessageWriter group_msg(std::vector<nexthop_grp> entries, uint32_t id = 50) {
  auto w = raw_nexthop(AF_UNSPEC);
  w.put_u32(NHA_ID, id);
  w.put(NHA_GROUP,
        {reinterpret_cast<const uint8_t*>(entries.data()), entries.size() * sizeof(nexthop_grp)});
  return w;
}

TEST(NetlinkErrors, GroupWithZeroEntries) {
  expect_one_error(decode_with_follower(group_msg({})), "fpm.nl.bad_group", kNexthopAttrOffset + 8);
}

TEST(NetlinkErrors, GroupPayloadNotMultipleOfEntry) {
  auto w = raw_nexthop(AF_UNSPEC);
  w.put_u32(NHA_ID, 50);
  w.put(NHA_GROUP, std::vector<uint8_t>(12, 1));
  expect_one_error(decode_with_follower(w), "fpm.nl.bad_group", kNexthopAttrOffset + 8);
}

TEST(NetlinkErrors, GroupWithBadMembers) {
  const size_t entries_at = kNexthopAttrOffset + 8 + 4;
  expect_one_error(decode_with_follower(group_msg({{1, 0, 0, 0}, {0, 0, 0, 0}})),
                   "fpm.nl.bad_group", entries_at + 8);
  expect_one_error(decode_with_follower(group_msg({{50, 0, 0, 0}})), "fpm.nl.bad_group",
                   entries_at);  // refers to itself
  auto dup = decode_with_follower(group_msg({{1, 0, 0, 0}, {2, 0, 0, 0}, {1, 4, 0, 0}}));
  expect_one_error(dup, "fpm.nl.bad_group", kNexthopAttrOffset + 8);
  EXPECT_NE(dup.frame.errors[0].reason.find("twice"), std::string::npos);
}

TEST(NetlinkErrors, GroupOfUnknownType) {
  auto w = group_msg({{1, 0, 0, 0}});
  const size_t at = w.nlmsg_len();
  w.put_u16(NHA_GROUP_TYPE, 9);
  expect_one_error(decode_with_follower(w), "fpm.nl.bad_group", at);
}

TEST(NetlinkErrors, ManyBadMessagesEachCountedOnce) {
  std::vector<uint8_t> body;
  for (int i = 0; i < 5; ++i) {
    auto w = raw_route(AF_INET, 40);
    ASSERT_TRUE(w.append_to(body).ok());
    ASSERT_TRUE(append_route_add(body, route("10.0.0.0/8", {via("192.0.2.1", 3)})).ok());
  }
  auto d = decode(body);
  EXPECT_EQ(d.stats.errors, 5u);
  EXPECT_EQ(d.frame.errors.size(), 5u);
  EXPECT_EQ(d.frame.events.size(), 5u);
  EXPECT_EQ(d.stats.messages, 10u);
  EXPECT_TRUE(d.frame.complete);
}

}  // namespace
}  // namespace fpm_sink::test
