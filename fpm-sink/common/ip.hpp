// Addresses and prefixes as the rest of fpm-sink sees them: family + bytes in
// network order, prefixes always canonical (host bits zero).
#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace fpm_sink {

enum class Family : uint8_t { V4 = 4, V6 = 6 };

constexpr unsigned max_prefix_len(Family f) { return f == Family::V4 ? 32 : 128; }
constexpr size_t address_bytes(Family f) { return f == Family::V4 ? 4 : 16; }

struct IpAddr {
  Family family = Family::V4;
  std::array<uint8_t, 16> bytes{};  // network order; IPv4 uses bytes[0..3], the rest stay zero

  static IpAddr v4(uint32_t host_order);
  static IpAddr v6(const std::array<uint8_t, 16>& network_order);
  // Copies 4 or 16 bytes in network order; nullopt for any other size.
  static std::optional<IpAddr> from_bytes(Family f, std::span<const uint8_t> network_order);
  static std::optional<IpAddr> parse(std::string_view text);

  uint32_t v4_host_order() const;
  std::span<const uint8_t> span() const { return {bytes.data(), address_bytes(family)}; }
  std::string to_string() const;

  auto operator<=>(const IpAddr&) const = default;
};

struct Prefix {
  IpAddr addr;  // host bits are zero
  uint8_t len = 0;

  // Builds a canonical prefix (host bits cleared); nullopt if len exceeds the family's width.
  static std::optional<Prefix> make(const IpAddr& addr, unsigned len);
  // "10.0.0.0/8", "2001:db8::/32"; a bare address means a host prefix.
  static std::optional<Prefix> parse(std::string_view text);

  Family family() const { return addr.family; }
  bool contains(const IpAddr& a) const;
  std::string to_string() const;

  auto operator<=>(const Prefix&) const = default;
};

struct PrefixHash {
  size_t operator()(const Prefix& p) const noexcept;
};

}  // namespace fpm_sink

template <>
struct std::hash<fpm_sink::Prefix> : fpm_sink::PrefixHash {};
