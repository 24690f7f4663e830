#include "common/ip.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace fpm_sink {

IpAddr IpAddr::v4(uint32_t host_order) {
  IpAddr a;
  a.family = Family::V4;
  uint32_t n = htonl(host_order);
  std::memcpy(a.bytes.data(), &n, 4);
  return a;
}

IpAddr IpAddr::v6(const std::array<uint8_t, 16>& network_order) {
  IpAddr a;
  a.family = Family::V6;
  a.bytes = network_order;
  return a;
}

std::optional<IpAddr> IpAddr::from_bytes(Family f, std::span<const uint8_t> network_order) {
  if (network_order.size() != address_bytes(f)) return std::nullopt;
  IpAddr a;
  a.family = f;
  std::memcpy(a.bytes.data(), network_order.data(), network_order.size());
  return a;
}

std::optional<IpAddr> IpAddr::parse(std::string_view text) {
  std::string s(text);
  IpAddr a;
  if (inet_pton(AF_INET, s.c_str(), a.bytes.data()) == 1) {
    a.family = Family::V4;
    return a;
  }
  if (inet_pton(AF_INET6, s.c_str(), a.bytes.data()) == 1) {
    a.family = Family::V6;
    return a;
  }
  return std::nullopt;
}

uint32_t IpAddr::v4_host_order() const {
  uint32_t n;
  std::memcpy(&n, bytes.data(), 4);
  return ntohl(n);
}

std::string IpAddr::to_string() const {
  char buf[INET6_ADDRSTRLEN];
  int af = family == Family::V4 ? AF_INET : AF_INET6;
  if (!inet_ntop(af, bytes.data(), buf, sizeof buf)) return "?";
  return buf;
}

std::optional<Prefix> Prefix::make(const IpAddr& addr, unsigned len) {
  if (len > max_prefix_len(addr.family)) return std::nullopt;
  Prefix p;
  p.addr = addr;
  p.len = static_cast<uint8_t>(len);
  const size_t width = address_bytes(addr.family);
  for (size_t i = 0; i < 16; ++i) {
    const unsigned first_bit = static_cast<unsigned>(i) * 8;
    if (i >= width || first_bit >= len) {
      p.addr.bytes[i] = 0;
    } else if (first_bit + 8 > len) {
      const unsigned keep = len - first_bit;  // 0..7 leading bits kept
      p.addr.bytes[i] &= static_cast<uint8_t>(0xff00u >> keep);
    }
  }
  return p;
}

std::optional<Prefix> Prefix::parse(std::string_view text) {
  const auto slash = text.find('/');
  auto addr = IpAddr::parse(text.substr(0, slash));
  if (!addr) return std::nullopt;
  unsigned len = max_prefix_len(addr->family);
  if (slash != std::string_view::npos) {
    const auto digits = text.substr(slash + 1);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), len);
    if (ec != std::errc{} || end != digits.data() + digits.size() || digits.empty())
      return std::nullopt;
  }
  return make(*addr, len);
}

bool Prefix::contains(const IpAddr& a) const {
  if (a.family != addr.family) return false;
  auto masked = make(a, len);
  return masked && masked->addr == addr;
}

std::string Prefix::to_string() const {
  return addr.to_string() + "/" + std::to_string(len);
}

size_t PrefixHash::operator()(const Prefix& p) const noexcept {
  // FNV-1a over the significant bytes, length and family: cheap and good enough
  // for the RIB's hash tables (prefixes are already well spread).
  uint64_t h = 1469598103934665603ull;
  auto mix = [&h](uint8_t b) {
    h ^= b;
    h *= 1099511628211ull;
  };
  const size_t width = address_bytes(p.addr.family);
  for (size_t i = 0; i < width; ++i) mix(p.addr.bytes[i]);
  mix(p.len);
  mix(static_cast<uint8_t>(p.addr.family));
  return static_cast<size_t>(h ^ (h >> 29));
}

}  // namespace fpm_sink
