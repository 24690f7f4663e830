#include "kernel/kernel_mirror.hpp"

#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <boost/asio/post.hpp>
#include <cerrno>
#include <cstring>
#include <ctime>

namespace fpm_sink {
namespace {

constexpr size_t kRecvBuffer = 1 << 16;

Error sys_error(const char* id, const char* what) {
  const int e = errno;
  return Error{id, std::string(what) + ": " + std::strerror(e), e};
}

}  // namespace

KernelMirror::KernelMirror(boost::asio::io_context& io, KernelState& state)
    : io_(io), state_(state), buf_(kRecvBuffer) {}

KernelMirror::~KernelMirror() {
  stop();
}

void KernelMirror::stop() {
  if (watcher_) {
    watcher_->release();  // the mnl socket owns the fd
    watcher_.reset();
  }
  if (events_) {
    mnl_socket_close(events_);
    events_ = nullptr;
  }
}

Status KernelMirror::start() {
  events_ = mnl_socket_open2(NETLINK_ROUTE, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (!events_) return sys_error("kernel.socket", "open rtnetlink event socket");
  // A large receive buffer makes lost events (ENOBUFS) rare on busy neighbour tables.
  int rcvbuf = 4 << 20;
  setsockopt(mnl_socket_get_fd(events_), SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf);
  const unsigned groups = RTMGRP_LINK | RTMGRP_NEIGH | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR;
  if (mnl_socket_bind(events_, groups, MNL_SOCKET_AUTOPID) < 0)
    return sys_error("kernel.socket", "bind rtnetlink groups");
  // The netconf groups have no legacy RTMGRP_* bit, and IPv6's rule group
  // none at all: join them by number.
  for (int group :
       {RTNLGRP_IPV4_NETCONF, RTNLGRP_IPV6_NETCONF, RTNLGRP_IPV4_RULE, RTNLGRP_IPV6_RULE})
    if (mnl_socket_setsockopt(events_, NETLINK_ADD_MEMBERSHIP, &group, sizeof group) < 0)
      return sys_error("kernel.socket", "join rtnetlink netconf / rule group");
  // Subscribe before dumping: an event racing with the dump is then applied after it,
  // and events arrive in order, so the state converges to the newest.
  if (auto st = dump(); !st) return st;
  watcher_ =
      std::make_unique<boost::asio::posix::stream_descriptor>(io_, mnl_socket_get_fd(events_));
  arm();
  return ok_status();
}

Status KernelMirror::dump() {
  mnl_socket* s = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
  if (!s) return sys_error("kernel.dump", "open rtnetlink dump socket");
  std::unique_ptr<mnl_socket, int (*)(mnl_socket*)> guard(s, mnl_socket_close);
  if (mnl_socket_bind(s, 0, MNL_SOCKET_AUTOPID) < 0) return sys_error("kernel.dump", "bind");
  const unsigned portid = mnl_socket_get_portid(s);

  // Forwarding switches and policy rules first: a port attached while the
  // link dump is read then gets its final fpm_ifaces entry at once (no
  // punting moment on a warm restart, no forwarding one past a rule).
  struct Request {
    uint16_t type;
    uint8_t family;
  };
  static constexpr Request kDumps[] = {{RTM_GETNETCONF, AF_INET}, {RTM_GETNETCONF, AF_INET6},
                                       {RTM_GETRULE, AF_INET},    {RTM_GETRULE, AF_INET6},
                                       {RTM_GETLINK, AF_UNSPEC},  {RTM_GETADDR, AF_UNSPEC},
                                       {RTM_GETNEIGH, AF_UNSPEC}};
  uint32_t seq = static_cast<uint32_t>(time(nullptr));
  for (const auto [type, family] : kDumps) {
    std::array<uint8_t, 256> req{};
    nlmsghdr* nlh = mnl_nlmsg_put_header(req.data());
    nlh->nlmsg_type = type;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    nlh->nlmsg_seq = ++seq;
    // rtgenmsg and netconfmsg are both one family byte; a rule dump reads
    // the family from the first byte of fib_rule_hdr, the rest is zero.
    auto* gen = static_cast<rtgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(rtgenmsg)));
    gen->rtgen_family = family;
    if (mnl_socket_sendto(s, nlh, nlh->nlmsg_len) < 0) return sys_error("kernel.dump", "send");

    auto cb = [](const nlmsghdr* msg, void* self) -> int {
      static_cast<KernelMirror*>(self)->handle(
          {reinterpret_cast<const uint8_t*>(msg), msg->nlmsg_len});
      return MNL_CB_OK;
    };
    for (;;) {
      const ssize_t n = mnl_socket_recvfrom(s, buf_.data(), buf_.size());
      if (n < 0) return sys_error("kernel.dump", "recv");
      const int rc = mnl_cb_run(buf_.data(), static_cast<size_t>(n), seq, portid, cb, this);
      if (rc == MNL_CB_STOP) break;
      if (rc < 0) return sys_error("kernel.dump", "dump reply");
    }
  }
  return ok_status();
}

void KernelMirror::arm() {
  if (!watcher_) return;
  watcher_->async_wait(boost::asio::posix::stream_descriptor::wait_read,
                       [this](const boost::system::error_code& ec) {
                         if (ec) return;  // cancelled at shutdown
                         drain();
                         arm();
                       });
}

void KernelMirror::drain() {
  for (;;) {
    const ssize_t n = recv(mnl_socket_get_fd(events_), buf_.data(), buf_.size(), 0);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      if (errno == ENOBUFS) {
        ++stats_.resyncs;
        spdlog::warn(
            "kernel.events.lost: rtnetlink overrun, dumping forwarding switches, policy rules, "
            "links, addresses and neighbours again");
        state_.begin_resync();
        if (auto st = dump(); !st) {
          state_.abort_resync();
          spdlog::error("{}", st.error().to_string());
        } else {
          state_.end_resync();  // what the dump no longer lists vanished while we were deaf
        }
        continue;
      }
      spdlog::error("kernel.events.recv: {}", std::strerror(errno));
      return;
    }
    int len = static_cast<int>(n);  // recv() into a 64 KiB buffer: fits an int
    for (auto* nlh = reinterpret_cast<const nlmsghdr*>(buf_.data()); mnl_nlmsg_ok(nlh, len);
         nlh = mnl_nlmsg_next(nlh, &len))
      handle({reinterpret_cast<const uint8_t*>(nlh), nlh->nlmsg_len});
  }
}

void KernelMirror::handle(std::span<const uint8_t> msg) {
  auto parsed = parse_kernel_message(msg);
  if (!parsed) {
    ++stats_.malformed;
    spdlog::warn("{}", parsed.error().to_string());
    return;
  }
  if (!parsed->has_value()) return;
  ++stats_.events;
  state_.apply(**parsed);
}

}  // namespace fpm_sink
