#include "control/format.hpp"

#include <ctime>

namespace fpm_sink::control {

std::string_view family_name(control::Family f) {
  switch (f) {
    case FAMILY_IPV4:
      return "ipv4";
    case FAMILY_IPV6:
      return "ipv6";
    default:
      return "unspec";
  }
}

std::string_view state_name(control::EntryState s) {
  switch (s) {
    case ENTRY_STATE_INSTALLED:
      return "installed";
    case ENTRY_STATE_PENDING:
      return "pending";
    default:
      return "unknown";
  }
}

std::string_view route_type_name(control::RouteType t) {
  switch (t) {
    case ROUTE_TYPE_UNICAST:
      return "unicast";
    case ROUTE_TYPE_BLACKHOLE:
      return "blackhole";
    case ROUTE_TYPE_UNREACHABLE:
      return "unreachable";
    case ROUTE_TYPE_PROHIBIT:
      return "prohibit";
    case ROUTE_TYPE_LOCAL:
      return "local";
    default:
      return "other";
  }
}

std::string_view session_state_name(SessionState s) {
  return s == SESSION_STATE_CONNECTED ? "connected" : "listening";
}

std::string_view replay_state_name(ReplayState s) {
  switch (s) {
    case REPLAY_STATE_REPLAYING:
      return "replaying";
    case REPLAY_STATE_SETTLED:
      return "settled";
    default:
      return "idle";
  }
}

std::string_view hold_state_name(HoldState s) {
  switch (s) {
    case HOLD_STATE_HOLDING:
      return "holding";
    case HOLD_STATE_EXPIRED:
      return "expired";
    default:
      return "running";
  }
}

std::string_view offload_name(Offload o) {
  switch (o) {
    case OFFLOAD_INSTALLED:
      return "installed";
    case OFFLOAD_FAILED:
      return "failed";
    case OFFLOAD_NOT_OFFLOADED:
      return "not_offloaded";
    default:
      return "";
  }
}

std::string_view nexthop_state_name(NexthopState s) {
  switch (s) {
    case NEXTHOP_STATE_VALID:
      return "valid";
    case NEXTHOP_STATE_FAILED:
      return "failed";
    case NEXTHOP_STATE_UNRESOLVED:
      return "unresolved";
    default:
      return "";
  }
}

std::string_view attach_mode_name(AttachMode m) {
  switch (m) {
    case ATTACH_MODE_NATIVE:
      return "native";
    case ATTACH_MODE_GENERIC:
      return "generic";
    default:
      return "none";
  }
}

std::string interface_text(const std::string& name, uint32_t ifindex) {
  if (ifindex == 0) return "-";
  if (name.empty()) return "ifindex " + std::to_string(ifindex);
  return name + " (" + std::to_string(ifindex) + ")";
}

std::string unix_time_text(uint64_t seconds) {
  if (seconds == 0) return "never";
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace fpm_sink::control
