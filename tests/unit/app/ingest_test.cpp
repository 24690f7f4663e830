#include "app/ingest.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "app_test_util.hpp"

namespace fpm_sink {
namespace {

using namespace test;

// What a test compares: every route and group with its state, plus the counters
// that must not depend on how the stream was split.
std::string snapshot(const Rib& rib, const IngestStats& st) {
  std::string s;
  rib.for_each_group([&](const RibGroup& g) {
    s += "g" + std::to_string(g.spec.id) + (g.state == EntryState::Installed ? "i" : "p") + " ";
  });
  rib.for_each_route([&](const RibRoute& r) {
    s += std::to_string(r.spec.table) + ":" + r.spec.prefix.to_string() + "/" +
         std::to_string(r.group_id) + (r.state == EntryState::Installed ? "i" : "p") + " ";
  });
  s += "frames=" + std::to_string(st.frames) + " msgs=" + std::to_string(st.decode.messages) +
       " bytes=" + std::to_string(st.bytes) + " errs=" + std::to_string(st.decode_errors);
  return s;
}

std::vector<uint8_t> sample_stream() {
  RouteAdd v6 = inline_route("2001:db8:1::/48", "fe80::1", 4);
  return concat({
      frame_of({single_nh(12, "10.0.0.2", 3)}),
      frame_of({nhg_route("10.0.0.0/24", 12), inline_route("10.1.0.0/24", "10.0.0.9", 5)}),
      frame_of({RouteDel{254, pfx("10.1.0.0/24"), proto_id::ospf, 10}}),
      frame_of({inline_route("10.2.0.0/16", "10.0.0.9", 5), v6}),
  });
}

struct Harness {
  Rib rib;
  IngestStats stats;
  LogLimiter limiter;
  Ingest ingest{rib, stats, limiter};
};

TEST(Ingest, WholeStream) {
  Harness h;
  const auto stream = sample_stream();
  ASSERT_TRUE(h.ingest.feed(stream));
  EXPECT_EQ(h.stats.frames, 4u);
  EXPECT_EQ(h.stats.netlink_frames, 4u);
  EXPECT_EQ(h.stats.bytes, stream.size());
  EXPECT_EQ(h.stats.decode.new_route, 4u);
  EXPECT_EQ(h.stats.decode.del_route, 1u);
  EXPECT_EQ(h.stats.decode.new_nexthop, 1u);
  EXPECT_EQ(h.ingest.stream_offset(), stream.size());
  EXPECT_EQ(h.ingest.buffered(), 0u);
  EXPECT_NE(h.rib.find_route(254, pfx("10.0.0.0/24")), nullptr);
  EXPECT_EQ(h.rib.find_route(254, pfx("10.1.0.0/24")), nullptr);
  EXPECT_NE(h.rib.find_route(254, pfx("2001:db8:1::/48")), nullptr);
}

TEST(Ingest, SameResultAtEverySplitPoint) {
  const auto stream = sample_stream();
  Harness whole;
  ASSERT_TRUE(whole.ingest.feed(stream));
  const std::string expected = snapshot(whole.rib, whole.stats);

  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    Harness h;
    const std::span<const uint8_t> all(stream);
    ASSERT_TRUE(h.ingest.feed(all.first(cut)));
    ASSERT_TRUE(h.ingest.feed(all.subspan(cut)));
    ASSERT_EQ(snapshot(h.rib, h.stats), expected) << "cut at " << cut;
  }
}

TEST(Ingest, OneByteAtATime) {
  const auto stream = sample_stream();
  Harness whole;
  ASSERT_TRUE(whole.ingest.feed(stream));
  Harness h;
  for (uint8_t b : stream) ASSERT_TRUE(h.ingest.feed(std::span<const uint8_t>(&b, 1)));
  EXPECT_EQ(snapshot(h.rib, h.stats), snapshot(whole.rib, whole.stats));
}

TEST(Ingest, ManyFramesThroughPrepareCommit) {
  std::vector<uint8_t> stream;
  FrameStreamWriter writer(stream);
  constexpr uint32_t kRoutes = 20000;
  for (uint32_t i = 0; i < kRoutes; ++i) {
    RouteAdd r;
    r.prefix = *Prefix::make(IpAddr::v4(0x0a000000u + (i << 8)), 24);
    r.protocol = proto_id::bgp;
    r.nexthops.push_back({NextHop{ip("192.0.2.1"), 2, false, false}, 1});
    ASSERT_TRUE(writer.add(r));
  }
  writer.flush();
  ASSERT_GT(writer.frames(), 10u);

  // Reads of odd sizes, straight into the ingest buffer as the session does.
  Harness h;
  size_t pos = 0, chunk = 1;
  while (pos < stream.size()) {
    auto space = h.ingest.prepare();
    ASSERT_GE(space.size(), kFpmMaxFrame);
    chunk = (chunk * 7919) % 200003 + 1;
    const size_t n = std::min({chunk, space.size(), stream.size() - pos});
    std::memcpy(space.data(), stream.data() + pos, n);
    ASSERT_TRUE(h.ingest.commit(n));
    pos += n;
  }
  EXPECT_EQ(h.stats.frames, writer.frames());
  EXPECT_EQ(h.rib.stats().routes_v4, kRoutes);
  EXPECT_EQ(h.ingest.buffered(), 0u);
}

TEST(Ingest, BadHeaderFailsWithOffsetAndStaysFailed) {
  Harness h;
  const auto good = frame_of({single_nh(12, "10.0.0.2", 3)});
  ASSERT_TRUE(h.ingest.feed(good));
  const std::vector<uint8_t> bad{9, 1, 0, 8, 0, 0, 0, 0};
  auto st = h.ingest.feed(bad);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().id, "fpm.frame.bad_version");
  EXPECT_NE(st.error().message.find("stream offset " + std::to_string(good.size())),
            std::string::npos)
      << st.error().message;
  EXPECT_EQ(h.stats.framing_errors, 1u);
  EXPECT_FALSE(h.ingest.feed(good));  // a lost stream cannot resynchronise
  EXPECT_EQ(h.stats.frames, 1u);
}

