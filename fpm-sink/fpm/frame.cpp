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

void FrameReader::feed(std::span<const uint8_t> bytes) {
  if (failed_ || bytes.empty()) return;
  // Drop what was already handed out before growing, so the buffer stays about one frame big
  // instead of the size of the whole session.
  if (pos_ == buf_.size()) {
    buf_.clear();
    pos_ = 0;
  } else if (pos_ >= kFpmMaxFrame) {
    buf_.erase(buf_.begin(), buf_.begin() + static_cast<ptrdiff_t>(pos_));
    pos_ = 0;
  }
  buf_.insert(buf_.end(), bytes.begin(), bytes.end());
}

std::optional<Result<Frame>> FrameReader::next() {
  if (failed_) return Result<Frame>(*failed_);
  const size_t avail = buf_.size() - pos_;
  if (avail < kFpmHeaderSize) return std::nullopt;

  auto header = parse_frame_header(
      std::span<const uint8_t, kFpmHeaderSize>(buf_.data() + pos_, kFpmHeaderSize));
  if (!header) {
    Error e = header.error();
    e.message += fmt::format(" at stream offset {}", consumed_);
    failed_ = e;
    return Result<Frame>(std::move(e));
  }
  if (avail < header->length) return std::nullopt;

  Frame f;
  f.header = *header;
  f.stream_offset = consumed_;
  const uint8_t* body = buf_.data() + pos_ + kFpmHeaderSize;
  f.body.assign(body, body + header->body_size());
  pos_ += header->length;
  consumed_ += header->length;
  return Result<Frame>(std::move(f));
}

}  // namespace fpm_sink
