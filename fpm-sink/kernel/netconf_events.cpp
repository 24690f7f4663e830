#include "kernel/netconf_events.hpp"

#include <libmnl/libmnl.h>
#include <linux/netconf.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <array>

namespace fpm_sink {
namespace {

Error malformed(std::string what) {
  return Error{"kernel.nl.malformed", std::move(what)};
}

int collect(const nlattr* attr, void* data) {
  auto* table = static_cast<std::array<const nlattr*, NETCONFA_MAX + 1>*>(data);
  const uint16_t type = mnl_attr_get_type(attr);
  if (type <= NETCONFA_MAX) (*table)[type] = attr;
  return MNL_CB_OK;
}

}  // namespace

Result<std::optional<NetconfChange>> parse_netconf(const nlmsghdr* nlh) {
  if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(netconfmsg))) return malformed("short netconfmsg");
  const auto* ncm = static_cast<const netconfmsg*>(mnl_nlmsg_get_payload(nlh));
  if (ncm->ncm_family != AF_INET && ncm->ncm_family != AF_INET6)
    return std::optional<NetconfChange>{};
  std::array<const nlattr*, NETCONFA_MAX + 1> attrs{};
  if (mnl_attr_parse(nlh, sizeof(netconfmsg), collect, &attrs) < 0)
    return malformed("bad netconf attributes");
  const nlattr* index = attrs[NETCONFA_IFINDEX];
  if (!index || mnl_attr_validate(index, MNL_TYPE_U32) < 0)
    return malformed("netconf message without a valid NETCONFA_IFINDEX");
  NetconfChange change;
  change.info.family = ncm->ncm_family == AF_INET ? Family::V4 : Family::V6;
  change.info.ifindex = static_cast<int32_t>(mnl_attr_get_u32(index));
  const bool all = change.info.ifindex == NETCONFA_IFINDEX_ALL;
  if (change.info.ifindex <= 0 && !all) return std::optional<NetconfChange>{};
  if (all && change.info.family == Family::V4) return std::optional<NetconfChange>{};
  if (nlh->nlmsg_type == RTM_DELNETCONF) {
    change.removed = true;
    return std::optional<NetconfChange>{change};
  }
  const nlattr* fwd = attrs[NETCONFA_FORWARDING];
  if (!fwd) return std::optional<NetconfChange>{};  // another setting changed
  if (mnl_attr_validate(fwd, MNL_TYPE_U32) < 0) return malformed("bad NETCONFA_FORWARDING");
  change.info.forwarding = mnl_attr_get_u32(fwd) != 0;
  return std::optional<NetconfChange>{change};
}

}  // namespace fpm_sink
