// Netlink decoder for FPM frame bodies (zebra dplane_fpm_nl, FRR 8.4 wire format).
//
// Policy: a bad message is dropped with one DecodeError (stable id, the field and value at
// fault, byte offset in the body) and the walk goes on with the next message; only a
// netlink header that cannot be trusted (nlmsg_len overrunning the body) stops the frame.
// Unknown message types and attributes are counted and skipped: zebra grows new ones.
#include <endian.h>
#include <libmnl/libmnl.h>
#include <linux/nexthop.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <fmt/format.h>

#include <algorithm>
#include <climits>
#include <cstring>

#include "fpm/decode.hpp"

namespace fpm_sink {

namespace {

constexpr uint64_t bit(unsigned t) {
  return uint64_t{1} << t;
}

static_assert(RTA_MAX < 64 && NHA_MAX < 64, "attribute masks are 64 bits wide");

// Route attributes we interpret, plus ones zebra sends that the fast path has no use for
// (RTA_PREFSRC, RTA_METRICS/MTU): those are not "unknown" and do not move the counter.
constexpr uint64_t kRouteAttrs = bit(RTA_DST) | bit(RTA_SRC) | bit(RTA_TABLE) | bit(RTA_PRIORITY) |
                                 bit(RTA_NH_ID) | bit(RTA_GATEWAY) | bit(RTA_OIF) | bit(RTA_VIA) |
                                 bit(RTA_MULTIPATH) | bit(RTA_ENCAP) | bit(RTA_ENCAP_TYPE) |
                                 bit(RTA_PREFSRC) | bit(RTA_METRICS);
constexpr uint64_t kRtnhAttrs =
    bit(RTA_GATEWAY) | bit(RTA_VIA) | bit(RTA_ENCAP) | bit(RTA_ENCAP_TYPE);
constexpr uint64_t kNexthopAttrs = bit(NHA_ID) | bit(NHA_GROUP) | bit(NHA_GROUP_TYPE) |
                                   bit(NHA_BLACKHOLE) | bit(NHA_OIF) | bit(NHA_GATEWAY) |
                                   bit(NHA_ENCAP) | bit(NHA_ENCAP_TYPE);

std::string_view family_name(Family f) {
  return f == Family::V4 ? "IPv4" : "IPv6";
}

// One attribute table per message (or per rtnexthop). Only the slots named in
// `present` are valid, so a table costs no zeroing per message.
template <size_t Max>
struct AttrTable {
  uint64_t present = 0;
  std::array<const nlattr*, Max + 1> slot;  // deliberately not initialised

  const nlattr* operator[](size_t type) const {
    return (present >> type) & 1 ? slot[type] : nullptr;
  }
};

struct AttrSink {
  const nlattr** slot;
  uint64_t* present;
};

template <size_t Max>
AttrSink sink(AttrTable<Max>& t) {
  return {t.slot.data(), &t.present};
}

uint16_t payload_len(const nlattr* a) {
  return static_cast<uint16_t>(a->nla_len - MNL_ATTR_HDRLEN);
}
const uint8_t* payload(const nlattr* a) {
  return reinterpret_cast<const uint8_t*>(a) + MNL_ATTR_HDRLEN;
}
uint32_t payload_u32(const nlattr* a) {
  uint32_t v;
  std::memcpy(&v, payload(a), sizeof v);
  return v;
}

// Canonical prefix straight from the wire bytes (what Prefix::make does, on two
// words instead of a loop over 16 bytes): host bits cleared, len already checked.
Prefix wire_prefix(Family fam, const uint8_t* addr, unsigned len) {
  Prefix p;
  p.addr.family = fam;
  p.len = static_cast<uint8_t>(len);
  if (addr) std::memcpy(p.addr.bytes.data(), addr, address_bytes(fam));
  for (unsigned i = 0; i < 2; ++i) {
    const unsigned first = i * 64;
    uint64_t keep = 0;  // in host order, applied to the big-endian word
    if (len >= first + 64) {
      keep = ~uint64_t{0};
    } else if (len > first) {
      keep = ~uint64_t{0} << (64 - (len - first));
    }
    uint64_t w;
    std::memcpy(&w, p.addr.bytes.data() + i * 8, 8);
    w &= htobe64(keep);
    std::memcpy(p.addr.bytes.data() + i * 8, &w, 8);
  }
  return p;
}

class Walker {
 public:
  Walker(const uint8_t* base, DecodedFrame& out, DecodeStats& stats)
      : base_(base), out_(out), stats_(stats) {}

