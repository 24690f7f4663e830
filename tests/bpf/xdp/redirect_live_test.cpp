// The redirect target is the next hop's port: frames run through
// BPF_PROG_RUN in live-frame mode really leave through the devmap entry and
// are read back, rewritten, on the far end of that port's veth pair.
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <gtest/gtest.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/if_packet.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <optional>

#include "fib_fixture.hpp"

namespace fpm_test {
namespace {

// veth only accepts redirected frames (ndo_xdp_xmit) when its peer runs
// XDP: attach a 2-instruction XDP_PASS program to each far end.
class PassProgram {
 public:
  explicit PassProgram(uint32_t ifindex) : ifindex_(ifindex) {
    const bpf_insn insns[] = {
        {BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, XDP_PASS},
        {BPF_JMP | BPF_EXIT, 0, 0, 0, 0},
    };
    fd_ = bpf_prog_load(BPF_PROG_TYPE_XDP, "pass", "GPL", insns, 2, nullptr);
    if (fd_ >= 0) err_ = bpf_xdp_attach(int(ifindex), fd_, XDP_FLAGS_DRV_MODE, nullptr);
  }
  ~PassProgram() {
    if (fd_ >= 0) {
      bpf_xdp_detach(int(ifindex_), XDP_FLAGS_DRV_MODE, nullptr);
      close(fd_);
    }
  }
  bool ok() const { return fd_ >= 0 && err_ == 0; }

 private:
  uint32_t ifindex_;
  int fd_ = -1;
  int err_ = -1;
};

class Capture {
 public:
  explicit Capture(uint32_t ifindex) {
    fd_ = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
    sockaddr_ll sll{};
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ETH_P_ALL);
    sll.sll_ifindex = int(ifindex);
    if (fd_ >= 0 && bind(fd_, reinterpret_cast<sockaddr*>(&sll), sizeof(sll)) != 0) {
      close(fd_);
      fd_ = -1;
    }
    timeval tv{0, 200 * 1000};
    if (fd_ >= 0) setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    // The receive path moves a VLAN tag out of the frame before taps see it:
    // ask for it back as ancillary data.
    const int on = 1;
    if (fd_ >= 0) setsockopt(fd_, SOL_PACKET, PACKET_AUXDATA, &on, sizeof(on));
  }
  ~Capture() {
    if (fd_ >= 0) close(fd_);
  }
  bool ok() const { return fd_ >= 0; }

  // Waits up to `timeout` for a frame equal to want (other traffic, e.g.
  // IPv6 router solicitations, is skipped).
  bool wait_for(const Bytes& want, std::chrono::milliseconds timeout) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    Bytes buf(4096);
    while (std::chrono::steady_clock::now() < end) {
      ssize_t n = recv(fd_, buf.data(), buf.size(), 0);
      if (n < 0) continue;
      if (Bytes(buf.begin(), buf.begin() + n) == want) return true;
    }
    return false;
  }

  // As wait_for, for a frame that arrived with an 802.1Q tag of `vid`: `want`
  // is the frame without it, as the tap shows it, and the tag must match.
  bool wait_for_tagged(const Bytes& want, uint16_t vid, std::chrono::milliseconds timeout) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    Bytes tagged = want;
    const uint8_t tag[4] = {0x81, 0x00, uint8_t(vid >> 8), uint8_t(vid)};
    tagged.insert(tagged.begin() + 12, tag, tag + 4);
    Bytes buf(4096);
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(tpacket_auxdata))];
    while (std::chrono::steady_clock::now() < end) {
      iovec iov{buf.data(), buf.size()};
      msghdr msg{};
      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      msg.msg_control = control;
      msg.msg_controllen = sizeof(control);
      ssize_t n = recvmsg(fd_, &msg, 0);
      if (n < 0) continue;
      const Bytes got(buf.begin(), buf.begin() + n);
      if (got == tagged) return true;  // a tap that sees the tag in place
      if (got != want) continue;
      for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_PACKET || c->cmsg_type != PACKET_AUXDATA) continue;
        tpacket_auxdata aux;
        std::memcpy(&aux, CMSG_DATA(c), sizeof(aux));
        if ((aux.tp_status & TP_STATUS_VLAN_VALID) && aux.tp_vlan_tci == vid &&
            aux.tp_vlan_tpid == ETH_P_8021Q)
          return true;
      }
    }
    return false;
  }

 private:
  int fd_ = -1;
};

class RedirectLive : public FibFixture {};

