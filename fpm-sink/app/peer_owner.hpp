// Who owns the other end of a local TCP connection. The FPM peer must be zebra;
// the kernel knows the owner of the peer's socket and tells it to anyone who
// asks through NETLINK_SOCK_DIAG (inet_diag), without privileges.
#pragma once

#include <sys/types.h>

#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <string_view>
#include <variant>

namespace fpm_sink {

enum class PeerOwnerError : uint8_t {
  Netlink,   // the sock_diag socket could not be opened, written or read
  NotFound,  // no socket in this namespace has the peer's 4-tuple: a remote peer
  BadReply,  // the kernel answered with something that is not an inet_diag_msg
};
std::string_view peer_owner_error_name(PeerOwnerError e);

// The uid owning the socket at `peer` that is connected to `local` (the two
// ends of an accepted socket, as seen from the server). IPv4-mapped IPv6
// addresses are looked up as IPv4, where the peer's socket lives.
std::variant<uid_t, PeerOwnerError> find_peer_owner(const boost::asio::ip::tcp::endpoint& local,
                                                    const boost::asio::ip::tcp::endpoint& peer);

}  // namespace fpm_sink