TEST(Ingest, FramesBeforeABadHeaderInTheSameReadAreApplied) {
  Harness h;
  // One read: a next hop, a route using it, then garbage. The Ingest applies
  // the frames of a read as one batch; the good ones must not be lost with it.
  auto stream =
      concat({frame_of({single_nh(12, "10.0.0.2", 3)}), frame_of({nhg_route("10.0.0.0/24", 12)})});
  const size_t good = stream.size();
  stream.insert(stream.end(), {9, 1, 0, 8, 0, 0, 0, 0});
  auto st = h.ingest.feed(stream);
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("stream offset " + std::to_string(good)), std::string::npos)
      << st.error().message;
  EXPECT_EQ(h.stats.frames, 2u);
  const RibRoute* r = h.rib.find_route(254, pfx("10.0.0.0/24"));
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->state, EntryState::Installed);
}

TEST(Ingest, OneReadKeepsStreamOrderAndNamesTheFrameOfARefusal) {
  Harness h;
  // add, delete, add again, then a delete of something unknown: applied in
  // order, so the route exists at the end and exactly one refusal is counted.
  const auto stream = concat({
      frame_of({inline_route("10.3.0.0/24", "10.0.0.9", 5)}),
      frame_of({RouteDel{254, pfx("10.3.0.0/24"), proto_id::ospf, 10}}),
      frame_of({inline_route("10.3.0.0/24", "10.0.0.8", 5)}),
      frame_of({RouteDel{254, pfx("10.9.0.0/16"), proto_id::bgp, 20}}),
  });
  ASSERT_TRUE(h.ingest.feed(stream));
  const RibRoute* r = h.rib.find_route(254, pfx("10.3.0.0/24"));
  ASSERT_NE(r, nullptr);
  const auto nhs = r->spec.nexthops.to_vector();
  ASSERT_EQ(nhs.size(), 1u);
  EXPECT_EQ(nhs[0].nh.gateway, IpAddr::parse("10.0.0.8").value());
  EXPECT_EQ(h.stats.apply_errors, 1u);
  EXPECT_NE(h.stats.last_error.find("unknown_delete"), std::string::npos) << h.stats.last_error;
}

TEST(Ingest, DecodeErrorsAreCountedAndTheStreamGoesOn) {
  Harness h;
  // A protobuf frame whose body is not an fpm.Message.
  std::vector<uint8_t> pb{1, 2, 0, 7, 0xff, 0xff, 0xff};
  ASSERT_TRUE(h.ingest.feed(pb));
  EXPECT_EQ(h.stats.protobuf_frames, 1u);
  EXPECT_GE(h.stats.decode_errors, 1u);
  EXPECT_FALSE(h.stats.last_error.empty());
  ASSERT_TRUE(h.ingest.feed(frame_of({single_nh(12, "10.0.0.2", 3)})));
  EXPECT_NE(h.rib.find_group(12), nullptr);
}

TEST(Ingest, RibRefusalsAreCounted) {
  Harness h;
  ASSERT_TRUE(h.ingest.feed(frame_of({RouteDel{254, pfx("10.9.0.0/16"), proto_id::bgp, 20}})));
  EXPECT_EQ(h.stats.apply_errors, 1u);
  EXPECT_NE(h.stats.last_error.find("unknown_delete"), std::string::npos) << h.stats.last_error;
}

}  // namespace
}  // namespace fpm_sink
