#include "control/codec.hpp"

#include <google/protobuf/message_lite.h>

namespace fpm_sink::control {

std::array<uint8_t, kLengthSize> encode_length(uint32_t length) {
  return {static_cast<uint8_t>(length >> 24), static_cast<uint8_t>(length >> 16),
          static_cast<uint8_t>(length >> 8), static_cast<uint8_t>(length)};
}

uint32_t decode_length(std::span<const uint8_t, kLengthSize> b) {
  return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | uint32_t{b[3]};
}

Result<std::string> encode_message(const google::protobuf::MessageLite& msg, uint32_t max_size) {
  const size_t size = msg.ByteSizeLong();
  if (size > max_size) {
    return fpm_sink::Error{
        "control.encode.too_large",
        "message of " + std::to_string(size) + " bytes exceeds " + std::to_string(max_size)};
  }
  std::string out(kLengthSize + size, '\0');
  const auto len = encode_length(static_cast<uint32_t>(size));
  out.replace(0, kLengthSize, reinterpret_cast<const char*>(len.data()), kLengthSize);
  if (!msg.SerializeToArray(out.data() + kLengthSize, static_cast<int>(size))) {
    return fpm_sink::Error{"control.encode.failed", "protobuf serialization failed"};
  }
  return out;
}

}  // namespace fpm_sink::control
