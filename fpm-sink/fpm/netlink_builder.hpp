// Netlink encoder: FpmEvents -> netlink messages shaped the way zebra's dplane_fpm_nl
// (rt_netlink.c) builds them, appended into caller-owned buffers and wrapped in FPM frames.
//
// Users: unit tests and the fuzz seed generator (no hex blobs), the ingest benchmark
// (millions of routes: no per-message heap allocation), and offload replies to zebra.
//
// Wire shape produced (matches FRR 8.4):
//  - RTM_NEWROUTE: NLM_F_REQUEST|NLM_F_CREATE, plus NLM_F_REPLACE when RouteAdd::replace
//    (zebra sets it for every IPv4 add and for IPv6 with v6 replace semantics);
//    rtm_table = table if < 256 else RT_TABLE_UNSPEC + RTA_TABLE; RTA_DST always;
//    RTA_PRIORITY always; RTA_NH_ID when nhg_id != 0; one next hop of weight 1 as
//    RTA_GATEWAY (or RTA_VIA for an IPv6 gateway on an IPv4 route) + RTA_OIF with
//    RTNH_F_ONLINK in rtm_flags; otherwise RTA_MULTIPATH with rtnh_hops = weight - 1.
//  - RTM_DELROUTE: rtm_type RTN_UNSPEC, RTA_DST, RTA_PRIORITY, RTA_TABLE; no next hops.
//  - RTM_NEWNEXTHOP: NHA_ID first; a group as NHA_GROUP (nh_family AF_UNSPEC) with
//    weight - 1 per entry; a single next hop as NHA_GATEWAY / NHA_OIF / NHA_BLACKHOLE
//    with nh_family of the next hop and RTNH_F_ONLINK in nh_flags.
//  - RTM_DELNEXTHOP: nh_family AF_UNSPEC, NHA_ID only.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "common/events.hpp"
#include "common/ip.hpp"
#include "common/main_table.hpp"
#include "common/result.hpp"
#include "fpm/frame.hpp"

struct nlmsghdr;

namespace fpm_sink {

// Knobs for the high-level encoders. Defaults give zebra's encoding.
struct EncodeOptions {
  uint32_t seq = 0;
  uint16_t extra_nlmsg_flags = 0;  // OR-ed into the flags zebra would use
  uint32_t extra_rtm_flags = 0;    // e.g. RTM_F_OFFLOAD on a reply
  bool always_table_attr = false;  // emit RTA_TABLE even for tables < 256
};

// Appends one netlink message to `out`. Errors (nothing is appended):
// fpm.nl.encode.bad_weight (weight outside 1..256), fpm.nl.encode.gateway_family
// (next-hop object whose gateway family differs from its own), fpm.nl.encode.too_big.
[[nodiscard]] Status append_route_add(std::vector<uint8_t>& out, const RouteAdd& r,
                                      const EncodeOptions& opt = {});
[[nodiscard]] Status append_route_del(std::vector<uint8_t>& out, const RouteDel& r,
                                      const EncodeOptions& opt = {});
[[nodiscard]] Status append_nexthop_add(std::vector<uint8_t>& out, const NexthopAdd& n,
                                        const EncodeOptions& opt = {});
[[nodiscard]] Status append_nexthop_del(std::vector<uint8_t>& out, const NexthopDel& n,
                                        const EncodeOptions& opt = {});
[[nodiscard]] Status append_event(std::vector<uint8_t>& out, const FpmEvent& e,
                                  const EncodeOptions& opt = {});

// What zebra matches an offload reply on: the route as it sent it.
struct OffloadReply {
  uint32_t table = kMainTable;
  Prefix prefix;
  uint8_t protocol = 0;
  uint32_t metric = 0;
  RouteType type = RouteType::Unicast;
  uint32_t rtm_flags = 0;  // RTM_F_OFFLOAD, RTM_F_OFFLOAD_FAILED, RTM_F_TRAP
};

// The reply FRR >= 8.5 reads: RTM_NEWROUTE with NLM_F_REQUEST only, same family / prefix /
// rtm_protocol / table / metric as zebra sent, no next hops (zebra then leaves its
// next hops' FIB flags alone), the given rtm_flags.
[[nodiscard]] Status append_route_offload_reply(std::vector<uint8_t>& out,
                                                const OffloadReply& reply);

// FPM framing around messages appended in between:
//   size_t f = begin_frame(buf); append_...(buf, ...); auto st = end_frame(buf, f);
[[nodiscard]] size_t begin_frame(std::vector<uint8_t>& out);
// fpm.frame.too_big if the body exceeds 65531 bytes (the frame is left unfinished).
[[nodiscard]] Status end_frame(std::vector<uint8_t>& out, size_t frame_offset,
                               FrameType type = FrameType::Netlink);

// One netlink frame (header included) holding all `events` in order.
[[nodiscard]] Result<std::vector<uint8_t>> encode_frame(std::span<const FpmEvent> events,
                                                        const EncodeOptions& opt = {});

// Packs events into as few frames as possible (each <= max_frame bytes), appended to a
// caller-owned stream buffer: what a zebra batch looks like on the socket.
class FrameStreamWriter {
 public:
  explicit FrameStreamWriter(std::vector<uint8_t>& out, size_t max_frame = kFpmMaxFrame);
  [[nodiscard]] Status add(const FpmEvent& e, const EncodeOptions& opt = {});
  void flush();  // closes the open frame, if any
  size_t frames() const { return frames_; }

