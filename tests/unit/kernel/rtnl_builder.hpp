// Builds rtnetlink link / neighbour / address / netconf / rule messages for the kernel-mirror
// tests.
#pragma once

#include <libmnl/libmnl.h>
#include <linux/fib_rules.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_arp.h>
#include <linux/neighbour.h>
#include <linux/netconf.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "kernel/kernel_events.hpp"

namespace fpm_sink::test {

class RtnlMessage {
 public:
  explicit RtnlMessage(uint16_t type) : buf_(4096) {
    nlh_ = mnl_nlmsg_put_header(buf_.data());
    nlh_->nlmsg_type = type;
  }
  template <typename T>
  T* extra() {
    return static_cast<T*>(mnl_nlmsg_put_extra_header(nlh_, sizeof(T)));
  }
  RtnlMessage& u32(uint16_t type, uint32_t v) { return mnl_attr_put_u32(nlh_, type, v), *this; }
  RtnlMessage& u8(uint16_t type, uint8_t v) { return mnl_attr_put_u8(nlh_, type, v), *this; }
  RtnlMessage& str(uint16_t type, const std::string& s) {
    return mnl_attr_put_strz(nlh_, type, s.c_str()), *this;
  }
  RtnlMessage& bytes(uint16_t type, std::span<const uint8_t> b) {
    return mnl_attr_put(nlh_, type, b.size(), b.data()), *this;
  }
  // IFLA_LINKINFO { IFLA_INFO_KIND kind }, as the kernel reports a VRF / bridge / bond.
  RtnlMessage& link_kind(const std::string& kind) {
    nlattr* nest = mnl_attr_nest_start(nlh_, IFLA_LINKINFO);
    mnl_attr_put_strz(nlh_, IFLA_INFO_KIND, kind.c_str());
    mnl_attr_nest_end(nlh_, nest);
    return *this;
  }
  // IFLA_LINKINFO { IFLA_INFO_KIND "vrf", IFLA_INFO_DATA { IFLA_VRF_TABLE table } }.
  RtnlMessage& vrf_kind(uint32_t table) {
    nlattr* nest = mnl_attr_nest_start(nlh_, IFLA_LINKINFO);
    mnl_attr_put_strz(nlh_, IFLA_INFO_KIND, "vrf");
    nlattr* data = mnl_attr_nest_start(nlh_, IFLA_INFO_DATA);
    mnl_attr_put_u32(nlh_, IFLA_VRF_TABLE, table);
    mnl_attr_nest_end(nlh_, data);
    mnl_attr_nest_end(nlh_, nest);
    return *this;
  }
  std::span<const uint8_t> span() const { return {buf_.data(), nlh_->nlmsg_len}; }
  nlmsghdr* header() { return nlh_; }

 private:
  std::vector<uint8_t> buf_;
  nlmsghdr* nlh_;
};

inline RtnlMessage link_msg(uint16_t type, int ifindex, const std::string& name, MacAddr mac,
                            uint32_t mtu, bool up) {
  RtnlMessage m(type);
  auto* ifi = m.extra<ifinfomsg>();
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_type = ARPHRD_ETHER;
  ifi->ifi_index = ifindex;
  ifi->ifi_flags = up ? (IFF_UP | IFF_LOWER_UP | IFF_RUNNING) : 0;
  m.str(IFLA_IFNAME, name).bytes(IFLA_ADDRESS, mac).u32(IFLA_MTU, mtu);
  m.u8(IFLA_OPERSTATE, up ? IF_OPER_UP : IF_OPER_DOWN);
  return m;
}

inline RtnlMessage neigh_msg(uint16_t type, const IpAddr& addr, int ifindex, uint16_t nud,
                             const MacAddr* mac) {
  RtnlMessage m(type);
  auto* ndm = m.extra<ndmsg>();
  ndm->ndm_family = addr.family == Family::V4 ? AF_INET : AF_INET6;
  ndm->ndm_ifindex = ifindex;
  ndm->ndm_state = nud;
  m.bytes(NDA_DST, addr.span());
  if (mac) m.bytes(NDA_LLADDR, *mac);
  return m;
}

inline RtnlMessage addr_msg(uint16_t type, const IpAddr& addr, int ifindex, uint8_t plen) {
  RtnlMessage m(type);
  auto* ifa = m.extra<ifaddrmsg>();
  ifa->ifa_family = addr.family == Family::V4 ? AF_INET : AF_INET6;
  ifa->ifa_index = static_cast<uint32_t>(ifindex);
  ifa->ifa_prefixlen = plen;
  m.bytes(IFA_ADDRESS, addr.span());
  if (addr.family == Family::V4) m.bytes(IFA_LOCAL, addr.span());
  return m;
}

// RTM_NEWNETCONF / RTM_DELNETCONF as devinet.c / addrconf.c send them: NETCONFA_IFINDEX
// (s32; -1 "all", -2 "default") and, when given, NETCONFA_FORWARDING (s32). A
// notification names only the setting that changed, a dump entry all of them.
inline RtnlMessage netconf_msg(uint16_t type, int family, int32_t ifindex,
                               std::optional<int32_t> forwarding,
                               std::optional<int32_t> rp_filter = std::nullopt) {
  RtnlMessage m(type);
  m.extra<netconfmsg>()->ncm_family = static_cast<uint8_t>(family);
  m.u32(NETCONFA_IFINDEX, static_cast<uint32_t>(ifindex));
  if (forwarding) m.u32(NETCONFA_FORWARDING, static_cast<uint32_t>(*forwarding));
  if (rp_filter) m.u32(NETCONFA_RP_FILTER, static_cast<uint32_t>(*rp_filter));
  return m;
}

// A rule as fib_nl_fill_rule reports it: FRA_TABLE, FRA_SUPPRESS_PREFIXLEN
// (-1: unset) and FRA_PROTOCOL always, FRA_PRIORITY when not 0. Selectors
// are added by the caller.
inline RtnlMessage rule_msg(uint16_t type, int family, uint32_t priority, uint32_t table,
                            uint8_t action = FR_ACT_TO_TBL) {
  RtnlMessage m(type);
  auto* frh = m.extra<fib_rule_hdr>();
  frh->family = static_cast<uint8_t>(family);
  frh->table = static_cast<uint8_t>(table < 256 ? table : RT_TABLE_COMPAT);
  frh->action = action;
  m.u32(FRA_TABLE, table).u32(FRA_SUPPRESS_PREFIXLEN, 0xffffffff).u8(FRA_PROTOCOL, RTPROT_KERNEL);
  if (priority) m.u32(FRA_PRIORITY, priority);
  return m;
}

}  // namespace fpm_sink::test
