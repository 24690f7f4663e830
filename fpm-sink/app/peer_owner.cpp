#include "app/peer_owner.hpp"

#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

namespace fpm_sink {
namespace {

using boost::asio::ip::address;

address unmapped(const address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped())
    return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, a.to_v6());
  return a;
}

void put_address(const address& a, __be32 out[4]) {
  std::memset(out, 0, 4 * sizeof(__be32));
  if (a.is_v4()) {
    const auto b = a.to_v4().to_bytes();
    std::memcpy(out, b.data(), b.size());
  } else {
    const auto b = a.to_v6().to_bytes();
    std::memcpy(out, b.data(), b.size());
  }
}

struct MnlCloser {
  void operator()(mnl_socket* s) const { mnl_socket_close(s); }
};

struct ReplyState {
  bool found = false;
  bool short_reply = false;
  uid_t uid = 0;
};

int on_reply(const nlmsghdr* nlh, void* data) {
  if (nlh->nlmsg_type != SOCK_DIAG_BY_FAMILY) return MNL_CB_OK;
  auto* st = static_cast<ReplyState*>(data);
  if (mnl_nlmsg_get_payload_len(nlh) < sizeof(inet_diag_msg)) {
    st->short_reply = true;
    return MNL_CB_ERROR;
  }
  const auto* msg = static_cast<const inet_diag_msg*>(mnl_nlmsg_get_payload(nlh));
  st->found = true;
  st->uid = msg->idiag_uid;
  return MNL_CB_OK;
}

}  // namespace

std::string_view peer_owner_error_name(PeerOwnerError e) {
  switch (e) {
    case PeerOwnerError::Netlink:
      return "netlink";
    case PeerOwnerError::NotFound:
      return "not_found";
    case PeerOwnerError::BadReply:
      return "bad_reply";
  }
  return "unknown";
}

std::variant<uid_t, PeerOwnerError> find_peer_owner(const boost::asio::ip::tcp::endpoint& local,
                                                    const boost::asio::ip::tcp::endpoint& peer) {
  const address peer_addr = unmapped(peer.address());
  const address local_addr = unmapped(local.address());
  if (peer_addr.is_v4() != local_addr.is_v4()) return PeerOwnerError::NotFound;

  std::unique_ptr<mnl_socket, MnlCloser> sock(mnl_socket_open2(NETLINK_SOCK_DIAG, SOCK_CLOEXEC));
  if (!sock || mnl_socket_bind(sock.get(), 0, MNL_SOCKET_AUTOPID) < 0)
    return PeerOwnerError::Netlink;

  std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
  nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
  // No NLM_F_DUMP: an exact lookup of one socket (inet_diag_find_one_icsk).
  nlh->nlmsg_flags = NLM_F_REQUEST;
  const uint32_t seq = 1;
  nlh->nlmsg_seq = seq;
  auto* req =
      static_cast<inet_diag_req_v2*>(mnl_nlmsg_put_extra_header(nlh, sizeof(inet_diag_req_v2)));
  req->sdiag_family = peer_addr.is_v4() ? AF_INET : AF_INET6;
  req->sdiag_protocol = IPPROTO_TCP;
  req->idiag_states = ~0u;
  // The peer's socket, seen from its side: its source is our peer, its
  // destination is our local end.
  req->id.idiag_sport = htons(peer.port());
  req->id.idiag_dport = htons(local.port());
  put_address(peer_addr, req->id.idiag_src);
  put_address(local_addr, req->id.idiag_dst);
  req->id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
  req->id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;

  if (mnl_socket_sendto(sock.get(), nlh, nlh->nlmsg_len) < 0) return PeerOwnerError::Netlink;
  const unsigned portid = mnl_socket_get_portid(sock.get());
  ReplyState st;
  for (;;) {
    const ssize_t n = mnl_socket_recvfrom(sock.get(), buf.data(), buf.size());
    if (n < 0) return PeerOwnerError::Netlink;
    const int rc = mnl_cb_run(buf.data(), static_cast<size_t>(n), seq, portid, on_reply, &st);
    if (rc == MNL_CB_ERROR) {
      if (st.short_reply) return PeerOwnerError::BadReply;
      // mnl_cb_run turns the kernel's NLMSG_ERROR into errno.
      return errno == ENOENT ? PeerOwnerError::NotFound : PeerOwnerError::Netlink;
    }
    if (st.found) return st.uid;
    if (rc == MNL_CB_STOP) return PeerOwnerError::NotFound;
  }
}

}  // namespace fpm_sink
