#include "kernel/kernel_events.hpp"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_arp.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <cstring>

#include <fmt/format.h>

namespace fpm_sink {
namespace {

Error malformed(std::string what) {
  return Error{"kernel.nl.malformed", std::move(what)};
}

// mnl_attr_parse callback: keeps the last instance of each attribute type.
template <size_t N>
struct AttrTable {
  std::array<const nlattr*, N + 1> at{};
};

template <size_t N>
int collect_attr(const nlattr* attr, void* data) {
  auto* table = static_cast<AttrTable<N>*>(data);
  const uint16_t type = mnl_attr_get_type(attr);
  if (type <= N) table->at[type] = attr;
  return MNL_CB_OK;
}

std::optional<MacAddr> read_mac(const nlattr* attr) {
  if (!attr || mnl_attr_get_payload_len(attr) != 6) return std::nullopt;
  MacAddr mac;
  std::memcpy(mac.data(), mnl_attr_get_payload(attr), 6);
  return mac;
}

std::optional<IpAddr> read_addr(const nlattr* attr, int family) {
  if (!attr) return std::nullopt;
  const Family f = family == AF_INET ? Family::V4 : Family::V6;
  return IpAddr::from_bytes(
      f, {static_cast<const uint8_t*>(mnl_attr_get_payload(attr)), mnl_attr_get_payload_len(attr)});
}

// IFLA_INFO_DATA of a "vrf" link: the table its ports route in.
void read_vrf_data(const nlattr* data, LinkInfo& link) {
  if (!data || mnl_attr_validate(data, MNL_TYPE_NESTED) < 0) return;
  AttrTable<IFLA_VRF_MAX> vrf;
  if (mnl_attr_parse_nested(data, collect_attr<IFLA_VRF_MAX>, &vrf) < 0) return;
  if (const nlattr* t = vrf.at[IFLA_VRF_TABLE]; t && mnl_attr_validate(t, MNL_TYPE_U32) >= 0)
    link.vrf_table = mnl_attr_get_u32(t);
}

// A port with a master is routed by it (a VRF's table, a bridge's FDB, a
// bond's own address), not by the main table: the fast path needs both.
void read_master_and_kind(const AttrTable<IFLA_MAX>& attrs, LinkInfo& link) {
  if (const nlattr* a = attrs.at[IFLA_MASTER]; a && mnl_attr_validate(a, MNL_TYPE_U32) >= 0)
    link.master = mnl_attr_get_u32(a);
  const nlattr* info = attrs.at[IFLA_LINKINFO];
  if (!info || mnl_attr_validate(info, MNL_TYPE_NESTED) < 0) return;
  AttrTable<IFLA_INFO_MAX> nested;
  if (mnl_attr_parse_nested(info, collect_attr<IFLA_INFO_MAX>, &nested) < 0) return;
  if (const nlattr* k = nested.at[IFLA_INFO_KIND]; k && mnl_attr_validate(k, MNL_TYPE_STRING) >= 0)
    link.kind = std::string(
        static_cast<const char*>(mnl_attr_get_payload(k)),
        ::strnlen(static_cast<const char*>(mnl_attr_get_payload(k)), mnl_attr_get_payload_len(k)));
  if (link.kind == "vrf") read_vrf_data(nested.at[IFLA_INFO_DATA], link);
}

// A VLAN subinterface's parent, VID and tag protocol. IFLA_LINK names the parent
// for every stacked kind (and a veth's peer, maybe in another namespace): read it
// for "vlan" only, and not when IFLA_LINK_NETNSID says it is another namespace's.
void read_vlan(const AttrTable<IFLA_MAX>& attrs, LinkInfo& link) {
  if (link.kind != "vlan") return;
  const nlattr* info = attrs.at[IFLA_LINKINFO];
  if (!info || mnl_attr_validate(info, MNL_TYPE_NESTED) < 0) return;
  AttrTable<IFLA_INFO_MAX> nested;
  if (mnl_attr_parse_nested(info, collect_attr<IFLA_INFO_MAX>, &nested) < 0) return;
  const nlattr* data = nested.at[IFLA_INFO_DATA];
  if (!data || mnl_attr_validate(data, MNL_TYPE_NESTED) < 0) return;
  AttrTable<IFLA_VLAN_MAX> vlan_attrs;
  if (mnl_attr_parse_nested(data, collect_attr<IFLA_VLAN_MAX>, &vlan_attrs) < 0) return;
  const nlattr* id = vlan_attrs.at[IFLA_VLAN_ID];
  if (!id || mnl_attr_validate(id, MNL_TYPE_U16) < 0) return;
  VlanLinkInfo v;
  v.id = mnl_attr_get_u16(id);
  // Absent on kernels before 802.1ad support: 802.1Q was the only kind.
  v.protocol = 0x8100;
  if (const nlattr* p = vlan_attrs.at[IFLA_VLAN_PROTOCOL];
      p && mnl_attr_validate(p, MNL_TYPE_U16) >= 0)
    v.protocol = ntohs(mnl_attr_get_u16(p));  // __be16 on the wire
  if (const nlattr* q = vlan_attrs.at[IFLA_VLAN_EGRESS_QOS];
      q && mnl_attr_validate(q, MNL_TYPE_NESTED) >= 0) {
    // The kernel lists only mappings to a non-zero PCP: any entry is one.
    v.egress_qos = mnl_attr_get_payload_len(q) > 0;
  }
  const nlattr* parent = attrs.at[IFLA_LINK];
  if (parent && mnl_attr_validate(parent, MNL_TYPE_U32) >= 0 && !attrs.at[IFLA_LINK_NETNSID])
    v.parent = mnl_attr_get_u32(parent);
  link.vlan = v;
}

Result<std::optional<KernelEvent>> parse_link(const nlmsghdr* nlh) {
  if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(ifinfomsg))) return malformed("short ifinfomsg");
  const auto* ifi = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(nlh));
  // AF_BRIDGE messages describe a port's bridge state (the bridge sends
  // RTM_DELLINK for a port it releases): not the link, which stays.
  if (ifi->ifi_family == AF_BRIDGE) return std::optional<KernelEvent>{};
  AttrTable<IFLA_MAX> attrs;
  if (mnl_attr_parse(nlh, sizeof(ifinfomsg), collect_attr<IFLA_MAX>, &attrs) < 0)
    return malformed("bad link attributes");
  LinkInfo link;
  link.ifindex = static_cast<uint32_t>(ifi->ifi_index);
  link.is_loopback = ifi->ifi_type == ARPHRD_LOOPBACK;
  if (const nlattr* a = attrs.at[IFLA_IFNAME]; a && mnl_attr_validate(a, MNL_TYPE_NUL_STRING) >= 0)
    link.name = mnl_attr_get_str(a);
  if (auto mac = read_mac(attrs.at[IFLA_ADDRESS])) link.mac = *mac;
  if (const nlattr* a = attrs.at[IFLA_MTU]; a && mnl_attr_validate(a, MNL_TYPE_U32) >= 0)
    link.mtu = mnl_attr_get_u32(a);
  bool oper_up = (ifi->ifi_flags & IFF_LOWER_UP) != 0;
  if (const nlattr* a = attrs.at[IFLA_OPERSTATE]; a && mnl_attr_validate(a, MNL_TYPE_U8) >= 0) {
    const uint8_t oper = mnl_attr_get_u8(a);
    // veth reports IF_OPER_UP; some drivers stay IF_OPER_UNKNOWN while carrying traffic.
    oper_up = oper == IF_OPER_UP || (oper == IF_OPER_UNKNOWN && oper_up);
  }
  link.up = (ifi->ifi_flags & IFF_UP) && oper_up;
  read_master_and_kind(attrs, link);
  read_vlan(attrs, link);
  if (nlh->nlmsg_type == RTM_DELLINK) return std::optional<KernelEvent>{Removal<LinkInfo>{link}};
  return std::optional<KernelEvent>{Upsert<LinkInfo>{link}};
}

