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

TEST(NextFrame, NeedsWholeFrame) {
  auto f = frame(1, 1, 7, {0xa, 0xb, 0xc});
  for (size_t have : {size_t{0}, size_t{3}, size_t{5}, size_t{6}}) {
    auto got = next_frame(std::span(f).first(have));
    ASSERT_TRUE(got.ok()) << have;
    EXPECT_FALSE(got->has_value()) << "complete with only " << have << " bytes";
  }
  auto got = next_frame(f);
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->header.length, 7u);
  EXPECT_EQ(std::vector<uint8_t>((*got)->body.begin(), (*got)->body.end()),
            (std::vector<uint8_t>{0xa, 0xb, 0xc}));
  EXPECT_EQ((*got)->body.data(), f.data() + 4) << "a view into the stream, not a copy";
}

TEST(NextFrame, SplitsOnlyTheFirstOfSeveralFrames) {
  std::vector<uint8_t> stream;
  for (uint8_t i = 0; i < 5; ++i) {
    auto f = frame(1, 1 + (i % 2), static_cast<uint16_t>(4 + i), std::vector<uint8_t>(i, i));
    stream.insert(stream.end(), f.begin(), f.end());
  }
  std::span<const uint8_t> rest(stream);
  for (uint8_t i = 0; i < 5; ++i) {
    auto got = next_frame(rest);
    ASSERT_TRUE(got.ok() && got->has_value()) << int(i);
    EXPECT_EQ(std::vector<uint8_t>((*got)->body.begin(), (*got)->body.end()),
              std::vector<uint8_t>(i, i));
    EXPECT_EQ((*got)->header.type, i % 2 ? FrameType::Protobuf : FrameType::Netlink);
    rest = rest.subspan((*got)->header.length);
  }
  EXPECT_TRUE(rest.empty());
}

TEST(NextFrame, RejectsLengthBelowHeaderBeforeWaitingForBody) {
  auto got = next_frame(frame(1, 1, 2));
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().id, "fpm.frame.bad_length");
}

TEST(NextFrame, BadHeaderJudgedBeforeItsBodyArrives) {
  // The body never arrives: the header alone must be judged.
  auto bad_type = next_frame(frame(1, 7, 60000));
  ASSERT_FALSE(bad_type.ok());
  EXPECT_EQ(bad_type.error().id, "fpm.frame.bad_type");
  auto bad_version = next_frame(frame(9, 1, 60000));
  ASSERT_FALSE(bad_version.ok());
  EXPECT_EQ(bad_version.error().id, "fpm.frame.bad_version");
}

}  // namespace
}  // namespace fpm_sink
