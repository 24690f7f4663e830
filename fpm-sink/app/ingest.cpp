#include "app/ingest.hpp"

#include <spdlog/spdlog.h>
#include <cerrno>

#include <algorithm>
#include <cstring>

#include "fpm/legacy/protobuf_decoder.hpp"

namespace fpm_sink {

Ingest::Ingest(Rib& rib, IngestStats& stats, LogLimiter& limiter)
    : rib_(rib), stats_(stats), limiter_(limiter), buf_(kBufferSize) {}

std::span<uint8_t> Ingest::prepare() {
  if (begin_ == end_) begin_ = end_ = 0;
  if (buf_.size() - end_ < kFpmMaxFrame) {
    // Only a partial frame (< 64 KiB) is left before begin_ moves to 0.
    std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  return {buf_.data() + end_, buf_.size() - end_};
}

Status Ingest::commit(size_t n) {
  if (failed_) return *failed_;
  end_ += std::min(n, buf_.size() - end_);
  stats_.bytes += n;
  return process();
}

Status Ingest::feed(std::span<const uint8_t> bytes) {
  do {
    auto space = prepare();
    const size_t n = std::min(space.size(), bytes.size());
    std::memcpy(space.data(), bytes.data(), n);
    if (auto st = commit(n); !st) return st;
    bytes = bytes.subspan(n);
  } while (!bytes.empty());
  return ok_status();
}

Status Ingest::process() {
  for (;;) {
    auto frame = next_frame({buf_.data() + begin_, end_ - begin_});
    if (!frame) {
      ++stats_.framing_errors;
      Error e = frame.error();
      e.message += " at stream offset " + std::to_string(offset_);
      stats_.last_error = e.to_string();
      failed_ = e;
      apply_batch();  // the frames before the bad header are good
      return e;
    }
    if (!*frame) break;  // the rest of a frame is still to come
    const FrameView& f = **frame;
    handle_frame(f.header, f.body);
    begin_ += f.header.length;
    offset_ += f.header.length;
  }
  apply_batch();
  return ok_status();
}

void Ingest::handle_frame(const FrameHeader& header, std::span<const uint8_t> body) {
  ++stats_.frames;
  if (header.type == FrameType::Netlink) {
    ++stats_.netlink_frames;
    // The hot path: decode into the same DecodedFrame every time so its vectors
    // keep their capacity instead of allocating per frame.
    decode_netlink(body, stats_.decode, decoded_);
  } else {
    ++stats_.protobuf_frames;
    decoded_ = decode_protobuf(body, stats_.decode);
  }
  for (const auto& e : decoded_.errors) report_decode_error(e);
  if (!decoded_.complete) ++stats_.incomplete_frames;
  for (auto& e : decoded_.events) {
    batch_.push_back(std::move(e));
    batch_offsets_.push_back(offset_);
  }
}

void Ingest::apply_batch() {
  // zebra sends one route per frame: batching the frames of one read is what
  // lets Rib::apply_batch overlap the cache misses of consecutive routes.
  rib_.apply_batch(batch_,
                   [this](size_t i, const Error& e) { report_apply_error(e, batch_offsets_[i]); });
  batch_.clear();
  batch_offsets_.clear();
}

void Ingest::report_decode_error(const DecodeError& e) {
  ++stats_.decode_errors;
  stats_.last_error = e.id + ": " + e.reason;
  if (!limiter_.allow()) return;
  if (auto dropped = limiter_.take_suppressed()) {
    spdlog::warn("fpm.log.suppressed lines={}", dropped);
  }
  spdlog::warn("{} reason=\"{}\" frame_offset={} body_offset={}", e.id, e.reason, offset_,
               e.offset);
}

void Ingest::report_apply_error(const Error& e, uint64_t frame_offset) {
  ++stats_.apply_errors;
  stats_.last_error = e.to_string();
  // zebra deleting what it never sent us is routine after a reconnect; anything
  // else the Rib refuses is worth seeing, within the rate limit.
  const bool routine = e.err == ENOENT;
  if (routine) {
    spdlog::debug("{} {} frame_offset={}", e.id, e.message, frame_offset);
  } else if (limiter_.allow()) {
    spdlog::warn("{} {} frame_offset={}", e.id, e.message, frame_offset);
  }
}

}  // namespace fpm_sink
