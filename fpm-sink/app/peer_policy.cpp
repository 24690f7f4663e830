#include "app/peer_policy.hpp"

#include <pwd.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>

namespace fpm_sink {
namespace {

using boost::asio::ip::address;

address unmapped(const address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped())
    return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, a.to_v6());
  return a;
}

// The uid of a user name or a numeric uid; error if neither.
Result<uid_t> resolve_user(const std::string& text) {
  uid_t uid = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), uid);
  if (ec == std::errc() && end == text.data() + text.size() && !text.empty()) return uid;
  if (const passwd* pw = getpwnam(text.c_str())) return pw->pw_uid;
  return Error{"app.options.bad_allow_user", "no such user '" + text + "'"};
}

}  // namespace

std::string_view peer_verdict_name(PeerVerdict v) {
  switch (v) {
    case PeerVerdict::Allowed:
      return "allowed";
    case PeerVerdict::RefusedAddress:
      return "address_not_allowed";
    case PeerVerdict::RefusedUser:
      return "user_not_allowed";
    case PeerVerdict::RefusedUnknownOwner:
      return "owner_unknown";
  }
  return "unknown";
}

PeerVerdict decide_peer(const PeerPolicy& policy, const address& peer,
                        const std::variant<uid_t, PeerOwnerError>& owner) {
  const address a = unmapped(peer);
  const bool listed = std::any_of(policy.allowed_peers.begin(), policy.allowed_peers.end(),
                                  [&](const address& p) { return unmapped(p) == a; });
  if (!policy.allowed_peers.empty() && !listed) return PeerVerdict::RefusedAddress;
  if (const auto* uid = std::get_if<uid_t>(&owner)) {
    const auto& ok = policy.allowed_uids;
    return std::find(ok.begin(), ok.end(), *uid) != ok.end() ? PeerVerdict::Allowed
                                                             : PeerVerdict::RefusedUser;
  }
  // No local socket has the peer's 4-tuple: a remote peer, vouched for only by
  // the address list. Any other lookup failure fails closed.
  if (std::get<PeerOwnerError>(owner) == PeerOwnerError::NotFound && listed)
    return PeerVerdict::Allowed;
  return PeerVerdict::RefusedUnknownOwner;
}

PeerCheck check_peer(const PeerPolicy& policy, const boost::asio::ip::tcp::socket& socket) {
  boost::system::error_code ec1, ec2;
  const auto local = socket.local_endpoint(ec1);
  const auto remote = socket.remote_endpoint(ec2);
  if (ec1 || ec2) return {PeerVerdict::RefusedUnknownOwner, "endpoints unknown"};
  const auto owner = find_peer_owner(local, remote);
  PeerCheck check;
  check.verdict = decide_peer(policy, remote.address(), owner);
  if (const auto* uid = std::get_if<uid_t>(&owner)) {
    check.detail = "uid=" + std::to_string(*uid);
  } else {
    check.detail = "owner=" + std::string(peer_owner_error_name(std::get<PeerOwnerError>(owner)));
  }
  return check;
}

Result<PeerPolicy> make_peer_policy(const std::vector<std::string>& users,
                                    const std::vector<std::string>& peers) {
  PeerPolicy policy;
  policy.allowed_uids.clear();
  if (users.empty()) {
    policy.allowed_uids.push_back(0);
    if (const passwd* pw = getpwnam("frr")) {
      policy.allowed_uids.push_back(pw->pw_uid);
    } else {
      spdlog::warn("fpm.allow_user.no_frr no 'frr' user: only root may connect over FPM");
    }
  }
  for (const auto& u : users) {
    auto uid = resolve_user(u);
    if (!uid) return uid.error();
    policy.allowed_uids.push_back(*uid);
  }
  for (const auto& p : peers) {
    boost::system::error_code ec;
    const auto a = boost::asio::ip::make_address(p, ec);
    if (ec) return Error{"app.options.bad_allow_peer", "not an IP address: '" + p + "'"};
    policy.allowed_peers.push_back(a);
  }
  return policy;
}

}  // namespace fpm_sink
