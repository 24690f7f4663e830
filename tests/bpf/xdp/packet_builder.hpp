// Builds test frames layer by layer: Ethernet, VLAN tags, IPv4 (options,
// fragments) or IPv6 (extension headers), UDP / TCP / ICMP and a payload.
// Lengths, next-protocol fields and checksums are computed at build() unless a
// test overrides them to make the packet wrong on purpose.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace fpm_test {

using Bytes = std::vector<uint8_t>;
using Mac = std::array<uint8_t, 6>;
using Ip4 = std::array<uint8_t, 4>;
using Ip6 = std::array<uint8_t, 16>;

Ip4 ip4(std::string_view text);  // aborts the test binary on a typo
Ip6 ip6(std::string_view text);

// One's-complement sum of the bytes folded to 16 bits, not inverted.
uint16_t ones_sum(const uint8_t* p, size_t len, uint32_t initial = 0);
// IPv4 header checksum computed from scratch over hdr (checksum field included as is).
uint16_t ipv4_header_checksum(const uint8_t* hdr, size_t len);

enum class L4 : uint8_t { None, Udp, Tcp, Icmp };

class PacketBuilder {
 public:
  PacketBuilder& eth(const Mac& dst, const Mac& src);
  PacketBuilder& ethertype(uint16_t type);  // forces the (innermost) ethertype, e.g. ARP
  PacketBuilder& vlan(uint16_t tpid, uint16_t vid);

  PacketBuilder& ipv4(const Ip4& src, const Ip4& dst);
  PacketBuilder& ipv6(const Ip6& src, const Ip6& dst);
  PacketBuilder& ttl(uint8_t ttl);                    // TTL or hop limit
  PacketBuilder& ipv4_options(const Bytes& options);  // padded to 4 bytes
  PacketBuilder& ipv4_fragment(uint16_t offset_units, bool more);
  PacketBuilder& ipv4_version_ihl(uint8_t version, uint8_t ihl);  // override
  PacketBuilder& ipv4_total_length(uint16_t len);                 // override
  PacketBuilder& ipv4_bad_checksum();
  PacketBuilder& ipv6_version(uint8_t version);
  PacketBuilder& ipv6_payload_length(uint16_t len);  // override
  // Extension headers in order; body excludes next-header/length bytes.
  PacketBuilder& ipv6_hop_by_hop();
  PacketBuilder& ipv6_routing();
  PacketBuilder& ipv6_fragment(uint16_t offset_units, bool more, uint32_t id);

  PacketBuilder& udp(uint16_t sport, uint16_t dport);
  PacketBuilder& tcp(uint16_t sport, uint16_t dport);
  PacketBuilder& icmp(uint8_t type, uint8_t code);  // ICMP or ICMPv6 by IP version
  PacketBuilder& raw_l4(uint8_t proto);             // no L4 header, protocol number only
  PacketBuilder& payload(size_t len, uint8_t seed = 0);
  // Bytes after the IP datagram (Ethernet padding or garbage), not counted in any length.
  PacketBuilder& trailer(size_t len);

  Bytes build() const;

 private:
  struct Ext {
    uint8_t type;
    Bytes body;
  };
  Mac dst_{}, src_{};
  std::optional<uint16_t> ethertype_;
  std::vector<std::pair<uint16_t, uint16_t>> vlans_;
  int ip_version_ = 0;
  Ip4 src4_{}, dst4_{};
  Ip6 src6_{}, dst6_{};
  uint8_t ttl_ = 64;
  Bytes options_;
  uint16_t frag_ = 0;  // IPv4 flags + offset, host order
  std::optional<uint8_t> version_override_, ihl_override_;
  std::optional<uint16_t> length_override_;
  bool bad_csum_ = false;
  std::vector<Ext> exts_;
  L4 l4_ = L4::None;
  uint8_t raw_proto_ = 59;  // IPv6 "no next header"; IPv4 tests set it
  uint16_t sport_ = 0, dport_ = 0;
  uint8_t icmp_type_ = 0, icmp_code_ = 0;
  Bytes payload_;
  size_t trailer_ = 0;
};

}  // namespace fpm_test
