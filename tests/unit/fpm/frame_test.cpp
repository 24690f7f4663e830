#include "fpm/frame.hpp"

#include <gtest/gtest.h>

#include <array>
#include <vector>

namespace fpm_sink {
namespace {

std::vector<uint8_t> frame(uint8_t version, uint8_t type, uint16_t length,
                           std::vector<uint8_t> body = {}) {
  std::vector<uint8_t> f = {version, type, static_cast<uint8_t>(length >> 8),
                            static_cast<uint8_t>(length & 0xff)};
  f.insert(f.end(), body.begin(), body.end());
  return f;
}

Result<FrameHeader> header(const std::vector<uint8_t>& b) {
  return parse_frame_header(std::span<const uint8_t, 4>(b.data(), 4));
}

TEST(FrameHeader, AcceptsNetlinkAndProtobuf) {
  auto h = header(frame(1, 1, 0x1234));
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->type, FrameType::Netlink);
  EXPECT_EQ(h->length, 0x1234);  // network byte order
  EXPECT_EQ(h->body_size(), 0x1230u);
  auto p = header(frame(1, 2, 4));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->type, FrameType::Protobuf);
  EXPECT_EQ(p->body_size(), 0u);
  EXPECT_TRUE(header(frame(1, 1, 65535)).ok());
}

TEST(FrameHeader, RejectsBadVersion) {
  for (uint8_t v : {0, 2, 255}) {
    auto h = header(frame(v, 1, 8));
    ASSERT_FALSE(h.ok());
    EXPECT_EQ(h.error().id, "fpm.frame.bad_version");
    EXPECT_NE(h.error().message.find(std::to_string(v)), std::string::npos);
  }
}

TEST(FrameHeader, RejectsBadType) {
  for (uint8_t t : {0, 3, 200}) {
    auto h = header(frame(1, t, 8));
    ASSERT_FALSE(h.ok());
    EXPECT_EQ(h.error().id, "fpm.frame.bad_type");
  }
}

TEST(FrameHeader, RejectsLengthShorterThanHeader) {
  for (uint16_t l : {0, 1, 3}) {
    auto h = header(frame(1, 1, l));
    ASSERT_FALSE(h.ok()) << l;
    EXPECT_EQ(h.error().id, "fpm.frame.bad_length");
  }
}

TEST(FrameHeader, PutRoundTrips) {
  std::array<uint8_t, 4> b{};
  put_frame_header(b, FrameType::Protobuf, 65531);
  EXPECT_EQ(b[0], 1);
  EXPECT_EQ(b[1], 2);
  EXPECT_EQ(b[2], 0xff);
  EXPECT_EQ(b[3], 0xff);
  auto h = parse_frame_header(b);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->body_size(), 65531u);
}

TEST(FrameReader, NeedsWholeFrame) {
  FrameReader r;
  EXPECT_FALSE(r.next().has_value());
  auto f = frame(1, 1, 7, {0xa, 0xb, 0xc});
  r.feed(std::span(f).first(3));
  EXPECT_FALSE(r.next().has_value());  // header incomplete
  r.feed(std::span(f).subspan(3, 2));
  EXPECT_FALSE(r.next().has_value());  // body incomplete
  r.feed(std::span(f).subspan(5));
  auto got = r.next();
  ASSERT_TRUE(got.has_value());
  ASSERT_TRUE(got->ok());
  EXPECT_EQ((*got)->body, (std::vector<uint8_t>{0xa, 0xb, 0xc}));
  EXPECT_EQ((*got)->stream_offset, 0u);
  EXPECT_EQ(r.consumed(), 7u);
  EXPECT_FALSE(r.next().has_value());
}

TEST(FrameReader, SplitsSeveralFramesFedByteByByte) {
  std::vector<uint8_t> stream;
  for (uint8_t i = 0; i < 5; ++i) {
    auto f = frame(1, 1 + (i % 2), static_cast<uint16_t>(4 + i), std::vector<uint8_t>(i, i));
    stream.insert(stream.end(), f.begin(), f.end());
  }
  FrameReader r;
  std::vector<Frame> frames;
  for (uint8_t b : stream) {
    r.feed(std::span(&b, 1));
    while (auto f = r.next()) {
      ASSERT_TRUE(f->ok());
      frames.push_back(std::move(f->value()));
    }
  }
  ASSERT_EQ(frames.size(), 5u);
  uint64_t off = 0;
  for (uint8_t i = 0; i < 5; ++i) {
    EXPECT_EQ(frames[i].body, std::vector<uint8_t>(i, i));
    EXPECT_EQ(frames[i].header.type, i % 2 ? FrameType::Protobuf : FrameType::Netlink);
    EXPECT_EQ(frames[i].stream_offset, off);
    off += 4 + i;
  }
  EXPECT_EQ(r.consumed(), off);
}

TEST(FrameReader, ErrorIsStickyAndNamesTheOffset) {
  FrameReader r;
  auto good = frame(1, 1, 6, {1, 2});
  auto bad = frame(9, 1, 6, {1, 2});
  r.feed(good);
  r.feed(bad);
  auto first = r.next();
  ASSERT_TRUE(first && first->ok());
  auto err = r.next();
  ASSERT_TRUE(err.has_value());
  ASSERT_FALSE(err->ok());
  EXPECT_EQ(err->error().id, "fpm.frame.bad_version");
  EXPECT_NE(err->error().message.find("offset 6"), std::string::npos) << err->error().message;
  // More valid bytes do not resynchronise the stream.
  r.feed(good);
  auto again = r.next();
  ASSERT_TRUE(again.has_value());
  EXPECT_FALSE(again->ok());
  EXPECT_EQ(again->error().id, "fpm.frame.bad_version");
}

TEST(FrameReader, RejectsLengthBelowHeaderBeforeWaitingForBody) {
  FrameReader r;
  auto f = frame(1, 1, 2);
  r.feed(f);
  auto got = r.next();
  ASSERT_TRUE(got.has_value());
  ASSERT_FALSE(got->ok());
  EXPECT_EQ(got->error().id, "fpm.frame.bad_length");
}

TEST(FrameReader, BadTypeDetectedFromHeaderAlone) {
  FrameReader r;
  auto f = frame(1, 7, 60000);  // body never arrives: the header alone must be judged
  r.feed(f);
  auto got = r.next();
  ASSERT_TRUE(got.has_value());
  ASSERT_FALSE(got->ok());
  EXPECT_EQ(got->error().id, "fpm.frame.bad_type");
}

TEST(FrameReader, HandlesLongStreamsWithoutLosingBytes) {
  // Many maximum-size frames: exercises the buffer compaction.
  FrameReader r;
  std::vector<uint8_t> body(kFpmMaxFrame - 4);
  size_t got = 0;
  for (int i = 0; i < 6; ++i) {
    body[0] = static_cast<uint8_t>(i);
    body.back() = static_cast<uint8_t>(0x80 + i);
    auto f = frame(1, 1, 65535, body);
    r.feed(std::span(f).first(30000));
    EXPECT_FALSE(r.next().has_value());
    r.feed(std::span(f).subspan(30000));
    auto fr = r.next();
    ASSERT_TRUE(fr && fr->ok());
    EXPECT_EQ((*fr)->body.size(), body.size());
    EXPECT_EQ((*fr)->body[0], i);
    EXPECT_EQ((*fr)->body.back(), 0x80 + i);
    ++got;
  }
  EXPECT_EQ(got, 6u);
  EXPECT_EQ(r.consumed(), 6u * 65535);
}

}  // namespace
}  // namespace fpm_sink