Result<std::optional<KernelEvent>> parse_neigh(const nlmsghdr* nlh) {
  if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(ndmsg))) return malformed("short ndmsg");
  const auto* ndm = static_cast<const ndmsg*>(mnl_nlmsg_get_payload(nlh));
  if (ndm->ndm_family != AF_INET && ndm->ndm_family != AF_INET6)
    return std::optional<KernelEvent>{};  // bridge FDB and friends
  AttrTable<NDA_MAX> attrs;
  if (mnl_attr_parse(nlh, sizeof(ndmsg), collect_attr<NDA_MAX>, &attrs) < 0)
    return malformed("bad neighbour attributes");
  auto addr = read_addr(attrs.at[NDA_DST], ndm->ndm_family);
  if (!addr) return malformed("neighbour without a valid NDA_DST");
  NeighInfo n;
  n.addr = *addr;
  n.ifindex = static_cast<uint32_t>(ndm->ndm_ifindex);
  n.nud = ndm->ndm_state;
  auto mac = read_mac(attrs.at[NDA_LLADDR]);
  if (mac) n.mac = *mac;
  n.state = classify_nud(ndm->ndm_state, mac.has_value());
  if (nlh->nlmsg_type == RTM_DELNEIGH) return std::optional<KernelEvent>{Removal<NeighInfo>{n}};
  return std::optional<KernelEvent>{Upsert<NeighInfo>{n}};
}

