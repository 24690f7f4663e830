#include "packet_builder.hpp"

#include <arpa/inet.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace fpm_test {
namespace {

constexpr uint8_t kProtoTcp = 6, kProtoUdp = 17, kProtoIcmp = 1, kProtoIcmp6 = 58;

void put16(Bytes& b, size_t off, uint16_t v) {
  b[off] = static_cast<uint8_t>(v >> 8);
  b[off + 1] = static_cast<uint8_t>(v);
}

void append16(Bytes& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v >> 8));
  b.push_back(static_cast<uint8_t>(v));
}

void append32(Bytes& b, uint32_t v) {
  append16(b, static_cast<uint16_t>(v >> 16));
  append16(b, static_cast<uint16_t>(v));
}

template <size_t N>
void append(Bytes& b, const std::array<uint8_t, N>& a) {
  b.insert(b.end(), a.begin(), a.end());
}

}  // namespace

Ip4 ip4(std::string_view text) {
  Ip4 a{};
  if (inet_pton(AF_INET, std::string(text).c_str(), a.data()) != 1) {
    std::fprintf(stderr, "bad IPv4 literal %.*s\n", int(text.size()), text.data());
    std::abort();
  }
  return a;
}

Ip6 ip6(std::string_view text) {
  Ip6 a{};
  if (inet_pton(AF_INET6, std::string(text).c_str(), a.data()) != 1) {
    std::fprintf(stderr, "bad IPv6 literal %.*s\n", int(text.size()), text.data());
    std::abort();
  }
  return a;
}

uint16_t ones_sum(const uint8_t* p, size_t len, uint32_t sum) {
  for (size_t i = 0; i + 1 < len; i += 2) sum += uint32_t(p[i]) << 8 | p[i + 1];
  if (len & 1) sum += uint32_t(p[len - 1]) << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(sum);
}

uint16_t ipv4_header_checksum(const uint8_t* hdr, size_t len) {
  Bytes copy(hdr, hdr + len);
  copy[10] = copy[11] = 0;
  return static_cast<uint16_t>(~ones_sum(copy.data(), copy.size()));
}

PacketBuilder& PacketBuilder::eth(const Mac& dst, const Mac& src) {
  dst_ = dst;
  src_ = src;
  return *this;
}

PacketBuilder& PacketBuilder::ethertype(uint16_t type) {
  ethertype_ = type;
  return *this;
}

PacketBuilder& PacketBuilder::vlan(uint16_t tpid, uint16_t vid) {
  vlans_.emplace_back(tpid, vid);
  return *this;
}

PacketBuilder& PacketBuilder::ipv4(const Ip4& src, const Ip4& dst) {
  ip_version_ = 4;
  src4_ = src;
  dst4_ = dst;
  return *this;
}

PacketBuilder& PacketBuilder::ipv6(const Ip6& src, const Ip6& dst) {
  ip_version_ = 6;
  src6_ = src;
  dst6_ = dst;
  return *this;
}

PacketBuilder& PacketBuilder::ttl(uint8_t ttl) {
  ttl_ = ttl;
  return *this;
}

PacketBuilder& PacketBuilder::ipv4_options(const Bytes& options) {
  options_ = options;
  while (options_.size() % 4) options_.push_back(0);  // EOL padding
  return *this;
}

PacketBuilder& PacketBuilder::ipv4_fragment(uint16_t offset_units, bool more) {
  frag_ = static_cast<uint16_t>((offset_units & 0x1fff) | (more ? 0x2000 : 0));
  return *this;
}

PacketBuilder& PacketBuilder::ipv4_version_ihl(uint8_t version, uint8_t ihl) {
  version_override_ = version;
  ihl_override_ = ihl;
  return *this;
}

PacketBuilder& PacketBuilder::ipv4_total_length(uint16_t len) {
  length_override_ = len;
  return *this;
}

PacketBuilder& PacketBuilder::ipv4_bad_checksum() {
  bad_csum_ = true;
  return *this;
}

PacketBuilder& PacketBuilder::ipv6_version(uint8_t version) {
  version_override_ = version;
  return *this;
}

PacketBuilder& PacketBuilder::ipv6_payload_length(uint16_t len) {
  length_override_ = len;
  return *this;
}

PacketBuilder& PacketBuilder::ipv6_hop_by_hop() {
  exts_.push_back({0, {1, 4, 0, 0, 0, 0}});  // PadN filling the 8 bytes
  return *this;
}

PacketBuilder& PacketBuilder::ipv6_routing() {
  exts_.push_back({43, {0, 0, 0, 0, 0, 0}});  // type 0, segments left 0
  return *this;
}

PacketBuilder& PacketBuilder::ipv6_fragment(uint16_t offset_units, bool more, uint32_t id) {
  uint16_t off = static_cast<uint16_t>(offset_units << 3 | (more ? 1 : 0));
  exts_.push_back(
      {44,
       {static_cast<uint8_t>(off >> 8), static_cast<uint8_t>(off), static_cast<uint8_t>(id >> 24),
        static_cast<uint8_t>(id >> 16), static_cast<uint8_t>(id >> 8), static_cast<uint8_t>(id)}});
  return *this;
}

PacketBuilder& PacketBuilder::udp(uint16_t sport, uint16_t dport) {
  l4_ = L4::Udp;
  sport_ = sport;
  dport_ = dport;
  return *this;
}

PacketBuilder& PacketBuilder::tcp(uint16_t sport, uint16_t dport) {
  l4_ = L4::Tcp;
  sport_ = sport;
  dport_ = dport;
  return *this;
}