TEST_F(RedirectLive, FrameLeavesThroughTheNextHopsPort) {
  XdpHarness& h = *h_;
  PassProgram pass0(h.egress(0).peer_ifindex), pass1(h.egress(1).peer_ifindex);
  ASSERT_TRUE(pass0.ok() && pass1.ok()) << "attach XDP to the veth peers";
  Capture cap0(h.egress(0).peer_ifindex), cap1(h.egress(1).peer_ifindex);
  ASSERT_TRUE(cap0.ok() && cap1.ok());

  struct {
    Bytes frame;
    uint32_t nh;
    Capture* on;
    Capture* not_on;
  } cases[] = {
      {v4("10.1.7.7").build(), 1, &cap0, &cap1},
      {v4("10.1.2.200").build(), 6, &cap1, &cap0},
      {v6("2001:db8:1::9").build(), 1, &cap0, &cap1},
      {v6("2001:db8:1:2::9").build(), 6, &cap1, &cap0},
  };
  for (auto& c : cases) {
    fpm_nexthop nh{};
    ASSERT_EQ(bpf_map_lookup_elem(bpf_map__fd(h.skel()->maps.fpm_nexthops), &c.nh, &nh), 0);
    const Bytes want = expected_forward(c.frame, nh);
    ASSERT_EQ(h.run_live(c.frame, h.ingress().ifindex), 0);
    EXPECT_TRUE(c.on->wait_for(want, std::chrono::milliseconds(1000))) << "nh " << c.nh;
    EXPECT_FALSE(c.not_on->wait_for(want, std::chrono::milliseconds(100))) << "nh " << c.nh;
  }
  EXPECT_EQ(h.counters().verdict(FPM_VERDICT_REDIRECT), 4u);
}

// A next hop through a VLAN subinterface: its devmap key is the subinterface,
// the entry's target its parent, so the frame leaves through the parent,
// tagged (lib/vlan.h). The subinterface is an ifindex no device has.
TEST_F(RedirectLive, TaggedFrameLeavesThroughTheParent) {
  XdpHarness& h = *h_;
  constexpr uint32_t kSub = 100001, kNh = 30;
  constexpr uint16_t kVid = 20;
  PassProgram pass0(h.egress(0).peer_ifindex), pass1(h.egress(1).peer_ifindex);
  ASSERT_TRUE(pass0.ok() && pass1.ok()) << "attach XDP to the veth peers";
  Capture cap0(h.egress(0).peer_ifindex), cap1(h.egress(1).peer_ifindex);
  ASSERT_TRUE(cap0.ok() && cap1.ok());
  h.add_tx_via(kSub, h.egress(1).ifindex);
  fpm_nexthop nh = make_nh(h.egress(1), kNeighbour6, FPM_NH_VALID);
  nh.ifindex = kSub;
  nh.flags = FPM_NH_F_VLAN;
  nh.vlan_tci = htons(kVid);
  h.set_nexthop(kNh, nh);
  h.set_group(30, {kNh}, FPM_NHG_F_VALID);
  h.route4(ip4("10.30.0.0"), 16, forward(30));

  const Bytes in = v4("10.30.0.1").build();
  ASSERT_EQ(h.run_live(in, h.ingress().ifindex), 0);
  EXPECT_TRUE(cap1.wait_for_tagged(expected_forward(in, nh), kVid, std::chrono::milliseconds(1000)))
      << "rewritten, tagged, on the parent's wire";
  EXPECT_FALSE(cap0.wait_for(expected_forward(in, nh), std::chrono::milliseconds(100)));
  EXPECT_EQ(h.counters().verdict(FPM_VERDICT_REDIRECT), 1u);
}

// Without its devmap entry the port is not a redirect target: the frame goes
// to the kernel unmodified and nothing leaves.
TEST_F(RedirectLive, PortMissingFromDevmapPunts) {
  XdpHarness& h = *h_;
  const uint32_t port = h.egress(0).ifindex;
  ASSERT_EQ(bpf_map_delete_elem(bpf_map__fd(h.skel()->maps.fpm_tx_ports), &port), 0);
  const Bytes f = v4("10.1.7.7").build();
  const RunResult r = h.run(f);
  EXPECT_EQ(r.action, uint32_t{XDP_PASS});
  EXPECT_EQ(r.out, f);
  EXPECT_EQ(h.counters().reason(FPM_REASON_NO_TX_PORT), 1u);
}

}  // namespace
}  // namespace fpm_test