  void message(const nlmsghdr* nlh);

 private:
  size_t off(const void* p) const {
    return static_cast<size_t>(static_cast<const uint8_t*>(p) - base_);
  }

  // Records the one error a rejected message yields. Always returns false.
  bool fail(std::string id, std::string reason, const void* where) {
    ++stats_.errors;
    out_.errors.push_back(DecodeError{std::move(id), std::move(reason), off(where)});
    return false;
  }

  // Fills tb from [start, start + len) through libmnl; false (error recorded) if the bytes
  // do not end exactly on an attribute boundary.
  bool parse_attrs(const void* start, size_t len, uint16_t max, uint64_t known, AttrSink tb);
  bool attr_u32(const nlattr* a, const char* name, uint32_t& v) {
    if (payload_len(a) == sizeof(uint32_t)) [[likely]] {
      v = payload_u32(a);
      return true;
    }
    return attr_u32_slow(a, name, v);
  }
  bool attr_u32_slow(const nlattr* a, const char* name, uint32_t& v);
  bool route_gateway(const nlattr* a, Family route_family, std::optional<IpAddr>& gw);
  bool route_via(const nlattr* a, std::optional<IpAddr>& gw);
  bool multipath(const nlattr* mp, Family fam, RouteAdd& r, bool& encap);

  void route(const nlmsghdr* nlh, bool is_new);
  void nexthop(const nlmsghdr* nlh, bool is_new);