Result<std::optional<KernelEvent>> parse_addr(const nlmsghdr* nlh) {
  if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(ifaddrmsg))) return malformed("short ifaddrmsg");
  const auto* ifa = static_cast<const ifaddrmsg*>(mnl_nlmsg_get_payload(nlh));
  if (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6)
    return std::optional<KernelEvent>{};
  AttrTable<IFA_MAX> attrs;
  if (mnl_attr_parse(nlh, sizeof(ifaddrmsg), collect_attr<IFA_MAX>, &attrs) < 0)
    return malformed("bad address attributes");
  // IFA_LOCAL is the router's own address on point-to-point links; IFA_ADDRESS elsewhere.
  const nlattr* a = attrs.at[IFA_LOCAL] ? attrs.at[IFA_LOCAL] : attrs.at[IFA_ADDRESS];
  auto addr = read_addr(a, ifa->ifa_family);
  if (!addr) return malformed("address message without a valid IFA_LOCAL/IFA_ADDRESS");
  AddrInfo info{*addr, ifa->ifa_index, ifa->ifa_prefixlen};
  if (nlh->nlmsg_type == RTM_DELADDR) return std::optional<KernelEvent>{Removal<AddrInfo>{info}};
  return std::optional<KernelEvent>{Upsert<AddrInfo>{info}};
}

}  // namespace

std::string mac_to_string(const MacAddr& m) {
  return fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", m[0], m[1], m[2], m[3], m[4],
                     m[5]);
}

NeighState classify_nud(uint16_t nud, bool has_lladdr) {
  constexpr uint16_t usable =
      NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT | NUD_NOARP;
  // The kernel sends no NDA_LLADDR with FAILED: decide on the state alone.
  if (nud & NUD_FAILED) return NeighState::Failed;
  // A usable state without a link-layer address (NOARP on a point-to-point link) gives
  // no MAC to write, so the fast path cannot use it.
  if ((nud & usable) && has_lladdr) return NeighState::Usable;
  return NeighState::Unresolved;
}

Result<std::optional<KernelEvent>> parse_kernel_message(std::span<const uint8_t> bytes) {
  if (bytes.size() < sizeof(nlmsghdr)) return malformed("short netlink header");
  const auto* nlh = reinterpret_cast<const nlmsghdr*>(bytes.data());
  if (nlh->nlmsg_len < sizeof(nlmsghdr) || nlh->nlmsg_len > bytes.size())
    return malformed(
        fmt::format("nlmsg_len {} does not fit {} bytes", nlh->nlmsg_len, bytes.size()));
  switch (nlh->nlmsg_type) {
    case RTM_NEWLINK:
    case RTM_DELLINK:
      return parse_link(nlh);
    case RTM_NEWNEIGH:
    case RTM_DELNEIGH:
      return parse_neigh(nlh);
    case RTM_NEWADDR:
    case RTM_DELADDR:
      return parse_addr(nlh);
    case RTM_NEWNETCONF:
    case RTM_DELNETCONF: {
      auto change = parse_netconf(nlh);
      if (!change) return change.error();
      if (!*change) return std::optional<KernelEvent>{};
      if ((*change)->removed)
        return std::optional<KernelEvent>{Removal<ForwardingInfo>{(*change)->info}};
      return std::optional<KernelEvent>{Upsert<ForwardingInfo>{(*change)->info}};
    }
    case RTM_NEWRULE:
    case RTM_DELRULE: {
      auto change = parse_rule(nlh);
      if (!change) return change.error();
      if (!*change) return std::optional<KernelEvent>{};
      if ((*change)->removed)
        return std::optional<KernelEvent>{Removal<RuleInfo>{std::move((*change)->info)}};
      return std::optional<KernelEvent>{Upsert<RuleInfo>{std::move((*change)->info)}};
    }
    default:
      return std::optional<KernelEvent>{};
  }
}

}  // namespace fpm_sink