PacketBuilder& PacketBuilder::icmp(uint8_t type, uint8_t code) {
  l4_ = L4::Icmp;
  icmp_type_ = type;
  icmp_code_ = code;
  return *this;
}

PacketBuilder& PacketBuilder::raw_l4(uint8_t proto) {
  l4_ = L4::None;
  raw_proto_ = proto;
  return *this;
}

PacketBuilder& PacketBuilder::payload(size_t len, uint8_t seed) {
  payload_.resize(len);
  for (size_t i = 0; i < len; i++) payload_[i] = static_cast<uint8_t>(seed + i * 7);
  return *this;
}

PacketBuilder& PacketBuilder::trailer(size_t len) {
  trailer_ = len;
  return *this;
}

Bytes PacketBuilder::build() const {
  // L4 segment (checksum needs the pseudo header, filled in below).
  Bytes l4;
  uint8_t proto = raw_proto_;
  size_t csum_off = 0;
  bool pseudo = true;
  switch (l4_) {
    case L4::Udp:
      proto = kProtoUdp;
      append16(l4, sport_);
      append16(l4, dport_);
      append16(l4, static_cast<uint16_t>(8 + payload_.size()));
      append16(l4, 0);
      csum_off = 6;
      break;
    case L4::Tcp:
      proto = kProtoTcp;
      append16(l4, sport_);
      append16(l4, dport_);
      append32(l4, 1000);           // seq
      append32(l4, 0);              // ack
      append16(l4, 0x5000 | 0x02);  // data offset 5, SYN
      append16(l4, 65535);          // window
      append16(l4, 0);              // checksum
      append16(l4, 0);              // urgent
      csum_off = 16;
      break;
    case L4::Icmp:
      proto = ip_version_ == 6 ? kProtoIcmp6 : kProtoIcmp;
      pseudo = ip_version_ == 6;
      l4.push_back(icmp_type_);
      l4.push_back(icmp_code_);
      append16(l4, 0);
      append32(l4, 0x12340001);  // id, sequence
      csum_off = 2;
      break;
    case L4::None:
      break;
  }
  l4.insert(l4.end(), payload_.begin(), payload_.end());
  if (l4_ != L4::None) {
    uint32_t sum = 0;
    if (pseudo) {
      Bytes ph;
      if (ip_version_ == 4) {
        append(ph, src4_);
        append(ph, dst4_);
        append16(ph, proto);
        append16(ph, static_cast<uint16_t>(l4.size()));
      } else {
        append(ph, src6_);
        append(ph, dst6_);
        append32(ph, static_cast<uint32_t>(l4.size()));
        append32(ph, proto);
      }
      sum = ones_sum(ph.data(), ph.size());
    }
    uint16_t c = static_cast<uint16_t>(~ones_sum(l4.data(), l4.size(), sum));
    if (l4_ == L4::Udp && c == 0) c = 0xffff;
    put16(l4, csum_off, c);
  }

  Bytes l3;
  uint16_t l3_type = 0;
  if (ip_version_ == 4) {
    l3_type = 0x0800;
    uint8_t ihl = static_cast<uint8_t>(5 + options_.size() / 4);
    uint8_t version = version_override_.value_or(4);
    l3.push_back(static_cast<uint8_t>(version << 4 | (ihl_override_.value_or(ihl) & 0xf)));
    l3.push_back(0);  // tos
    append16(l3,
             length_override_.value_or(static_cast<uint16_t>(20 + options_.size() + l4.size())));
    append16(l3, 0x1c46);  // id
    append16(l3, frag_);
    l3.push_back(ttl_);
    l3.push_back(proto);
    append16(l3, 0);
    append(l3, src4_);
    append(l3, dst4_);
    l3.insert(l3.end(), options_.begin(), options_.end());
    uint16_t c = ipv4_header_checksum(l3.data(), l3.size());
    if (bad_csum_) c = static_cast<uint16_t>(c ^ 0x5a5a);
    put16(l3, 10, c);
  } else if (ip_version_ == 6) {
    l3_type = 0x86dd;
    Bytes ext;
    for (size_t i = 0; i < exts_.size(); i++) {
      ext.push_back(i + 1 < exts_.size() ? exts_[i + 1].type : proto);
      ext.push_back(static_cast<uint8_t>((exts_[i].body.size() + 2) / 8 - 1));
      ext.insert(ext.end(), exts_[i].body.begin(), exts_[i].body.end());
    }
    uint8_t first = exts_.empty() ? proto : exts_.front().type;
    append32(l3, uint32_t(version_override_.value_or(6)) << 28);  // tc 0, flow label 0
    append16(l3, length_override_.value_or(static_cast<uint16_t>(ext.size() + l4.size())));
    l3.push_back(first);
    l3.push_back(ttl_);
    append(l3, src6_);
    append(l3, dst6_);
    l3.insert(l3.end(), ext.begin(), ext.end());
  }

  Bytes out;
  append(out, dst_);
  append(out, src_);
  uint16_t inner = ethertype_.value_or(l3_type);
  for (const auto& [tpid, vid] : vlans_) {
    append16(out, tpid);
    append16(out, vid);
  }
  append16(out, inner);
  out.insert(out.end(), l3.begin(), l3.end());
  out.insert(out.end(), l4.begin(), l4.end());
  out.insert(out.end(), trailer_, 0xee);
  return out;
}

}  // namespace fpm_test