  const uint8_t* base_;
  DecodedFrame& out_;
  DecodeStats& stats_;
};

bool Walker::parse_attrs(const void* start, size_t len, uint16_t max, uint64_t known, AttrSink tb) {
  // libmnl's mnl_attr_parse_payload walk, inline: stop at the first attribute that is
  // shorter than its header or longer than what is left, which shows up as next < end.
  const uint8_t* const first = static_cast<const uint8_t*>(start);
  const uint8_t* next = first;
  const uint8_t* at = first;
  const int total = static_cast<int>(len);
  for (;;) {
    const int left = total - static_cast<int>(at - first);
    if (left < static_cast<int>(sizeof(nlattr))) break;
    const auto* a = reinterpret_cast<const nlattr*>(at);
    if (a->nla_len < sizeof(nlattr) || static_cast<int>(a->nla_len) > left) break;
    next = at + MNL_ALIGN(a->nla_len);
    const uint16_t type = a->nla_type & NLA_TYPE_MASK;
    if (type > max || !(known & bit(type))) {
      ++stats_.unknown_attr;
    } else {
      tb.slot[type] = a;  // a repeated attribute: the last one wins, as in the kernel
      *tb.present |= bit(type);
    }
    at = next;
  }
  const uint8_t* end = static_cast<const uint8_t*>(start) + len;
  if (next >= end) return true;
  const size_t left = static_cast<size_t>(end - next);
  if (left < MNL_ATTR_HDRLEN) {
    return fail("fpm.nl.attr_overrun",
                fmt::format("{} trailing bytes after the last attribute", left), next);
  }
  const auto* a = reinterpret_cast<const nlattr*>(next);
  return fail("fpm.nl.attr_overrun",
              fmt::format("attribute type {} has nla_len {} with {} bytes left",
                          a->nla_type & NLA_TYPE_MASK, a->nla_len, left),
              next);
}

bool Walker::attr_u32_slow(const nlattr* a, const char* name, uint32_t& v) {
  if (mnl_attr_validate(a, MNL_TYPE_U32) < 0) {
    return fail(
        "fpm.nl.attr_size",
        fmt::format("{} payload is {} bytes (expected 4)", name, mnl_attr_get_payload_len(a)), a);
  }
  v = mnl_attr_get_u32(a);
  return true;
}

bool Walker::route_gateway(const nlattr* a, Family fam, std::optional<IpAddr>& gw) {
  const uint16_t len = mnl_attr_get_payload_len(a);
  if (mnl_attr_validate2(a, MNL_TYPE_BINARY, address_bytes(fam)) < 0) {
    const Family other = fam == Family::V4 ? Family::V6 : Family::V4;
    if (len == address_bytes(other)) {
      return fail("fpm.nl.gateway_family",
                  fmt::format("RTA_GATEWAY is {} ({} bytes) in an {} route", family_name(other),
                              len, family_name(fam)),
                  a);
    }
    return fail(
        "fpm.nl.attr_size",
        fmt::format("RTA_GATEWAY payload is {} bytes (expected {})", len, address_bytes(fam)), a);
  }
  gw = IpAddr::from_bytes(fam, {static_cast<const uint8_t*>(mnl_attr_get_payload(a)), len});
  return true;
}

// struct rtvia {sa_family_t family; u8 addr[]}: how a next hop of another family is given
// (the kernel accepts it for IPv4 routes over IPv6 next hops; FRR 8.4 itself only uses it
// for MPLS and sends 169.254.0.1 + onlink for BGP unnumbered instead).
bool Walker::route_via(const nlattr* a, std::optional<IpAddr>& gw) {
  const uint16_t len = mnl_attr_get_payload_len(a);
  if (len < sizeof(uint16_t)) {
    return fail("fpm.nl.attr_size", fmt::format("RTA_VIA payload is {} bytes", len), a);
  }
  uint16_t af;
  std::memcpy(&af, mnl_attr_get_payload(a), sizeof af);
  Family f;
  if (af == AF_INET) {
    f = Family::V4;
  } else if (af == AF_INET6) {
    f = Family::V6;
  } else {
    return fail("fpm.nl.gateway_family", fmt::format("RTA_VIA family {} is not IPv4/IPv6", af), a);
  }
  if (len != 2 + address_bytes(f)) {
    return fail("fpm.nl.attr_size",
                fmt::format("RTA_VIA payload is {} bytes (expected {} for {})", len,
                            2 + address_bytes(f), family_name(f)),
                a);
  }
  gw = IpAddr::from_bytes(
      f, {static_cast<const uint8_t*>(mnl_attr_get_payload(a)) + 2, address_bytes(f)});
  return true;
}

bool Walker::multipath(const nlattr* mp, Family fam, RouteAdd& r, bool& encap) {
  const auto* payload = static_cast<const uint8_t*>(mnl_attr_get_payload(mp));
  const size_t plen = mnl_attr_get_payload_len(mp);
  size_t pos = 0;
  while (plen - pos >= sizeof(rtnexthop)) {
    rtnexthop h;
    std::memcpy(&h, payload + pos, sizeof h);
    if (h.rtnh_len < sizeof(rtnexthop) || h.rtnh_len > plen - pos) {
      return fail("fpm.nl.rtnh_overrun",
                  fmt::format("RTA_MULTIPATH entry {} has rtnh_len {} with {} bytes left",
                              r.nexthops.size(), h.rtnh_len, plen - pos),
                  payload + pos);
    }
    WeightedNextHop m;
    m.weight = static_cast<uint16_t>(h.rtnh_hops + 1);
    m.nh.ifindex = static_cast<uint32_t>(h.rtnh_ifindex);
    m.nh.onlink = (h.rtnh_flags & RTNH_F_ONLINK) != 0;
    if (h.rtnh_len > sizeof(rtnexthop)) {
      AttrTable<RTA_MAX> tb;
      if (!parse_attrs(payload + pos + sizeof(rtnexthop), h.rtnh_len - sizeof(rtnexthop), RTA_MAX,
                       kRtnhAttrs, sink(tb))) {
        return false;
      }
      if (tb[RTA_GATEWAY] && tb[RTA_VIA]) {
        return fail("fpm.nl.gateway_conflict",
                    "RTA_MULTIPATH entry has both RTA_GATEWAY and RTA_VIA", tb[RTA_VIA]);
      }
      if (tb[RTA_GATEWAY] && !route_gateway(tb[RTA_GATEWAY], fam, m.nh.gateway)) return false;
      if (tb[RTA_VIA] && !route_via(tb[RTA_VIA], m.nh.gateway)) return false;
      encap = encap || tb[RTA_ENCAP] || tb[RTA_ENCAP_TYPE];
    }
    r.nexthops.push_back(m);
    pos = std::min(plen, pos + RTNH_ALIGN(h.rtnh_len));
  }
  if (pos != plen) {
    return fail(
        "fpm.nl.rtnh_overrun",
        fmt::format("{} trailing bytes in RTA_MULTIPATH, less than a struct rtnexthop", plen - pos),
        payload + pos);
  }
  if (r.nexthops.empty()) {
    return fail("fpm.nl.empty_multipath", "RTA_MULTIPATH holds no next hop", mp);
  }
  return true;
}

RouteType route_type(uint8_t rtm_type) {
  switch (rtm_type) {
    case RTN_UNICAST:
      return RouteType::Unicast;
    case RTN_BLACKHOLE:
      return RouteType::Blackhole;
    case RTN_UNREACHABLE:
      return RouteType::Unreachable;
    case RTN_PROHIBIT:
      return RouteType::Prohibit;
    case RTN_LOCAL:
      return RouteType::Local;
    default:
      return RouteType::Other;
  }
}

void Walker::route(const nlmsghdr* nlh, bool is_new) {
  if (mnl_nlmsg_get_payload_len(nlh) < sizeof(rtmsg)) {
    fail("fpm.nl.truncated_msg",
         fmt::format("{} nlmsg_len {} leaves no room for struct rtmsg",
                     is_new ? "RTM_NEWROUTE" : "RTM_DELROUTE", nlh->nlmsg_len),
         nlh);
    return;
  }
  rtmsg rtm;
  std::memcpy(&rtm, mnl_nlmsg_get_payload(nlh), sizeof rtm);
  Family fam;
  if (rtm.rtm_family == AF_INET) {
    fam = Family::V4;
  } else if (rtm.rtm_family == AF_INET6) {
    fam = Family::V6;
  } else {
    ++stats_.skipped_family;  // AF_MPLS LSPs and friends: the kernel keeps handling them
    return;
  }
  if (rtm.rtm_dst_len > max_prefix_len(fam) || rtm.rtm_src_len > max_prefix_len(fam)) {
    fail("fpm.nl.bad_prefixlen",
         fmt::format("rtm_dst_len {} / rtm_src_len {} exceed {} for an {} route", rtm.rtm_dst_len,
                     rtm.rtm_src_len, max_prefix_len(fam), family_name(fam)),
         nlh);
    return;
  }

  AttrTable<RTA_MAX> tb;
  const void* attrs = mnl_nlmsg_get_payload_offset(nlh, sizeof(rtmsg));
  const size_t attrs_len =
      nlh->nlmsg_len - static_cast<size_t>(static_cast<const uint8_t*>(attrs) -
                                           reinterpret_cast<const uint8_t*>(nlh));
  if (!parse_attrs(attrs, attrs_len, RTA_MAX, kRouteAttrs, sink(tb))) return;

  const uint8_t* dst = nullptr;  // a default route may leave RTA_DST out
  if (const nlattr* a = tb[RTA_DST]) {
    if (payload_len(a) != address_bytes(fam)) {
      fail("fpm.nl.attr_size",
           fmt::format("RTA_DST payload is {} bytes (expected {} for {})",
                       mnl_attr_get_payload_len(a), address_bytes(fam), family_name(fam)),
           a);
      return;
    }
    dst = payload(a);
  } else if (rtm.rtm_dst_len > 0) {
    // Only a default route may leave RTA_DST out; anything else would silently become /0.
    fail("fpm.nl.missing_dst", fmt::format("rtm_dst_len {} without RTA_DST", rtm.rtm_dst_len), nlh);
    return;
  }
  const Prefix prefix = wire_prefix(fam, dst, rtm.rtm_dst_len);  // canonical: host bits cleared

  uint32_t table = rtm.rtm_table;
  if (tb[RTA_TABLE] && !attr_u32(tb[RTA_TABLE], "RTA_TABLE", table)) return;
  uint32_t metric = 0;
  if (tb[RTA_PRIORITY] && !attr_u32(tb[RTA_PRIORITY], "RTA_PRIORITY", metric)) return;

  if (!is_new) {
    // zebra sends no next hops with a delete; the key is table + prefix (+ metric).
    out_.events.emplace_back(RouteDel{table, prefix, rtm.rtm_protocol, metric});
    ++stats_.del_route;
    return;
  }

  RouteAdd r;
  r.table = table;
  r.prefix = prefix;
  r.protocol = rtm.rtm_protocol;
  r.metric = metric;
  r.type = route_type(rtm.rtm_type);
  r.replace = (nlh->nlmsg_flags & NLM_F_REPLACE) != 0;
  if (tb[RTA_NH_ID] && !attr_u32(tb[RTA_NH_ID], "RTA_NH_ID", r.nhg_id)) return;

  bool encap = tb[RTA_ENCAP] || tb[RTA_ENCAP_TYPE];
  if (tb[RTA_MULTIPATH]) {
    if (!multipath(tb[RTA_MULTIPATH], fam, r, encap)) return;
  } else if (tb[RTA_GATEWAY] || tb[RTA_VIA] || tb[RTA_OIF]) {
    if (tb[RTA_GATEWAY] && tb[RTA_VIA]) {
      fail("fpm.nl.gateway_conflict", "route has both RTA_GATEWAY and RTA_VIA", tb[RTA_VIA]);
      return;
    }
    WeightedNextHop m;
    if (tb[RTA_GATEWAY] && !route_gateway(tb[RTA_GATEWAY], fam, m.nh.gateway)) return;
    if (tb[RTA_VIA] && !route_via(tb[RTA_VIA], m.nh.gateway)) return;
    if (tb[RTA_OIF] && !attr_u32(tb[RTA_OIF], "RTA_OIF", m.nh.ifindex)) return;
    m.nh.onlink = (rtm.rtm_flags & RTNH_F_ONLINK) != 0;
    r.nexthops.push_back(m);
  }
  // Source-specific routes and tunnel encapsulations (MPLS labels, VXLAN for EVPN) cannot be
  // forwarded as plain IP: reported as Other so the fast path leaves them to the kernel.
  if (encap || rtm.rtm_src_len > 0 || tb[RTA_SRC]) r.type = RouteType::Other;

  out_.events.emplace_back(std::move(r));
  ++stats_.new_route;
}

void Walker::nexthop(const nlmsghdr* nlh, bool is_new) {
  if (mnl_nlmsg_get_payload_len(nlh) < sizeof(nhmsg)) {
    fail("fpm.nl.truncated_msg",
         fmt::format("{} nlmsg_len {} leaves no room for struct nhmsg",
                     is_new ? "RTM_NEWNEXTHOP" : "RTM_DELNEXTHOP", nlh->nlmsg_len),
         nlh);
    return;
  }
  nhmsg nhm;
  std::memcpy(&nhm, mnl_nlmsg_get_payload(nlh), sizeof nhm);
  Family fam = Family::V4;
  const bool unspec = nhm.nh_family == AF_UNSPEC;  // groups and deletes
  if (nhm.nh_family == AF_INET6) {
    fam = Family::V6;
  } else if (nhm.nh_family != AF_INET && !unspec) {
    ++stats_.skipped_family;
    return;
  }

  AttrTable<NHA_MAX> tb;
  const void* attrs = mnl_nlmsg_get_payload_offset(nlh, sizeof(nhmsg));
  const size_t attrs_len =
      nlh->nlmsg_len - static_cast<size_t>(static_cast<const uint8_t*>(attrs) -
                                           reinterpret_cast<const uint8_t*>(nlh));
  if (!parse_attrs(attrs, attrs_len, NHA_MAX, kNexthopAttrs, sink(tb))) return;

  uint32_t id = 0;
  if (tb[NHA_ID] && !attr_u32(tb[NHA_ID], "NHA_ID", id)) return;
  if (id == 0) {
    fail("fpm.nl.missing_nh_id",
         tb[NHA_ID] ? std::string("NHA_ID is 0") : std::string("next hop without NHA_ID"), nlh);
    return;
  }
  if (!is_new) {
    out_.events.emplace_back(NexthopDel{id});
    ++stats_.del_nexthop;
    return;
  }
  if (tb[NHA_ENCAP] || tb[NHA_ENCAP_TYPE]) {
    // An MPLS/SRv6 next hop forwarded as plain IP would send traffic unlabelled; NextHop has
    // no way to say "punt", so the object is refused rather than silently misused.
    fail("fpm.nl.unsupported_encap", fmt::format("next hop {} carries NHA_ENCAP", id), nlh);
    return;
  }

  NexthopAdd n;
  n.id = id;
  n.protocol = nhm.nh_protocol;
  n.family = fam;
  n.replace = (nlh->nlmsg_flags & NLM_F_REPLACE) != 0;

  if (const nlattr* g = tb[NHA_GROUP]) {
    // A group has no family of its own (zebra sends AF_UNSPEC; its members carry one):
    // report every group the same way so equal groups compare equal.
    n.family = Family::V4;
    const uint16_t len = mnl_attr_get_payload_len(g);
    if (len == 0 || len % sizeof(nexthop_grp) != 0) {
      fail("fpm.nl.bad_group",
           len == 0 ? fmt::format("NHA_GROUP of next hop {} has zero entries", id)
                    : fmt::format("NHA_GROUP payload {} bytes is not a multiple of {}", len,
                                  sizeof(nexthop_grp)),
           g);
      return;
    }
    if (tb[NHA_GROUP_TYPE]) {
      if (mnl_attr_validate(tb[NHA_GROUP_TYPE], MNL_TYPE_U16) < 0) {
        fail("fpm.nl.attr_size",
             fmt::format("NHA_GROUP_TYPE payload is {} bytes (expected 2)",
                         mnl_attr_get_payload_len(tb[NHA_GROUP_TYPE])),
             tb[NHA_GROUP_TYPE]);
        return;
      }
      // Resilient groups hash like multipath ones as far as members and weights go.
      const uint16_t gt = mnl_attr_get_u16(tb[NHA_GROUP_TYPE]);
      if (gt > NEXTHOP_GRP_TYPE_MAX) {
        fail("fpm.nl.bad_group", fmt::format("NHA_GROUP_TYPE {} unknown", gt), tb[NHA_GROUP_TYPE]);
        return;
      }
    }
    const auto* entries = static_cast<const uint8_t*>(mnl_attr_get_payload(g));
    std::vector<NexthopGroupMember> members(len / sizeof(nexthop_grp));
    for (size_t i = 0; i < members.size(); ++i) {
      nexthop_grp e;
      std::memcpy(&e, entries + i * sizeof e, sizeof e);
      if (e.id == 0 || e.id == id) {
        fail("fpm.nl.bad_group",
             fmt::format("NHA_GROUP of next hop {} entry {} has member id {}", id, i, e.id),
             entries + i * sizeof e);
        return;
      }
      members[i] = NexthopGroupMember{e.id, static_cast<uint16_t>(e.weight + 1)};
    }
    // The kernel refuses duplicate members; so do we, rather than guess the weight meant.
    std::vector<uint32_t> ids(members.size());
    std::transform(members.begin(), members.end(), ids.begin(), [](auto& m) { return m.id; });
    std::sort(ids.begin(), ids.end());
    if (auto dup = std::adjacent_find(ids.begin(), ids.end()); dup != ids.end()) {
      fail("fpm.nl.bad_group",
           fmt::format("NHA_GROUP of next hop {} lists member {} twice", id, *dup), g);
      return;
    }
    n.body = std::move(members);
  } else {
    NextHop nh;
    if (const nlattr* b = tb[NHA_BLACKHOLE]) {
      if (mnl_attr_validate(b, MNL_TYPE_FLAG) < 0) {
        fail("fpm.nl.attr_size",
             fmt::format("NHA_BLACKHOLE payload is {} bytes (expected 0)",
                         mnl_attr_get_payload_len(b)),
             b);
        return;
      }
      nh.blackhole = true;
    }
    if (const nlattr* a = tb[NHA_GATEWAY]) {
      const uint16_t len = mnl_attr_get_payload_len(a);
      if (unspec || len != address_bytes(fam)) {
        const bool family_issue = unspec || len == 4 || len == 16;
        fail(family_issue ? "fpm.nl.gateway_family" : "fpm.nl.attr_size",
             fmt::format("NHA_GATEWAY of {} bytes in a next hop of nh_family {}", len,
                         nhm.nh_family),
             a);
        return;
      }
      nh.gateway =
          IpAddr::from_bytes(fam, {static_cast<const uint8_t*>(mnl_attr_get_payload(a)), len});
    }
    if (tb[NHA_OIF] && !attr_u32(tb[NHA_OIF], "NHA_OIF", nh.ifindex)) return;
    nh.onlink = (nhm.nh_flags & RTNH_F_ONLINK) != 0;
    if (!nh.blackhole && !nh.gateway && nh.ifindex == 0) {
      fail("fpm.nl.empty_nexthop",
           fmt::format("next hop {} has no NHA_GROUP, NHA_GATEWAY, NHA_OIF or NHA_BLACKHOLE", id),
           nlh);
      return;
    }
    n.body = nh;
  }
  out_.events.emplace_back(std::move(n));
  ++stats_.new_nexthop;
}

void Walker::message(const nlmsghdr* nlh) {
  switch (nlh->nlmsg_type) {
    case RTM_NEWROUTE:
      route(nlh, true);
      break;
    case RTM_DELROUTE:
      route(nlh, false);
      break;
    case RTM_NEWNEXTHOP:
      nexthop(nlh, true);
      break;
    case RTM_DELNEXTHOP:
      nexthop(nlh, false);
      break;
    case NLMSG_NOOP:
    case NLMSG_ERROR:
    case NLMSG_DONE:
    case RTM_NEWNEIGH:  // EVPN MAC/IP entries: the kernel neighbour mirror covers the fast path
    case RTM_DELNEIGH:
      ++stats_.other_known;
      break;
    default:
      ++stats_.unknown_type;
      break;
  }
}

// libmnl reads headers and attributes through struct pointers, so the body must be 4-byte
// aligned and readable up to its 4-byte rounded end. Frame bodies in Ingest's read buffer usually
// are; anything else is copied once into a padded scratch buffer.
const uint8_t* aligned_body(std::span<const uint8_t> body) {
  const bool ok = reinterpret_cast<uintptr_t>(body.data()) % 4 == 0 && body.size() % 4 == 0;
  if (ok) return body.data();
  thread_local std::vector<uint32_t> scratch;
  scratch.assign(body.size() / 4 + 1, 0);
  if (!body.empty()) std::memcpy(scratch.data(), body.data(), body.size());
  return reinterpret_cast<const uint8_t*>(scratch.data());
}

// Upper bound on the events a body can yield, from the nlmsg_len chain alone, so the
// events vector is sized once: growing it message by message was the decoder's main cost
// (each doubling past glibc's mmap threshold page-faults a fresh mapping).
size_t count_messages(const uint8_t* base, size_t size) {
  size_t n = 0;
  size_t pos = 0;
  while (size - pos >= sizeof(nlmsghdr)) {
    uint32_t len;
    std::memcpy(&len, base + pos, sizeof len);  // nlmsg_len is the first field
    if (len < sizeof(nlmsghdr) || len > size - pos) break;
    ++n;
    pos = std::min(size, pos + MNL_ALIGN(len));
  }
  return n;
}

}  // namespace

DecodedFrame decode_netlink(std::span<const uint8_t> body, DecodeStats& stats) {
  DecodedFrame out;
  decode_netlink(body, stats, out);
  return out;
}

void decode_netlink(std::span<const uint8_t> body, DecodeStats& stats, DecodedFrame& out) {
  out.events.clear();
  out.errors.clear();
  out.complete = true;
  if (body.size() > static_cast<size_t>(INT_MAX)) {  // libmnl walks with an int length
    ++stats.errors;
    out.errors.push_back({"fpm.nl.msg_overrun", "frame body larger than INT_MAX", 0});
    out.complete = false;
    return;
  }
  const uint8_t* base = aligned_body(body);
  out.events.reserve(count_messages(base, body.size()));
  Walker walker(base, out, stats);

  int len = static_cast<int>(body.size());
  const auto* nlh = reinterpret_cast<const nlmsghdr*>(base);
  while (len > 0) {
    const size_t at = static_cast<size_t>(reinterpret_cast<const uint8_t*>(nlh) - base);
    std::optional<DecodeError> broken;
    if (len < static_cast<int>(sizeof(nlmsghdr))) {
      broken = DecodeError{"fpm.nl.truncated_header",
                           fmt::format("{} trailing bytes, less than a netlink header", len), at};
    } else if (nlh->nlmsg_len < sizeof(nlmsghdr)) {
      broken = DecodeError{
          "fpm.nl.bad_msg_len",
          fmt::format("nlmsg_len {} is shorter than the netlink header", nlh->nlmsg_len), at};
    } else if (nlh->nlmsg_len > static_cast<uint32_t>(len) || !mnl_nlmsg_ok(nlh, len)) {
      // Compared unsigned first: mnl_nlmsg_ok casts nlmsg_len to int, so a length above
      // 2^31 would pass its check.
      broken = DecodeError{"fpm.nl.msg_overrun",
                           fmt::format("nlmsg_len {} (type {}) overruns the {} bytes left",
                                       nlh->nlmsg_len, nlh->nlmsg_type, len),
                           at};
    }
    if (broken) {
      // The next header's position is unknowable: the rest of this frame is lost.
      ++stats.errors;
      out.errors.push_back(std::move(*broken));
      out.complete = false;
      break;
    }
    ++stats.messages;
    walker.message(nlh);
    nlh = mnl_nlmsg_next(nlh, &len);
  }
}

}  // namespace fpm_sink
