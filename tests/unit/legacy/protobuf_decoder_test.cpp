// Legacy protobuf FPM decoder: fixtures are built with the generated classes, plus two
// hand-encoded byte strings (checked with `protoc --decode_raw`) that pin the wire format
// independently of our own .proto files.
#include "fpm/legacy/protobuf_decoder.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "legacy/fpm.pb.h"

namespace fpm_sink {
namespace {

std::vector<uint8_t> bytes_of(const fpm::Message& m) {
  std::string s;
  // Partial: some fixtures deliberately omit required fields.
  EXPECT_TRUE(m.SerializePartialToString(&s));
  return {s.begin(), s.end()};
}

DecodedFrame decode(const fpm::Message& m, DecodeStats& stats) {
  const auto b = bytes_of(m);
  return decode_protobuf(b, stats);
}

void set_prefix(fpm::RouteKey* key, std::string bytes, uint32_t len) {
  key->mutable_prefix()->set_length(len);
  key->mutable_prefix()->set_bytes(std::move(bytes));
}

// A v4 add shaped like zebra's: only (len + 7) / 8 prefix bytes, required fields all set.
fpm::Message v4_add(std::string prefix_bytes, uint32_t len) {
  fpm::Message m;
  m.set_type(fpm::Message::ADD_ROUTE);
  auto* a = m.mutable_add_route();
  a->set_vrf_id(0);
  a->set_address_family(qpb::IPV4);
  a->set_sub_address_family(qpb::UNICAST);
  set_prefix(a->mutable_key(), std::move(prefix_bytes), len);
  a->set_route_type(fpm::NORMAL);
  a->set_protocol(qpb::BGP);
  a->set_metric(20);
  return m;
}

void add_v4_nexthop(fpm::AddRoute* a, uint32_t host_order, uint32_t ifindex) {
  auto* nh = a->add_nexthops();
  nh->mutable_if_id()->set_index(ifindex);
  nh->mutable_address()->mutable_v4()->set_value(host_order);
}

std::string v6_bytes(const char* text) {
  auto a = IpAddr::parse(text);
  EXPECT_TRUE(a.has_value());
  return std::string(reinterpret_cast<const char*>(a->bytes.data()), 16);
}

fpm::Message v6_add(uint32_t len) {
  fpm::Message m;
  m.set_type(fpm::Message::ADD_ROUTE);
  auto* a = m.mutable_add_route();
  a->set_vrf_id(0);
  a->set_address_family(qpb::IPV6);
  a->set_sub_address_family(qpb::UNICAST);
  set_prefix(a->mutable_key(), v6_bytes("2001:db8:1::").substr(0, (len + 7) / 8), len);
  a->set_route_type(fpm::NORMAL);
  a->set_protocol(qpb::OSPF);
  a->set_metric(110);
  return m;
}

RouteAdd only_add(const DecodedFrame& f) {  // by value: callers pass temporaries
  EXPECT_TRUE(f.errors.empty()) << (f.errors.empty() ? "" : f.errors[0].id);
  EXPECT_EQ(f.events.size(), 1u);
  return std::get<RouteAdd>(f.events.at(0));
}

void expect_error(const DecodedFrame& f, const DecodeStats& stats, const std::string& id) {
  EXPECT_TRUE(f.events.empty());
  ASSERT_EQ(f.errors.size(), 1u);
  EXPECT_EQ(f.errors[0].id, id) << f.errors[0].reason;
  EXPECT_EQ(stats.errors, 1u);
  EXPECT_EQ(stats.new_route + stats.del_route, 0u);
}

TEST(LegacyProtobuf, V4AddWithGatewayAndInterface) {
  auto m = v4_add("\x0a", 8);
  add_v4_nexthop(m.mutable_add_route(), 0xC0000201, 3);
  DecodeStats stats;
  auto f = decode(m, stats);
  const RouteAdd add = only_add(f);
  EXPECT_EQ(add.table, 254u);
  EXPECT_EQ(add.prefix, *Prefix::parse("10.0.0.0/8"));
  EXPECT_EQ(add.protocol, proto_id::bgp);
  EXPECT_EQ(add.metric, 20u);
  EXPECT_EQ(add.type, RouteType::Unicast);
  EXPECT_EQ(add.nhg_id, 0u);
  ASSERT_EQ(add.nexthops.size(), 1u);
  EXPECT_EQ(add.nexthops[0].nh.gateway, IpAddr::parse("192.0.2.1"));
  EXPECT_EQ(add.nexthops[0].nh.ifindex, 3u);
  EXPECT_EQ(add.nexthops[0].weight, 1);
  EXPECT_EQ(stats.messages, 1u);
  EXPECT_EQ(stats.new_route, 1u);
  EXPECT_TRUE(f.complete);
}

TEST(LegacyProtobuf, HostBitsAreCleared) {
  auto m = v4_add(std::string("\x0a\x01\x02\x03", 4), 8);  // full 4 bytes, host bits set
  add_v4_nexthop(m.mutable_add_route(), 0xC0000201, 3);
  DecodeStats stats;
  EXPECT_EQ(only_add(decode(m, stats)).prefix, *Prefix::parse("10.0.0.0/8"));
}

TEST(LegacyProtobuf, DefaultRouteHasNoPrefixBytes) {
  auto m = v4_add("", 0);
  add_v4_nexthop(m.mutable_add_route(), 0xC0000201, 3);
  DecodeStats stats;
  EXPECT_EQ(only_add(decode(m, stats)).prefix, *Prefix::parse("0.0.0.0/0"));
}

TEST(LegacyProtobuf, V6AddInterfaceOnlyAndGateway) {
  auto m = v6_add(48);
  auto* a = m.mutable_add_route();
  a->add_nexthops()->mutable_if_id()->set_index(7);  // connected: interface only
  auto* nh = a->add_nexthops();
  nh->mutable_address()->mutable_v6()->set_bytes(v6_bytes("fe80::1"));
  nh->mutable_if_id()->set_index(8);
  DecodeStats stats;
  const RouteAdd add = only_add(decode(m, stats));
  EXPECT_EQ(add.prefix, *Prefix::parse("2001:db8:1::/48"));
  EXPECT_EQ(add.protocol, proto_id::ospf);
  EXPECT_EQ(add.metric, 110u);
  ASSERT_EQ(add.nexthops.size(), 2u);
  EXPECT_FALSE(add.nexthops[0].nh.gateway.has_value());
  EXPECT_EQ(add.nexthops[0].nh.ifindex, 7u);
  EXPECT_EQ(add.nexthops[1].nh.gateway, IpAddr::parse("fe80::1"));
  EXPECT_EQ(add.nexthops[1].nh.ifindex, 8u);
}

TEST(LegacyProtobuf, MultipathKeepsOrderWithUnitWeights) {
  auto m = v4_add(std::string("\xc6\x33\x64", 3), 24);
  for (uint32_t i = 1; i <= 4; ++i) add_v4_nexthop(m.mutable_add_route(), 0x0A000000 + i, i);
  DecodeStats stats;
  const RouteAdd add = only_add(decode(m, stats));
  EXPECT_EQ(add.prefix, *Prefix::parse("198.51.100.0/24"));
  ASSERT_EQ(add.nexthops.size(), 4u);
  for (uint32_t i = 0; i < 4; ++i) {
    EXPECT_EQ(add.nexthops[i].nh.gateway, IpAddr::v4(0x0A000001 + i));
    EXPECT_EQ(add.nexthops[i].nh.ifindex, i + 1);
    EXPECT_EQ(add.nexthops[i].weight, 1);
  }
}

TEST(LegacyProtobuf, BlackholeAndUnreachableNeedNoNexthop) {
  for (auto [pb_type, type] : {std::pair{fpm::BLACKHOLE, RouteType::Blackhole},
                               std::pair{fpm::UNREACHABLE, RouteType::Unreachable}}) {
    auto m = v4_add("\x0a", 8);
    m.mutable_add_route()->set_route_type(pb_type);
    m.mutable_add_route()->set_protocol(qpb::STATIC);
    DecodeStats stats;
    const RouteAdd add = only_add(decode(m, stats));
    EXPECT_EQ(add.type, type);
    EXPECT_EQ(add.protocol, proto_id::zstatic);
    EXPECT_TRUE(add.nexthops.empty());
  }
}

TEST(LegacyProtobuf, ProtocolMapsLikeTheNetlinkPath) {
  const std::pair<qpb::Protocol, uint8_t> cases[] = {
      {qpb::CONNECTED, proto_id::kernel}, {qpb::KERNEL, proto_id::kernel},
      {qpb::RIP, proto_id::rip},          {qpb::RIPNG, proto_id::ripng},
      {qpb::ISIS, proto_id::isis},        {qpb::OTHER, proto_id::zebra},
  };
  for (auto [pb, want] : cases) {
    auto m = v4_add("\x0a", 8);
    m.mutable_add_route()->set_protocol(pb);
    add_v4_nexthop(m.mutable_add_route(), 0xC0000201, 3);
    DecodeStats stats;
    EXPECT_EQ(only_add(decode(m, stats)).protocol, want) << qpb::Protocol_Name(pb);
  }
}

TEST(LegacyProtobuf, V6Delete) {
  fpm::Message m;
  m.set_type(fpm::Message::DELETE_ROUTE);
  auto* d = m.mutable_delete_route();
  d->set_vrf_id(0);
  d->set_address_family(qpb::IPV6);
  d->set_sub_address_family(qpb::UNICAST);
  set_prefix(d->mutable_key(), v6_bytes("2001:db8::").substr(0, 4), 32);
  DecodeStats stats;
  auto f = decode(m, stats);
  ASSERT_TRUE(f.errors.empty());
  ASSERT_EQ(f.events.size(), 1u);
  const auto& del = std::get<RouteDel>(f.events[0]);
  EXPECT_EQ(del.table, 254u);
  EXPECT_EQ(del.prefix, *Prefix::parse("2001:db8::/32"));
  EXPECT_EQ(stats.del_route, 1u);
}

TEST(LegacyProtobuf, MulticastSafiIsSkippedAndCounted) {
  auto m = v4_add("\xe0", 4);
  m.mutable_add_route()->set_sub_address_family(qpb::MULTICAST);
  add_v4_nexthop(m.mutable_add_route(), 0xC0000201, 3);
  DecodeStats stats;
  auto f = decode(m, stats);
  EXPECT_TRUE(f.events.empty());
  EXPECT_TRUE(f.errors.empty());
  EXPECT_EQ(stats.skipped_family, 1u);
}

// --- wire format pinned by hand-encoded bytes -------------------------------------

TEST(LegacyProtobufWire, HandEncodedV4Add) {
  // protoc --decode_raw: 1:1  2 { 1:0 2:1 3:1 4 { 1 { 1:8 2:"\n" } } 5:1 6:9 8:20
  //                               9 { 2 { 1:3 } 3 { 1 { 1:0xc0000201 } } } }
  const std::vector<uint8_t> wire = {0x08, 0x01, 0x12, 0x24, 0x08, 0x00, 0x10, 0x01, 0x18, 0x01,
                                     0x22, 0x07, 0x0a, 0x05, 0x08, 0x08, 0x12, 0x01, 0x0a, 0x28,
                                     0x01, 0x30, 0x09, 0x40, 0x14, 0x4a, 0x0d, 0x12, 0x02, 0x08,
                                     0x03, 0x1a, 0x07, 0x0a, 0x05, 0x0d, 0x01, 0x02, 0x00, 0xc0};
  DecodeStats stats;
  auto f = decode_protobuf(wire, stats);
  const RouteAdd add = only_add(f);
  EXPECT_EQ(add.prefix, *Prefix::parse("10.0.0.0/8"));
  EXPECT_EQ(add.protocol, proto_id::bgp);
  EXPECT_EQ(add.metric, 20u);
  ASSERT_EQ(add.nexthops.size(), 1u);
  EXPECT_EQ(add.nexthops[0].nh.gateway, IpAddr::parse("192.0.2.1"));
  EXPECT_EQ(add.nexthops[0].nh.ifindex, 3u);

  // Our schema must produce exactly these bytes for the same message.
  auto m = v4_add("\x0a", 8);
  add_v4_nexthop(m.mutable_add_route(), 0xC0000201, 3);
  EXPECT_EQ(bytes_of(m), wire);
}

TEST(LegacyProtobufWire, HandEncodedV6Delete) {
  // protoc --decode_raw: 1:2  3 { 1:0 2:2 3:1 4 { 1 { 1:32 2:" \001\r\270" } } }
  const std::vector<uint8_t> wire = {0x08, 0x02, 0x1a, 0x12, 0x08, 0x00, 0x10, 0x02,
                                     0x18, 0x01, 0x22, 0x0a, 0x0a, 0x08, 0x08, 0x20,
                                     0x12, 0x04, 0x20, 0x01, 0x0d, 0xb8};
  DecodeStats stats;
  auto f = decode_protobuf(wire, stats);
  ASSERT_TRUE(f.errors.empty());
  ASSERT_EQ(f.events.size(), 1u);
  EXPECT_EQ(std::get<RouteDel>(f.events[0]).prefix, *Prefix::parse("2001:db8::/32"));
}

// --- malformed input: one stable id each, counted, never a crash ------------------

TEST(LegacyProtobufMalformed, GarbageBytes) {
  const std::vector<uint8_t> wire = {0x12, 0xff, 0x01, 0x00};  // length runs past the end
  DecodeStats stats;
  auto f = decode_protobuf(wire, stats);
  expect_error(f, stats, "fpm.pb.parse_failed");
  EXPECT_FALSE(f.complete);
}

TEST(LegacyProtobufMalformed, TruncatedValidMessage) {
  auto m = v4_add("\x0a", 8);
  add_v4_nexthop(m.mutable_add_route(), 0xC0000201, 3);
  auto b = bytes_of(m);
  b.resize(b.size() - 3);
  DecodeStats stats;
  expect_error(decode_protobuf(b, stats), stats, "fpm.pb.parse_failed");
}

TEST(LegacyProtobufMalformed, EmptyBodyHasNoType) {
  DecodeStats stats;
  auto f = decode_protobuf({}, stats);
  expect_error(f, stats, "fpm.pb.unknown_type");
  EXPECT_EQ(stats.unknown_type, 1u);
}

TEST(LegacyProtobufMalformed, UnknownMessageType) {
  fpm::Message m;
  m.set_type(fpm::Message::UNKNOWN_MSG);
  DecodeStats stats;
  expect_error(decode(m, stats), stats, "fpm.pb.unknown_type");
  EXPECT_EQ(stats.unknown_type, 1u);
}

TEST(LegacyProtobufMalformed, TypeValueOutsideTheEnum) {
  const std::vector<uint8_t> wire = {0x08, 0x07};  // type = 7
  DecodeStats stats;
  expect_error(decode_protobuf(wire, stats), stats, "fpm.pb.unknown_type");
}

TEST(LegacyProtobufMalformed, TypeWithoutBody) {
  fpm::Message m;
  m.set_type(fpm::Message::ADD_ROUTE);
  DecodeStats stats;
  expect_error(decode(m, stats), stats, "fpm.pb.missing_field");

  fpm::Message d;
  d.set_type(fpm::Message::DELETE_ROUTE);
  DecodeStats stats2;
  expect_error(decode(d, stats2), stats2, "fpm.pb.missing_field");
}

TEST(LegacyProtobufMalformed, EachMissingRequiredField) {
  using Clear = void (*)(fpm::AddRoute*);
  const std::pair<const char*, Clear> cases[] = {
      {"vrf_id", [](fpm::AddRoute* a) { a->clear_vrf_id(); }},
      {"address_family", [](fpm::AddRoute* a) { a->clear_address_family(); }},
      {"sub_address_family", [](fpm::AddRoute* a) { a->clear_sub_address_family(); }},
      {"key", [](fpm::AddRoute* a) { a->clear_key(); }},
      {"key.prefix", [](fpm::AddRoute* a) { a->mutable_key()->clear_prefix(); }},
      {"key.prefix.length",
       [](fpm::AddRoute* a) { a->mutable_key()->mutable_prefix()->clear_length(); }},
      {"key.prefix.bytes",
       [](fpm::AddRoute* a) { a->mutable_key()->mutable_prefix()->clear_bytes(); }},
      {"protocol", [](fpm::AddRoute* a) { a->clear_protocol(); }},
      {"metric", [](fpm::AddRoute* a) { a->clear_metric(); }},
  };
  for (auto [field, clear] : cases) {
    auto m = v4_add("\x0a", 8);
    add_v4_nexthop(m.mutable_add_route(), 0xC0000201, 3);
    clear(m.mutable_add_route());
    DecodeStats stats;
    auto f = decode(m, stats);
    SCOPED_TRACE(field);
    expect_error(f, stats, "fpm.pb.missing_field");
    EXPECT_EQ(f.errors[0].reason, field);
  }
}

TEST(LegacyProtobufMalformed, UnknownAddressFamily) {
  auto m = v4_add("\x0a", 8);
  m.mutable_add_route()->set_address_family(qpb::UNKNOWN_AF);
  add_v4_nexthop(m.mutable_add_route(), 0xC0000201, 3);
  DecodeStats stats;
  expect_error(decode(m, stats), stats, "fpm.pb.bad_family");
}

TEST(LegacyProtobufMalformed, NonDefaultVrf) {
  auto m = v4_add("\x0a", 8);
  m.mutable_add_route()->set_vrf_id(5);
  add_v4_nexthop(m.mutable_add_route(), 0xC0000201, 3);
  DecodeStats stats;
  expect_error(decode(m, stats), stats, "fpm.pb.vrf_unsupported");
}

TEST(LegacyProtobufMalformed, PrefixLengthBeyondFamily) {
  auto m = v4_add(std::string("\x0a\x00\x00\x01", 4), 33);
  add_v4_nexthop(m.mutable_add_route(), 0xC0000201, 3);
  DecodeStats stats;
  expect_error(decode(m, stats), stats, "fpm.pb.bad_prefixlen");

  auto m6 = v6_add(64);
  m6.mutable_add_route()->mutable_key()->mutable_prefix()->set_length(129);
  m6.mutable_add_route()->add_nexthops()->mutable_if_id()->set_index(1);
  DecodeStats stats6;
  expect_error(decode(m6, stats6), stats6, "fpm.pb.bad_prefixlen");
}

TEST(LegacyProtobufMalformed, PrefixBytesTooShortOrTooLong) {
  auto short_m = v4_add("\x0a", 16);  // /16 needs 2 bytes
  add_v4_nexthop(short_m.mutable_add_route(), 0xC0000201, 3);
  DecodeStats s1;
  expect_error(decode(short_m, s1), s1, "fpm.pb.bad_prefix_bytes");

  auto long_m = v4_add(std::string(5, '\x0a'), 8);  // wider than IPv4
  add_v4_nexthop(long_m.mutable_add_route(), 0xC0000201, 3);
  DecodeStats s2;
  expect_error(decode(long_m, s2), s2, "fpm.pb.bad_prefix_bytes");
}

TEST(LegacyProtobufMalformed, V6NexthopOfWrongSize) {
  auto m = v6_add(48);
  auto* nh = m.mutable_add_route()->add_nexthops();
  nh->mutable_address()->mutable_v6()->set_bytes(std::string(4, '\x01'));
  DecodeStats stats;
  expect_error(decode(m, stats), stats, "fpm.pb.bad_address");
}

TEST(LegacyProtobufMalformed, AddressWithNeitherV4NorV6) {
  auto m = v4_add("\x0a", 8);
  auto* nh = m.mutable_add_route()->add_nexthops();
  nh->mutable_address();  // present but empty
  nh->mutable_if_id()->set_index(2);
  DecodeStats stats;
  expect_error(decode(m, stats), stats, "fpm.pb.bad_address");
}

TEST(LegacyProtobufMalformed, V4AddressWithoutValue) {
  auto m = v4_add("\x0a", 8);
  m.mutable_add_route()->add_nexthops()->mutable_address()->mutable_v4();
  DecodeStats stats;
  expect_error(decode(m, stats), stats, "fpm.pb.missing_field");
}

TEST(LegacyProtobufMalformed, EmptyNexthop) {
  auto m = v4_add("\x0a", 8);
  m.mutable_add_route()->add_nexthops()->mutable_if_id()->set_name("eth0");  // name only
  DecodeStats stats;
  expect_error(decode(m, stats), stats, "fpm.pb.bad_nexthop");
}

TEST(LegacyProtobufMalformed, NormalRouteWithoutNexthops) {
  auto m = v4_add("\x0a", 8);
  DecodeStats stats;
  expect_error(decode(m, stats), stats, "fpm.pb.no_nexthop");
}

TEST(LegacyProtobufMalformed, DeleteWithBadPrefix) {
  fpm::Message m;
  m.set_type(fpm::Message::DELETE_ROUTE);
  auto* d = m.mutable_delete_route();
  d->set_vrf_id(0);
  d->set_address_family(qpb::IPV4);
  d->set_sub_address_family(qpb::UNICAST);
  set_prefix(d->mutable_key(), "\x0a", 40);
  DecodeStats stats;
  expect_error(decode(m, stats), stats, "fpm.pb.bad_prefixlen");
}

TEST(LegacyProtobufMalformed, StatsAccumulateAcrossFrames) {
  DecodeStats stats;
  auto good = v4_add("\x0a", 8);
  add_v4_nexthop(good.mutable_add_route(), 0xC0000201, 3);
  (void)decode(good, stats);
  (void)decode_protobuf(std::vector<uint8_t>{0xff}, stats);
  (void)decode(good, stats);
  EXPECT_EQ(stats.messages, 3u);
  EXPECT_EQ(stats.new_route, 2u);
  EXPECT_EQ(stats.errors, 1u);
}

// Every single-byte truncation and bit flip of a valid message must decode or fail
// cleanly; a cheap, deterministic stand-in for the fuzz target.
TEST(LegacyProtobufMalformed, MutationsNeverCrash) {
  auto m = v6_add(48);
  auto* nh = m.mutable_add_route()->add_nexthops();
  nh->mutable_address()->mutable_v6()->set_bytes(v6_bytes("fe80::1"));
  nh->mutable_if_id()->set_index(8);
  const auto base = bytes_of(m);
  DecodeStats stats;
  for (size_t n = 0; n < base.size(); ++n) {
    std::vector<uint8_t> cut(base.begin(), base.begin() + n);
    auto f = decode_protobuf(cut, stats);
    EXPECT_TRUE(!f.events.empty() || !f.errors.empty()) << "cut at " << n;
  }
  for (size_t i = 0; i < base.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      auto flipped = base;
      flipped[i] ^= static_cast<uint8_t>(1u << bit);
      (void)decode_protobuf(flipped, stats);
    }
  }
  EXPECT_EQ(stats.messages, base.size() * 9);
}

}  // namespace
}  // namespace fpm_sink
