#include "kernel/rule_events.hpp"

#include <fmt/format.h>
#include <libmnl/libmnl.h>
#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <cstring>

namespace fpm_sink {
namespace {

// What the kernel reports for a suppress_prefixlength / suppress_ifgroup
// that was never set (fib_nl_fill_rule always puts the prefix length).
constexpr uint32_t kSuppressUnset = 0xffffffff;
// Flags that only say how the kernel resolved the rule right now.
constexpr uint32_t kStateFlags =
    FIB_RULE_UNRESOLVED | FIB_RULE_IIF_DETACHED | FIB_RULE_OIF_DETACHED;

Error malformed(std::string what) {
  return Error{"kernel.nl.malformed", std::move(what)};
}

struct Walk {
  RuleInfo* rule;
  bool l3mdev = false;
  std::optional<uint32_t> table;
};

bool valid_u32(const nlattr* a) {
  return mnl_attr_validate(a, MNL_TYPE_U32) >= 0;
}
bool valid_u8(const nlattr* a) {
  return mnl_attr_validate(a, MNL_TYPE_U8) >= 0;
}

// Records the first reason the rule is not standard.
void not_standard(RuleInfo& r, std::string why) {
  if (r.nonstandard.empty()) r.nonstandard = std::move(why);
}

int visit(const nlattr* a, Walk* walk) {
  Walk& w = *walk;
  RuleInfo& r = *w.rule;
  const uint16_t type = mnl_attr_get_type(a);
  switch (type) {
    case FRA_TABLE:
      if (!valid_u32(a)) return MNL_CB_ERROR;
      w.table = mnl_attr_get_u32(a);
      break;
    case FRA_PRIORITY:
      if (!valid_u32(a)) return MNL_CB_ERROR;
      r.priority = mnl_attr_get_u32(a);
      break;
    case FRA_PROTOCOL:  // who installed it: selects nothing
      if (!valid_u8(a)) return MNL_CB_ERROR;
      break;
    case FRA_PAD:
      break;
    case FRA_SUPPRESS_PREFIXLEN:
    case FRA_SUPPRESS_IFGROUP:
      if (!valid_u32(a)) return MNL_CB_ERROR;
      if (mnl_attr_get_u32(a) != kSuppressUnset)
        not_standard(r,
                     type == FRA_SUPPRESS_PREFIXLEN ? "suppress_prefixlength" : "suppress_ifgroup");
      break;
    case FRA_FWMARK:
    case FRA_FWMASK:
      if (!valid_u32(a)) return MNL_CB_ERROR;
      if (mnl_attr_get_u32(a) != 0) not_standard(r, "fwmark");
      break;
    case FRA_L3MDEV:
      if (!valid_u8(a)) return MNL_CB_ERROR;
      w.l3mdev = mnl_attr_get_u8(a) != 0;
      break;
    case FRA_DST:
      not_standard(r, "to (destination prefix)");
      break;
    case FRA_SRC:
      not_standard(r, "from (source prefix)");
      break;
    case FRA_IIFNAME: {
      const auto* name = static_cast<const char*>(mnl_attr_get_payload(a));
      r.only_iif.assign(name, strnlen(name, mnl_attr_get_payload_len(a)));
      not_standard(r, "iif " + r.only_iif);
      break;
    }
    case FRA_OIFNAME:
      not_standard(r, "oif");
      break;
    case FRA_GOTO:
      not_standard(r, "goto");
      break;
    case FRA_FLOW:
      not_standard(r, "realms");
      break;
    case FRA_TUN_ID:
      not_standard(r, "tun_id");
      break;
    case FRA_UID_RANGE:
      not_standard(r, "uidrange");
      break;
    case FRA_IP_PROTO:
      not_standard(r, "ipproto");
      break;
    case FRA_SPORT_RANGE:
      not_standard(r, "sport");
      break;
    case FRA_DPORT_RANGE:
      not_standard(r, "dport");
      break;
    default:
      // A newer kernel's selector (dscp, flowlabel, port masks...) looks
      // like this: assume it selects.
      not_standard(r, fmt::format("attribute {} not understood", type));
      break;
  }
  return MNL_CB_OK;
}

const char* action_name(uint8_t action) {
  switch (action) {
    case FR_ACT_GOTO:
      return "goto";
    case FR_ACT_NOP:
      return "nop";
    case FR_ACT_BLACKHOLE:
      return "blackhole";
    case FR_ACT_UNREACHABLE:
      return "unreachable";
    case FR_ACT_PROHIBIT:
      return "prohibit";
    default:
      return "unknown action";
  }
}

}  // namespace

Result<std::optional<RuleChange>> parse_rule(const nlmsghdr* nlh) {
  if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(fib_rule_hdr))) return malformed("short fib_rule_hdr");
  // The attribute walk runs to the aligned end: it must be the message's end.
  if (nlh->nlmsg_len != MNL_ALIGN(nlh->nlmsg_len)) return malformed("unaligned rule message");
  const auto* frh = static_cast<const fib_rule_hdr*>(mnl_nlmsg_get_payload(nlh));
  if (frh->family != AF_INET && frh->family != AF_INET6) return std::optional<RuleChange>{};

  RuleChange change;
  change.removed = nlh->nlmsg_type == RTM_DELRULE;
  RuleInfo& r = change.info;
  r.family = frh->family == AF_INET ? Family::V4 : Family::V6;
  r.action = frh->action;
  Walk walk{&r};
  // mnl_attr_parse stops quietly at an attribute that overruns the message:
  // a rule read in part could look standard, so the walk must reach the end.
  const auto* tail = static_cast<const char*>(mnl_nlmsg_get_payload_tail(nlh));
  const auto* attr =
      static_cast<const nlattr*>(mnl_nlmsg_get_payload_offset(nlh, sizeof(fib_rule_hdr)));
  while (mnl_attr_ok(attr, static_cast<int>(tail - reinterpret_cast<const char*>(attr)))) {
    if (visit(attr, &walk) != MNL_CB_OK) return malformed("bad rule attribute length");
    attr = static_cast<const nlattr*>(mnl_attr_next(attr));
  }
  if (reinterpret_cast<const char*>(attr) != tail) return malformed("truncated rule attribute");
  r.table = walk.table.value_or(frh->table);

  if (frh->dst_len != 0) not_standard(r, "to (destination prefix)");
  if (frh->src_len != 0) not_standard(r, "from (source prefix)");
  if (frh->tos != 0) not_standard(r, "tos");
  if (frh->flags & FIB_RULE_INVERT) {
    not_standard(r, "not (inverted)");
    r.only_iif.clear();  // "not iif X" matches every other interface
  }
  if (frh->flags & ~(FIB_RULE_PERMANENT | FIB_RULE_INVERT | kStateFlags))
    not_standard(r, fmt::format("flags {:#x}", frh->flags));
  if (frh->action != FR_ACT_TO_TBL)
    not_standard(r, action_name(frh->action));
  else if (!walk.l3mdev && r.table != RT_TABLE_LOCAL && r.table != RT_TABLE_MAIN &&
           r.table != RT_TABLE_DEFAULT)
    not_standard(r, fmt::format("lookup table {}", r.table));

  const auto* payload = static_cast<const uint8_t*>(mnl_nlmsg_get_payload(nlh));
  r.key.assign(payload, payload + mnl_nlmsg_get_payload_len(nlh));
  fib_rule_hdr keyed;
  std::memcpy(&keyed, r.key.data(), sizeof keyed);
  keyed.flags &= ~kStateFlags;
  std::memcpy(r.key.data(), &keyed, sizeof keyed);
  return std::optional<RuleChange>{std::move(change)};
}

}  // namespace fpm_sink
