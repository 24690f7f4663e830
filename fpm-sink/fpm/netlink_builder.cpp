#include "fpm/netlink_builder.hpp"

#include <libmnl/libmnl.h>
#include <linux/nexthop.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <fmt/format.h>

#include <cassert>

namespace fpm_sink {

namespace {

uint8_t af_of(Family f) {
  return f == Family::V4 ? AF_INET : AF_INET6;
}

uint8_t rtn_of(RouteType t) {
  switch (t) {
    case RouteType::Unicast:
      return RTN_UNICAST;
    case RouteType::Blackhole:
      return RTN_BLACKHOLE;
    case RouteType::Unreachable:
      return RTN_UNREACHABLE;
    case RouteType::Prohibit:
      return RTN_PROHIBIT;
    case RouteType::Local:
      return RTN_LOCAL;
    case RouteType::Other:
      return RTN_UNSPEC;
  }
  return RTN_UNSPEC;
}

Status bad_weight(unsigned w) {
  return Error{"fpm.nl.encode.bad_weight", fmt::format("weight {} outside 1..256", w)};
}

rtmsg make_rtmsg(Family f, uint8_t dst_len, uint32_t table, uint8_t protocol, uint8_t type) {
  rtmsg r{};
  r.rtm_family = af_of(f);
  r.rtm_dst_len = dst_len;
  r.rtm_table = table < 256 ? static_cast<uint8_t>(table) : uint8_t{RT_TABLE_UNSPEC};
  r.rtm_protocol = protocol;
  r.rtm_scope = RT_SCOPE_UNIVERSE;
  r.rtm_type = type;
  return r;
}

// The attributes every route message starts with, in zebra's order.
void put_route_key(NlMessageWriter& w, const Prefix& p, uint32_t metric, uint32_t table,
                   bool always_table) {
  w.put_addr(RTA_DST, p.addr);
  w.put_u32(RTA_PRIORITY, metric);
  if (table >= 256 || always_table) w.put_u32(RTA_TABLE, table);
}

// Gateway of one next hop of a route: RTA_GATEWAY in the route's family, RTA_VIA otherwise.
void put_route_gateway(NlMessageWriter& w, Family route_family, const IpAddr& gw) {
  if (gw.family == route_family) {
    w.put_addr(RTA_GATEWAY, gw);
  } else {
    w.put_via(gw);
  }
}

}  // namespace

// ---------------------------------------------------------------- NlMessageWriter

NlMessageWriter::NlMessageWriter(uint16_t type, uint16_t flags,
                                 std::span<const uint8_t> family_header, uint32_t seq) {
  nlmsghdr* h = mnl_nlmsg_put_header(buf_.data());
  h->nlmsg_type = type;
  h->nlmsg_flags = flags;
  h->nlmsg_seq = seq;
  if (!family_header.empty()) {
    if (!room(MNL_ALIGN(family_header.size()))) return;
    void* fixed = mnl_nlmsg_put_extra_header(h, family_header.size());
    std::memcpy(fixed, family_header.data(), family_header.size());
  }
  sync();
}

nlmsghdr* NlMessageWriter::nlh() {
  return reinterpret_cast<nlmsghdr*>(buf_.data());
}
const nlmsghdr* NlMessageWriter::nlh() const {
  return reinterpret_cast<const nlmsghdr*>(buf_.data());
}
uint32_t NlMessageWriter::nlmsg_len() const {
  return nlh()->nlmsg_len;
}
void NlMessageWriter::sync() {
  used_ = nlh()->nlmsg_len;
}

bool NlMessageWriter::room(size_t n) {
  if (overflow_ || MNL_ALIGN(nlh()->nlmsg_len) + n > kCapacity) {
    overflow_ = true;
    return false;
  }
  return true;
}

void NlMessageWriter::put(uint16_t type, std::span<const uint8_t> payload) {
  if (!room(MNL_ALIGN(MNL_ATTR_HDRLEN + payload.size())) || payload.size() > 0xffff - 4) {
    overflow_ = true;
    return;
  }
  mnl_attr_put(nlh(), type, payload.size(), payload.data());
  sync();
}

void NlMessageWriter::put_u8(uint16_t type, uint8_t v) {
  put(type, {&v, 1});
}
void NlMessageWriter::put_u16(uint16_t type, uint16_t v) {
  put(type, {reinterpret_cast<const uint8_t*>(&v), sizeof v});
}
void NlMessageWriter::put_u32(uint16_t type, uint32_t v) {
  put(type, {reinterpret_cast<const uint8_t*>(&v), sizeof v});
}

void NlMessageWriter::put_via(const IpAddr& a) {
  std::array<uint8_t, 2 + 16> via{};
  const uint16_t fam = af_of(a.family);  // host order, like the kernel's struct rtvia
  std::memcpy(via.data(), &fam, 2);
  std::memcpy(via.data() + 2, a.bytes.data(), address_bytes(a.family));
  put(RTA_VIA, {via.data(), 2 + address_bytes(a.family)});
}

size_t NlMessageWriter::nest_start(uint16_t type) {
  if (!room(MNL_ATTR_HDRLEN)) return 0;
  const size_t off = MNL_ALIGN(nlh()->nlmsg_len);
  mnl_attr_nest_start(nlh(), type);
  sync();
  return off;
}

void NlMessageWriter::nest_end(size_t token) {
  if (overflow_) return;
  auto* start = reinterpret_cast<nlattr*>(buf_.data() + token);
  if (nlh()->nlmsg_len - token > 0xffff) {  // nla_len is a u16
    overflow_ = true;
    return;
  }
  mnl_attr_nest_end(nlh(), start);
}

size_t NlMessageWriter::rtnh_start(uint8_t flags, uint8_t hops, int32_t ifindex) {
  if (!room(sizeof(rtnexthop))) return 0;
  const size_t off = MNL_ALIGN(nlh()->nlmsg_len);
  auto* rtnh = static_cast<rtnexthop*>(mnl_nlmsg_put_extra_header(nlh(), sizeof(rtnexthop)));
  rtnh->rtnh_flags = flags;
  rtnh->rtnh_hops = hops;
  rtnh->rtnh_ifindex = ifindex;
  sync();
  return off;
}

void NlMessageWriter::rtnh_end(size_t token) {
  if (overflow_) return;
  auto* rtnh = reinterpret_cast<rtnexthop*>(buf_.data() + token);
  rtnh->rtnh_len = static_cast<unsigned short>(nlh()->nlmsg_len - token);
}

void NlMessageWriter::put_raw(std::span<const uint8_t> bytes) {
  if (!room(MNL_ALIGN(bytes.size()))) return;
  uint8_t* dst = buf_.data() + nlh()->nlmsg_len;
  std::memset(dst, 0, MNL_ALIGN(bytes.size()));
  if (!bytes.empty()) std::memcpy(dst, bytes.data(), bytes.size());
  nlh()->nlmsg_len += static_cast<uint32_t>(bytes.size());
  sync();
}

void NlMessageWriter::set_nlmsg_len(uint32_t len) {
  nlh()->nlmsg_len = len;
}

Status NlMessageWriter::append_to(std::vector<uint8_t>& out) const {
  if (overflow_) {
    return Error{"fpm.nl.encode.too_big",
                 fmt::format("netlink message does not fit in {} bytes", kCapacity)};
  }
  out.insert(out.end(), buf_.data(), buf_.data() + used_);
  return ok_status();
}

// ---------------------------------------------------------------- high-level encoders

Status append_route_add(std::vector<uint8_t>& out, const RouteAdd& r, const EncodeOptions& opt) {
  const Family fam = r.prefix.family();
  rtmsg rtm = make_rtmsg(fam, r.prefix.len, r.table, r.protocol, rtn_of(r.type));
  rtm.rtm_flags = opt.extra_rtm_flags;
  const bool single = r.nexthops.size() == 1 && r.nexthops[0].weight == 1;
  if (single && r.nexthops[0].nh.onlink) rtm.rtm_flags |= RTNH_F_ONLINK;

  uint16_t flags = NLM_F_REQUEST | NLM_F_CREATE | opt.extra_nlmsg_flags;
  if (r.replace) flags |= NLM_F_REPLACE;
  auto w = NlMessageWriter::with(RTM_NEWROUTE, flags, rtm, opt.seq);
  put_route_key(w, r.prefix, r.metric, r.table, opt.always_table_attr);
  if (r.nhg_id != 0) w.put_u32(RTA_NH_ID, r.nhg_id);

  if (single) {
    const NextHop& nh = r.nexthops[0].nh;
    if (nh.gateway) put_route_gateway(w, fam, *nh.gateway);
    if (nh.ifindex != 0) w.put_u32(RTA_OIF, nh.ifindex);
  } else if (!r.nexthops.empty()) {
    const size_t mp = w.nest_start(RTA_MULTIPATH);
    for (const WeightedNextHop& m : r.nexthops) {
      if (m.weight < 1 || m.weight > 256) return bad_weight(m.weight);
      const size_t rtnh =
          w.rtnh_start(m.nh.onlink ? RTNH_F_ONLINK : 0, static_cast<uint8_t>(m.weight - 1),
                       static_cast<int32_t>(m.nh.ifindex));
      if (m.nh.gateway) put_route_gateway(w, fam, *m.nh.gateway);
      w.rtnh_end(rtnh);
    }
    w.nest_end(mp);
  }
  return w.append_to(out);
}

Status append_route_del(std::vector<uint8_t>& out, const RouteDel& r, const EncodeOptions& opt) {
  // zebra leaves rtm_type RTN_UNSPEC on deletes so that any route type matches.
  rtmsg rtm = make_rtmsg(r.prefix.family(), r.prefix.len, r.table, r.protocol, RTN_UNSPEC);
  rtm.rtm_flags = opt.extra_rtm_flags;
  auto w = NlMessageWriter::with(RTM_DELROUTE, NLM_F_REQUEST | NLM_F_CREATE | opt.extra_nlmsg_flags,
                                 rtm, opt.seq);
  put_route_key(w, r.prefix, r.metric, r.table, opt.always_table_attr);
  return w.append_to(out);
}

Status append_nexthop_add(std::vector<uint8_t>& out, const NexthopAdd& n,
                          const EncodeOptions& opt) {
  nhmsg nhm{};
  nhm.nh_protocol = n.protocol;
  const auto* single = std::get_if<NextHop>(&n.body);
  if (single) {
    nhm.nh_family = af_of(n.family);
    if (single->onlink) nhm.nh_flags |= RTNH_F_ONLINK;
    if (single->gateway && single->gateway->family != n.family) {
      return Error{"fpm.nl.encode.gateway_family",
                   fmt::format("next hop {} is IPv{} but its gateway {} is not", n.id,
                               static_cast<int>(n.family), single->gateway->to_string())};
    }
  } else {
    nhm.nh_family = AF_UNSPEC;  // groups carry no family of their own
  }

  uint16_t flags = NLM_F_REQUEST | NLM_F_CREATE | opt.extra_nlmsg_flags;
  if (n.replace) flags |= NLM_F_REPLACE;
  auto w = NlMessageWriter::with(RTM_NEWNEXTHOP, flags, nhm, opt.seq);
  w.put_u32(NHA_ID, n.id);

  if (single) {
    if (single->blackhole) {
      w.put_flag(NHA_BLACKHOLE);  // zebra sends nothing else with a blackhole
    } else {
      if (single->gateway) w.put_addr(NHA_GATEWAY, *single->gateway);
      if (single->ifindex != 0) w.put_u32(NHA_OIF, single->ifindex);
    }
  } else {
    const auto& members = std::get<std::vector<NexthopGroupMember>>(n.body);
    if (members.size() * sizeof(nexthop_grp) > 0xffff - MNL_ATTR_HDRLEN) {
      return Error{"fpm.nl.encode.too_big",
                   fmt::format("group {} has {} members", n.id, members.size())};
    }
    // Built on the stack in chunks would complicate the attribute; one small array of the
    // usual group size avoids the heap for everything but huge groups.
    std::array<nexthop_grp, 64> small{};
    std::vector<nexthop_grp> big;
    nexthop_grp* grp = small.data();
    if (members.size() > small.size()) {
      big.resize(members.size());
      grp = big.data();
    }
    for (size_t i = 0; i < members.size(); ++i) {
      if (members[i].weight < 1 || members[i].weight > 256) return bad_weight(members[i].weight);
      grp[i] = nexthop_grp{};
      grp[i].id = members[i].id;
      grp[i].weight = static_cast<uint8_t>(members[i].weight - 1);
    }
    w.put(NHA_GROUP, {reinterpret_cast<const uint8_t*>(grp), members.size() * sizeof(nexthop_grp)});
  }
  return w.append_to(out);
}

Status append_nexthop_del(std::vector<uint8_t>& out, const NexthopDel& n,
                          const EncodeOptions& opt) {
  nhmsg nhm{};
  nhm.nh_family = AF_UNSPEC;
  auto w = NlMessageWriter::with(
      RTM_DELNEXTHOP, NLM_F_REQUEST | NLM_F_CREATE | opt.extra_nlmsg_flags, nhm, opt.seq);
  w.put_u32(NHA_ID, n.id);
  return w.append_to(out);
}

Status append_event(std::vector<uint8_t>& out, const FpmEvent& e, const EncodeOptions& opt) {
  return std::visit(
      [&](const auto& ev) -> Status {
        using T = std::decay_t<decltype(ev)>;
        if constexpr (std::is_same_v<T, RouteAdd>) return append_route_add(out, ev, opt);
        if constexpr (std::is_same_v<T, RouteDel>) return append_route_del(out, ev, opt);
        if constexpr (std::is_same_v<T, NexthopAdd>) return append_nexthop_add(out, ev, opt);
        if constexpr (std::is_same_v<T, NexthopDel>) return append_nexthop_del(out, ev, opt);
      },
      e);
}

Status append_route_offload_reply(std::vector<uint8_t>& out, const OffloadReply& reply) {
  rtmsg rtm = make_rtmsg(reply.prefix.family(), reply.prefix.len, reply.table, reply.protocol,
                         rtn_of(reply.type));
  rtm.rtm_flags = reply.rtm_flags;
  auto w = NlMessageWriter::with(RTM_NEWROUTE, NLM_F_REQUEST, rtm);
  // RTA_TABLE always: zebra looks the route up by table and cannot know rtm_table was enough.
  put_route_key(w, reply.prefix, reply.metric, reply.table, true);
  return w.append_to(out);
}

// ---------------------------------------------------------------- framing

size_t begin_frame(std::vector<uint8_t>& out) {
  const size_t off = out.size();
  out.resize(off + kFpmHeaderSize);
  return off;
}

Status end_frame(std::vector<uint8_t>& out, size_t frame_offset, FrameType type) {
  assert(frame_offset + kFpmHeaderSize <= out.size());
  const size_t body = out.size() - frame_offset - kFpmHeaderSize;
  if (body > kFpmMaxFrame - kFpmHeaderSize) {
    return Error{"fpm.frame.too_big", fmt::format("frame body of {} bytes exceeds {}", body,
                                                  kFpmMaxFrame - kFpmHeaderSize)};
  }
  put_frame_header(std::span<uint8_t, kFpmHeaderSize>(out.data() + frame_offset, kFpmHeaderSize),
                   type, body);
  return ok_status();
}

Result<std::vector<uint8_t>> encode_frame(std::span<const FpmEvent> events,
                                          const EncodeOptions& opt) {
  std::vector<uint8_t> out;
  const size_t f = begin_frame(out);
  for (const FpmEvent& e : events) {
    if (auto st = append_event(out, e, opt); !st) return st.error();
  }
  if (auto st = end_frame(out, f); !st) return st.error();
  return out;
}

FrameStreamWriter::FrameStreamWriter(std::vector<uint8_t>& out, size_t max_frame)
    : out_(out), max_frame_(std::min(max_frame, kFpmMaxFrame)) {}

Status FrameStreamWriter::add(const FpmEvent& e, const EncodeOptions& opt) {
  msg_.clear();
  if (auto st = append_event(msg_, e, opt); !st) return st;
  if (msg_.size() + kFpmHeaderSize > max_frame_) {
    return Error{
        "fpm.frame.too_big",
        fmt::format("message of {} bytes does not fit a {}-byte frame", msg_.size(), max_frame_)};
  }
  if (open_ != SIZE_MAX && out_.size() - open_ + msg_.size() > max_frame_) flush();
  if (open_ == SIZE_MAX) open_ = begin_frame(out_);
  out_.insert(out_.end(), msg_.begin(), msg_.end());
  return ok_status();
}

void FrameStreamWriter::flush() {
  if (open_ == SIZE_MAX) return;
  // add() never lets a frame grow past max_frame_, so this cannot fail.
  auto st = end_frame(out_, open_);
  assert(st.ok());
  (void)st;
  open_ = SIZE_MAX;
  ++frames_;
}

}  // namespace fpm_sink