 private:
  std::vector<uint8_t>& out_;
  std::vector<uint8_t> msg_;  // reused scratch for one message
  size_t max_frame_;
  size_t open_ = SIZE_MAX;  // offset of the open frame's header
  size_t frames_ = 0;
};

// Low-level writer for one netlink message, built with libmnl in an aligned scratch area
// and copied out by append_to(). Everything the high-level encoders do goes through it,
// and tests use it directly to craft malformed input (wrong attribute sizes, unknown
// attributes, lying nlmsg_len, truncation). The capacity is the largest message an FPM
// frame can carry; writes past it set a sticky overflow that append_to() reports.
class NlMessageWriter {
 public:
  static constexpr size_t kCapacity = (kFpmMaxFrame - kFpmHeaderSize) & ~size_t{3};

  // nlmsghdr + the family header (struct rtmsg / nhmsg / ndmsg bytes, zero padded to 4).
  NlMessageWriter(uint16_t type, uint16_t flags, std::span<const uint8_t> family_header,
                  uint32_t seq = 0);
  template <typename T>
  static NlMessageWriter with(uint16_t type, uint16_t flags, const T& family_header,
                              uint32_t seq = 0) {
    return NlMessageWriter(
        type, flags,
        std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(&family_header), sizeof(T)), seq);
  }
  NlMessageWriter(const NlMessageWriter&) = delete;
  NlMessageWriter& operator=(const NlMessageWriter&) = delete;
  NlMessageWriter(NlMessageWriter&&) = default;

  void put(uint16_t type, std::span<const uint8_t> payload);
  void put_u8(uint16_t type, uint8_t v);
  void put_u16(uint16_t type, uint16_t v);
  void put_u32(uint16_t type, uint32_t v);
  void put_flag(uint16_t type) { put(type, {}); }
  void put_addr(uint16_t type, const IpAddr& a) { put(type, a.span()); }
  // struct rtvia {u16 family; u8 addr[]} as RTA_VIA carries it.
  void put_via(const IpAddr& a);

  // Nested attribute; pass the token back to nest_end().
  [[nodiscard]] size_t nest_start(uint16_t type);
  void nest_end(size_t token);
  // One struct rtnexthop inside RTA_MULTIPATH; attributes put before rtnh_end() nest in it.
  [[nodiscard]] size_t rtnh_start(uint8_t flags, uint8_t hops, int32_t ifindex);
  void rtnh_end(size_t token);

  // Crafting helpers. put_raw appends bytes as-is (nlmsg_len grows by exactly their size, so
  // an odd size leaves nlmsg_len unaligned: use it last). set_nlmsg_len lies about the
  // length without changing what append_to() copies: call it last.
  void put_raw(std::span<const uint8_t> bytes);
  void set_nlmsg_len(uint32_t len);

  uint32_t nlmsg_len() const;
  bool overflow() const { return overflow_; }
  // The bytes written so far (nlmsg_len before any set_nlmsg_len override).
  std::span<const uint8_t> bytes() const { return {buf_.data(), used_}; }
  [[nodiscard]] Status append_to(std::vector<uint8_t>& out) const;

 private:
  nlmsghdr* nlh();
  const nlmsghdr* nlh() const;
  bool room(size_t n);
  void sync();  // used_ = nlmsg_len after an mnl call

  alignas(8) std::array<uint8_t, kCapacity> buf_;  // not zeroed: libmnl zeroes what it writes
  size_t used_ = 0;
  bool overflow_ = false;
};

}  // namespace fpm_sink
