#include "fpm/frame.hpp"

#include <fmt/format.h>

#include <cassert>
#include <cstring>

namespace fpm_sink {

Result<FrameHeader> parse_frame_header(std::span<const uint8_t, kFpmHeaderSize> bytes) {
  FrameHeader h;
  h.version = bytes[0];
  if (h.version != kFpmVersion) {
    return Error{"fpm.frame.bad_version",
                 fmt::format("FPM header version {} (expected {})", h.version, kFpmVersion)};
  }
  const uint8_t type = bytes[1];
  if (type != static_cast<uint8_t>(FrameType::Netlink) &&
      type != static_cast<uint8_t>(FrameType::Protobuf)) {
    return Error{"fpm.frame.bad_type",
                 fmt::format("FPM header type {} (expected 1 netlink or 2 protobuf)", type)};
  }
  h.type = static_cast<FrameType>(type);
  h.length = static_cast<uint16_t>((bytes[2] << 8) | bytes[3]);
  // A u16 cannot exceed kFpmMaxFrame; only a length shorter than the header itself lies.
  if (h.length < kFpmHeaderSize) {
    return Error{"fpm.frame.bad_length",
                 fmt::format("FPM header length {} is shorter than the {}-byte header", h.length,
                             kFpmHeaderSize)};
  }
  return h;
}

void put_frame_header(std::span<uint8_t, kFpmHeaderSize> out, FrameType type, size_t body_size) {
  assert(body_size <= kFpmMaxFrame - kFpmHeaderSize);
  const size_t len = body_size + kFpmHeaderSize;
  out[0] = kFpmVersion;
  out[1] = static_cast<uint8_t>(type);
  out[2] = static_cast<uint8_t>(len >> 8);
  out[3] = static_cast<uint8_t>(len & 0xff);
}

Result<std::optional<FrameView>> next_frame(std::span<const uint8_t> bytes) {
  if (bytes.size() < kFpmHeaderSize) return std::optional<FrameView>();
  // The header is judged before its body arrives: a bad one must not make the
  // session wait for up to 64 KiB that will never make sense.
  auto header = parse_frame_header(bytes.first<kFpmHeaderSize>());
  if (!header) return header.error();
  if (bytes.size() < header->length) return std::optional<FrameView>();
  return std::optional<FrameView>(
      FrameView{*header, bytes.subspan(kFpmHeaderSize, header->body_size())});
}

}  // namespace fpm_sink
