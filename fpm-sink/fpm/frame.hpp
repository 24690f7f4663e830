// FPM framing: {u8 version = 1; u8 type; u16 length (network order, includes the header)}.
// The header is validated before a single byte of the body is trusted.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

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

// One complete frame at the start of a stream buffer, viewed in place.
struct FrameView {
  FrameHeader header;
  std::span<const uint8_t> body;
};

// Splits the next frame off `bytes` (what the stream holds from a frame
// boundary on) without copying: the frame, nullopt while its header or body
// is still incomplete, or the header's error, after which the stream cannot be
// resynchronised. The one splitter: app/ingest.cpp runs it on every read.
Result<std::optional<FrameView>> next_frame(std::span<const uint8_t> bytes);

}  // namespace fpm_sink
