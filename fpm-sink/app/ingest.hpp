// Everything a FPM session does with bytes, without the socket: split the
// stream into frames, decode each by type, apply the events to the Rib, count.
// The session reads straight into prepare() so complete frames are decoded in
// place; only a trailing partial frame is ever moved.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "app/log_limiter.hpp"
#include "common/result.hpp"
#include "fpm/decode.hpp"
#include "fpm/frame.hpp"
#include "rib/rib.hpp"

namespace fpm_sink {

// Totals over every session (the server owns one and shares it).
struct IngestStats {
  uint64_t frames = 0, bytes = 0;
  uint64_t netlink_frames = 0, protobuf_frames = 0;
  DecodeStats decode;
  uint64_t decode_errors = 0;      // DecodeErrors from the decoders
  uint64_t incomplete_frames = 0;  // netlink structure broke inside a frame
  uint64_t framing_errors = 0;     // bad FPM header: the session had to close
  uint64_t apply_errors = 0;       // events the Rib refused
  std::string last_error;
};

class Ingest {
 public:
  // At least one maximum-size frame always fits after prepare(); the rest lets
  // one read pick up many frames at high rates.
  static constexpr size_t kBufferSize = 512 * 1024;

  Ingest(Rib& rib, IngestStats& stats, LogLimiter& limiter);

  // Free space to read into (never smaller than kFpmMaxFrame bytes).
  std::span<uint8_t> prepare();
  // n bytes were written at prepare().data(): process every complete frame.
  // An error means the framing is lost (ids from parse_frame_header, the
  // message names the stream offset); the Ingest stays failed afterwards.
  Status commit(size_t n);
  // Convenience for tests and fuzzing: copies bytes in, any size.
  Status feed(std::span<const uint8_t> bytes);

  uint64_t stream_offset() const { return offset_; }  // start of the first unprocessed frame
  size_t buffered() const { return end_ - begin_; }   // bytes of a partial frame held

 private:
  Status process();
  void handle_frame(const FrameHeader& header, std::span<const uint8_t> body);
  void report_decode_error(const DecodeError& e);
  void apply_batch();
  void report_apply_error(const Error& e, uint64_t frame_offset);

  Rib& rib_;
  IngestStats& stats_;
  LogLimiter& limiter_;
  std::vector<uint8_t> buf_;
  size_t begin_ = 0, end_ = 0;
  uint64_t offset_ = 0;
  std::optional<Error> failed_;
  DecodedFrame decoded_;  // reused across frames
  // Events of the complete frames of one read, applied together; with the
  // stream offset of the frame each came from (for error reports).
  std::vector<FpmEvent> batch_;
  std::vector<uint64_t> batch_offsets_;
};

}  // namespace fpm_sink
