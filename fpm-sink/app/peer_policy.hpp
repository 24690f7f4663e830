// Who may feed the FIB: an FPM peer is admitted only if its socket belongs to
// an allowed user (zebra runs as frr, or root) and, when fpm-sink listens on a
// non-loopback address, only if its address is on the allow-list. For a remote
// peer the kernel cannot name the owner: the address list is then the check.
#pragma once

#include <sys/types.h>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "app/peer_owner.hpp"
#include "common/result.hpp"

namespace fpm_sink {

struct PeerPolicy {
  std::vector<uid_t> allowed_uids{0};                   // root only unless configured
  std::vector<boost::asio::ip::address> allowed_peers;  // empty: any (loopback listen only)
};

enum class PeerVerdict : uint8_t {
  Allowed,
  RefusedAddress,       // not on --fpm-allow-peer
  RefusedUser,          // local socket of a user not on --fpm-allow-user
  RefusedUnknownOwner,  // owner unknown and no address list vouches for the peer
};
std::string_view peer_verdict_name(PeerVerdict v);

// The decision alone, on the peer's address and what sock_diag said of its owner.
PeerVerdict decide_peer(const PeerPolicy& policy, const boost::asio::ip::address& peer,
                        const std::variant<uid_t, PeerOwnerError>& owner);

struct PeerCheck {
  PeerVerdict verdict = PeerVerdict::RefusedUnknownOwner;
  std::string detail;  // "uid=65534", "owner=not_found": for the log line
};
// Looks the owner of an accepted socket up and decides.
PeerCheck check_peer(const PeerPolicy& policy, const boost::asio::ip::tcp::socket& socket);

// Builds the policy from --fpm-allow-user (NAME or UID; empty: root and the
// frr user if it exists) and --fpm-allow-peer (IP addresses).
// Errors: app.options.bad_allow_user, app.options.bad_allow_peer.
Result<PeerPolicy> make_peer_policy(const std::vector<std::string>& users,
                                    const std::vector<std::string>& peers);

}  // namespace fpm_sink
