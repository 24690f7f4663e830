// FPM framing: {u8 version = 1; u8 type; u16 length (network order, includes the header)}.
// The header is validated before a single byte of the body is trusted.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <vector>

#include "common/result.hpp"

namespace fpm_sink {

constexpr size_t kFpmHeaderSize = 4;
constexpr size_t kFpmMaxFrame = 65535;
constexpr uint8_t kFpmVersion = 1;

enum class FrameType : uint8_t { Netlink = 1, Protobuf = 2 };

struct FrameHeader {
  uint8_t version = kFpmVersion;
  FrameType type = FrameType::Netlink;
  uint16_t length = 0;  // whole frame, header included
  size_t body_size() const { return length - kFpmHeaderSize; }
};

// Errors: fpm.frame.bad_version, fpm.frame.bad_type, fpm.frame.bad_length.
// Any of them means the stream cannot be resynchronised: the session must close.
Result<FrameHeader> parse_frame_header(std::span<const uint8_t, kFpmHeaderSize> bytes);

// Writes a header for a body of body_size bytes; body_size must be <= kFpmMaxFrame - 4.
void put_frame_header(std::span<uint8_t, kFpmHeaderSize> out, FrameType type, size_t body_size);

struct Frame {
  FrameHeader header;
  std::vector<uint8_t> body;
  uint64_t stream_offset = 0;  // offset of the header in the session's byte stream
};

// Incremental splitter for a byte stream (tests, fuzzing, and any reader that
// does not read header and body separately). After an error it stays failed.
class FrameReader {
 public:
  void feed(std::span<const uint8_t> bytes);
  // Next complete frame, an error (sticky), or nullopt when more bytes are needed.
  std::optional<Result<Frame>> next();
  uint64_t consumed() const { return consumed_; }

 private:
  std::vector<uint8_t> buf_;
  size_t pos_ = 0;
  uint64_t consumed_ = 0;
  std::optional<Error> failed_;
};

}  // namespace fpm_sink
