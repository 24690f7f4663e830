// Control-socket framing: u32 big-endian length, then one serialized message.
// Shared by the server and the client so both agree on limits.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "common/result.hpp"

namespace google::protobuf {
class MessageLite;
}

namespace fpm_sink::control {

constexpr size_t kLengthSize = 4;
// Requests are tiny; anything bigger is a confused or hostile peer.
constexpr uint32_t kMaxRequestSize = 64 * 1024;
// A full Internet table in both families is ~1M routes, ~100 bytes each.
constexpr uint32_t kMaxResponseSize = 1024u * 1024u * 1024u;

std::array<uint8_t, kLengthSize> encode_length(uint32_t length);
uint32_t decode_length(std::span<const uint8_t, kLengthSize> bytes);

// Length prefix + payload in one buffer, ready for a single write.
// Error control.encode.too_large if the message exceeds max_size.
Result<std::string> encode_message(const google::protobuf::MessageLite& msg, uint32_t max_size);

}  // namespace fpm_sink::control
