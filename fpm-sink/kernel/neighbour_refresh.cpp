#include "kernel/neighbour_refresh.hpp"

#include <libmnl/libmnl.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <cstring>

namespace fpm_sink {

NeighbourRefresher::NeighbourRefresher(boost::asio::io_context& io, NeighbourRefreshOptions options,
                                       Targets targets)
    : io_(io), options_(options), schedule_(options, std::move(targets)), timer_(io) {}

NeighbourRefresher::~NeighbourRefresher() {
  stop();
}

void NeighbourRefresher::stop() {
  timer_.cancel();
  if (sock_) {
    mnl_socket_close(sock_);
    sock_ = nullptr;
  }
}

Status NeighbourRefresher::start() {
  sock_ = mnl_socket_open2(NETLINK_ROUTE, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (!sock_ || mnl_socket_bind(sock_, 0, MNL_SOCKET_AUTOPID) < 0) {
    const int e = errno;
    return Error{"kernel.neigh_refresh.socket",
                 std::string("open rtnetlink socket: ") + std::strerror(e), e};
  }
  if (options_.period.count() > 0) arm();
  return ok_status();
}

void NeighbourRefresher::arm() {
  timer_.expires_after(options_.tick);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    send(schedule_.tick());
    arm();
  });
}

size_t NeighbourRefresher::refresh_some(size_t budget) {
  return send(schedule_.take(budget));
}

size_t NeighbourRefresher::send(const std::vector<Key>& keys) {
  size_t sent = 0;
  for (const Key& key : keys) sent += mark_used(key).ok();
  drain_replies();
  return sent;
}

bool worth_refreshing(uint16_t nud) {
  return (nud & (NUD_PERMANENT | NUD_NOARP)) == 0;
}

Status NeighbourRefresher::mark_used(const Key& key) {
  if (!sock_) return Error{"kernel.neigh_refresh.socket", "not started"};
  std::array<uint8_t, 128> buf{};
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
  nlh->nlmsg_type = RTM_NEWNEIGH;
  // No NLM_F_CREATE: an entry the kernel dropped is not recreated here; the
  // kernel resolves it again when the next hop (unresolved, punting) is used.
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_REPLACE;
  nlh->nlmsg_seq = ++seq_;
  auto* ndm = static_cast<ndmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ndmsg)));
  const auto& [addr, ifindex] = key;
  ndm->ndm_family = addr.family == Family::V4 ? AF_INET : AF_INET6;
  ndm->ndm_ifindex = static_cast<int>(ifindex);
  ndm->ndm_flags = NTF_USE;  // neigh_event_send(): "used", the state is left to the kernel
  mnl_attr_put(nlh, NDA_DST, addr.family == Family::V4 ? 4 : 16, addr.bytes.data());
  if (mnl_socket_sendto(sock_, nlh, nlh->nlmsg_len) < 0) {
    const int e = errno;
    return Error{"kernel.neigh_refresh.send", std::strerror(e), e};
  }
  ++sent_;
  return ok_status();
}

// rtnetlink handles the request inside sendto(), so its errors are queued by now.
void NeighbourRefresher::drain_replies() {
  std::array<uint8_t, 8192> buf;
  uint64_t rejected = 0;
  int last_error = 0;
  for (;;) {
    const ssize_t n = recv(mnl_socket_get_fd(sock_), buf.data(), buf.size(), MSG_DONTWAIT);
    if (n <= 0) break;
    int len = static_cast<int>(n);
    for (auto* nlh = reinterpret_cast<const nlmsghdr*>(buf.data()); mnl_nlmsg_ok(nlh, len);
         nlh = mnl_nlmsg_next(nlh, &len)) {
      if (nlh->nlmsg_type != NLMSG_ERROR) continue;
      const auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
      // ENOENT: the entry went away since the round started; the mirror hears of it.
      if (err->error == 0 || err->error == -ENOENT) continue;
      ++rejected;
      last_error = -err->error;
    }
  }
  if (rejected > 0) {
    rejected_ += rejected;
    // At most one line per tick, however many were refused.
    spdlog::warn("kernel.neigh_refresh.rejected count={} last_error={}", rejected,
                 std::strerror(last_error));
  }
}

}  // namespace fpm_sink
