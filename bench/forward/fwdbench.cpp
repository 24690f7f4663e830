// Helpers for the forwarding benchmark, run from bench/forward/run.sh:
//   fwdbench gen  --netns NS --dev IF --src-mac M --dst-mac M --src-ip A --dsts FILE
//                 [--packets N | --duration S] [--rate PPS]
//                 IPv4 or IPv6 frames, after the family of --src-ip
//   fwdbench sink attach|read|detach --netns NS --dev IF --pin DIR
//   fwdbench fibfwd attach|read|detach --netns NS --dev IF [--dev IF ...] --pin DIR
//                 [--flags N] [--fixed-egress IF --fixed-dmac M --fixed-smac M]
//                 the bpf_fib_lookup() forwarder (fib_forward.bpf.c) on those ports, or
//                 its baseline without a lookup (every frame to one port)
//   fwdbench dsts --prefixes FILE --count N [--seed S] [--exclude CIDR ...] [--family 4|6]
//                 one random address inside each of N random prefixes of that family
//   fwdbench gro  --netns NS --dev IF on|off     (veth: GRO on = NAPI, so the
//                 device accepts XDP_REDIRECT/XDP_TX frames without an XDP program)
//   fwdbench feed --port P --control-socket S    plays zebra over one FPM session,
//                 driven by commands on stdin (see run_feed)
// Every subcommand enters the namespace with setns() itself (ip netns exec would
// remount /sys and hide bpffs).
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <linux/ethtool.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/sockios.h>
#include <linux/udp.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "control/client.hpp"
#include "fib_forward.skel.h"
#include "fpm/netlink_builder.hpp"
#include "sink.skel.h"
#include "trafficgen.skel.h"

namespace {

[[noreturn]] void die(const std::string& what, int err = errno) {
  throw std::runtime_error(what + ": " + std::strerror(err < 0 ? -err : err));
}

void enter_netns(const std::string& ns) {
  if (ns.empty()) return;
  const std::string path = "/run/netns/" + ns;
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) die("open " + path);
  if (setns(fd, CLONE_NEWNET) != 0) die("setns " + ns);
  close(fd);
}

unsigned ifindex_of(const std::string& dev) {
  unsigned idx = if_nametoindex(dev.c_str());
  if (!idx) die("no interface " + dev);
  return idx;
}

std::array<uint8_t, 6> mac_of(const std::string& dev) {
  const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket");
  ifreq ifr{};
  std::snprintf(ifr.ifr_name, IFNAMSIZ, "%s", dev.c_str());
  if (ioctl(fd, SIOCGIFHWADDR, &ifr) != 0) die("SIOCGIFHWADDR " + dev);
  close(fd);
  std::array<uint8_t, 6> m{};
  std::memcpy(m.data(), ifr.ifr_hwaddr.sa_data, m.size());
  return m;
}

std::array<uint8_t, 6> parse_mac(const std::string& s) {
  std::array<unsigned, 6> v{};
  if (std::sscanf(s.c_str(), "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6)
    throw std::runtime_error("bad MAC " + s);
  std::array<uint8_t, 6> m{};
  for (int i = 0; i < 6; ++i) m[i] = static_cast<uint8_t>(v[i]);
  return m;
}

uint32_t parse_v4(const std::string& s) {
  in_addr a{};
  if (inet_pton(AF_INET, s.c_str(), &a) != 1) throw std::runtime_error("bad IPv4 " + s);
  return a.s_addr;
}

in6_addr parse_v6(const std::string& s) {
  in6_addr a{};
  if (inet_pton(AF_INET6, s.c_str(), &a) != 1) throw std::runtime_error("bad IPv6 " + s);
  return a;
}

ethhdr* eth_template(std::vector<uint8_t>& pkt, const std::array<uint8_t, 6>& src,
                     const std::array<uint8_t, 6>& dst, uint16_t proto) {
  auto* eth = reinterpret_cast<ethhdr*>(pkt.data());
  std::memcpy(eth->h_dest, dst.data(), 6);
  std::memcpy(eth->h_source, src.data(), 6);
  eth->h_proto = htons(proto);
  return eth;
}

std::vector<uint8_t> udp_template(const std::array<uint8_t, 6>& src,
                                  const std::array<uint8_t, 6>& dst, uint32_t saddr, size_t size) {
  size = std::max<size_t>(size, sizeof(ethhdr) + sizeof(iphdr) + sizeof(udphdr));
  std::vector<uint8_t> pkt(size, 0);
  auto* eth = eth_template(pkt, src, dst, ETH_P_IP);
  auto* ip = reinterpret_cast<iphdr*>(eth + 1);
  ip->version = 4;
  ip->ihl = 5;
  ip->ttl = 64;
  ip->protocol = IPPROTO_UDP;
  ip->tot_len = htons(static_cast<uint16_t>(size - sizeof(ethhdr)));
  ip->saddr = saddr;
  auto* udp = reinterpret_cast<udphdr*>(ip + 1);
  udp->dest = htons(9);
  udp->len = htons(static_cast<uint16_t>(size - sizeof(ethhdr) - sizeof(iphdr)));
  return pkt;
}

std::vector<uint8_t> udp6_template(const std::array<uint8_t, 6>& src,
                                   const std::array<uint8_t, 6>& dst, const in6_addr& saddr,
                                   size_t size) {
  size = std::max<size_t>(size, sizeof(ethhdr) + sizeof(ipv6hdr) + sizeof(udphdr));
  std::vector<uint8_t> pkt(size, 0);
  auto* eth = eth_template(pkt, src, dst, ETH_P_IPV6);
  auto* ip6 = reinterpret_cast<ipv6hdr*>(eth + 1);
  ip6->version = 6;
  ip6->nexthdr = IPPROTO_UDP;
  ip6->hop_limit = 64;
  const auto payload = static_cast<uint16_t>(size - sizeof(ethhdr) - sizeof(ipv6hdr));
  ip6->payload_len = htons(payload);
  ip6->saddr = saddr;
  auto* udp = reinterpret_cast<udphdr*>(ip6 + 1);
  udp->dest = htons(9);
  udp->len = htons(payload);
  return pkt;
}

int run_gen(const std::string& ns, const std::string& dev, const std::string& src_mac,
            const std::string& dst_mac, const std::string& src_ip, const std::string& dsts_file,
            uint64_t packets, size_t size, double duration, double rate) {
  enter_netns(ns);
  const bool v6 = src_ip.find(':') != std::string::npos;
  std::vector<uint32_t> dsts;
  std::vector<in6_addr> dsts6;
  std::ifstream in(dsts_file);
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    if (v6)
      dsts6.push_back(parse_v6(line));
    else
      dsts.push_back(parse_v4(line));
  }
  constexpr size_t max_dsts = 1u << 21;
  if (dsts.size() > max_dsts) dsts.resize(max_dsts);
  if (dsts6.size() > max_dsts) dsts6.resize(max_dsts);
  const size_t n_dsts = v6 ? dsts6.size() : dsts.size();
  if (n_dsts == 0) throw std::runtime_error("no destinations in " + dsts_file);

  trafficgen* skel = trafficgen__open();
  if (!skel) die("open trafficgen");
  skel->rodata->n_dsts = static_cast<uint32_t>(n_dsts);
  const auto smac = parse_mac(src_mac), dmac = parse_mac(dst_mac);
  for (int i = 0; i < 6; ++i) {
    skel->rodata->eth_src[i] = smac[i];
    skel->rodata->eth_dst[i] = dmac[i];
  }
  // Only the table of this family holds the destinations; the other keeps one slot.
  bpf_map__set_max_entries(skel->maps.dsts,
                           static_cast<uint32_t>(std::max<size_t>(dsts.size(), 1)));
  bpf_map__set_max_entries(skel->maps.dsts6,
                           static_cast<uint32_t>(std::max<size_t>(dsts6.size(), 1)));
  if (int err = trafficgen__load(skel)) die("load trafficgen", err);
  for (uint32_t i = 0; i < dsts.size(); ++i)
    bpf_map__update_elem(skel->maps.dsts, &i, sizeof i, &dsts[i], sizeof dsts[i], BPF_ANY);
  for (uint32_t i = 0; i < dsts6.size(); ++i)
    bpf_map__update_elem(skel->maps.dsts6, &i, sizeof i, &dsts6[i], sizeof dsts6[i], BPF_ANY);
  bpf_program* prog = v6 ? skel->progs.trafficgen6 : skel->progs.trafficgen;

  auto pkt = v6 ? udp6_template(smac, dmac, parse_v6(src_ip), size)
                : udp_template(smac, dmac, parse_v4(src_ip), size);
  xdp_md ctx{};
  ctx.ingress_ifindex = ifindex_of(dev);
  ctx.data_end = static_cast<uint32_t>(pkt.size());  // the kernel insists it equals the data size
  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(clock::now() - start).count(); };
  if (duration > 0) packets = UINT64_MAX;
  // Paced: each call sends what the schedule says is due (at least 64, at most ~20 ms
  // worth), so late wake-ups on a loaded machine cost smoothness, not the average rate.
  // Unpaced: large calls (one call runs at most 2^32-1 times; chunks bound its duration).
  const uint64_t max_chunk = rate > 0 ? std::max<uint64_t>(64, static_cast<uint64_t>(rate / 50))
                             : duration > 0 ? (1u << 16)
                                            : (1u << 22);
  uint64_t sent = 0;
  while (sent < packets) {
    const double t = elapsed();
    if (duration > 0 && t >= duration) break;
    uint64_t want = packets - sent;
    if (rate > 0) {
      const double due = rate * t - static_cast<double>(sent);
      if (due < 64) {
        std::this_thread::sleep_for(std::chrono::duration<double>((64 - due) / rate));
        continue;
      }
      want = std::min<uint64_t>(want, static_cast<uint64_t>(due));
    }
    const uint32_t chunk = static_cast<uint32_t>(std::min<uint64_t>(want, max_chunk));
    LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt.data(),
                .data_size_in = static_cast<uint32_t>(pkt.size()), .ctx_in = &ctx,
                .ctx_size_in = sizeof ctx, .repeat = static_cast<int>(chunk),
                .flags = BPF_F_TEST_XDP_LIVE_FRAMES, .batch_size = 64);
    if (int err = bpf_prog_test_run_opts(bpf_program__fd(prog), &opts))
      die("BPF_PROG_TEST_RUN live frames", err);
    sent += chunk;
  }
  const double secs = elapsed();
  std::printf("{\"packets\": %llu, \"seconds\": %.6f, \"pps\": %.0f}\n",
              static_cast<unsigned long long>(sent), secs, sent / secs);
  trafficgen__destroy(skel);
  return 0;
}

// Sum over CPUs of one slot of a pinned per-CPU array of u64.
uint64_t percpu_sum(int fd, uint32_t key) {
  const int ncpu = libbpf_num_possible_cpus();
  std::vector<uint64_t> v(static_cast<size_t>(ncpu));
  if (bpf_map_lookup_elem(fd, &key, v.data())) die("read counters");
  uint64_t total = 0;
  for (auto x : v) total += x;
  return total;
}

int run_sink(const std::string& action, const std::string& ns, const std::string& dev,
             const std::string& pin) {
  enter_netns(ns);
  const std::string link_pin = pin + "/link", map_pin = pin + "/received";
  if (action == "attach") {
    sink* skel = sink__open();
    if (!skel) die("open sink");
    const auto mac = mac_of(dev);
    std::copy(mac.begin(), mac.end(), skel->rodata->port_mac);
    if (int err = sink__load(skel)) die("load sink", err);
    bpf_link* link = bpf_program__attach_xdp(skel->progs.sink, static_cast<int>(ifindex_of(dev)));
    if (!link) die("attach sink to " + dev);
    mkdir(pin.c_str(), 0700);
    if (int err = bpf_link__pin(link, link_pin.c_str())) die("pin " + link_pin, err);
    if (int err = bpf_map__pin(skel->maps.received, map_pin.c_str())) die("pin " + map_pin, err);
    return 0;  // the pins keep program and counters alive after exit
  }
  if (action == "read") {
    int fd = bpf_obj_get(map_pin.c_str());
    if (fd < 0) die("open " + map_pin);
    std::printf("%llu\n", static_cast<unsigned long long>(percpu_sum(fd, 0)));
    close(fd);
    return 0;
  }
  if (action == "detach") {
    unlink(link_pin.c_str());
    unlink(map_pin.c_str());
    rmdir(pin.c_str());
    return 0;
  }
  throw std::runtime_error("unknown sink action " + action);
}

// --- the bpf_fib_lookup() forwarder on the DUT's ports -----------------------------------
// attach: one program on every port (native XDP), every port in its devmap; the pinned
// links keep it attached after exit. read: its outcome counters as one JSON object.
constexpr uint32_t kFibResults = 16;  // fib_forward.bpf.c: FIB_RESULTS
enum FibOutcome : uint32_t { kNotIp = kFibResults, kTtl, kNoTxPort, kOutcomes };

struct FixedEgress {  // the baseline variant: no lookup, every frame to dev
  std::string dev, dmac, smac;
};

int run_fibfwd(const std::string& action, const std::string& ns,
               const std::vector<std::string>& devs, const std::string& pin, uint32_t flags,
               const FixedEgress& fixed) {
  enter_netns(ns);
  const std::string map_pin = pin + "/outcomes";
  if (action == "attach") {
    fib_forward* skel = fib_forward__open();
    if (!skel) die("open fib_forward");
    skel->rodata->fib_flags = flags;
    if (!fixed.dev.empty()) {
      skel->rodata->fixed_egress = ifindex_of(fixed.dev);
      const auto dmac = parse_mac(fixed.dmac), smac = parse_mac(fixed.smac);
      for (int i = 0; i < 6; ++i) {
        skel->rodata->fixed_dmac[i] = dmac[i];
        skel->rodata->fixed_smac[i] = smac[i];
      }
    }
    if (int err = fib_forward__load(skel)) die("load fib_forward", err);
    mkdir(pin.c_str(), 0700);
    for (const auto& dev : devs) {
      const uint32_t idx = ifindex_of(dev);
      if (int err = bpf_map__update_elem(skel->maps.tx_ports, &idx, sizeof idx, &idx, sizeof idx,
                                         BPF_ANY))
        die("devmap entry for " + dev, err);
    }
    for (const auto& dev : devs) {
      bpf_link* link =
          bpf_program__attach_xdp(skel->progs.fib_forward, static_cast<int>(ifindex_of(dev)));
      if (!link) die("attach fib_forward to " + dev);
      const std::string link_pin = pin + "/link-" + dev;
      if (int err = bpf_link__pin(link, link_pin.c_str())) die("pin " + link_pin, err);
    }
    if (int err = bpf_map__pin(skel->maps.outcomes, map_pin.c_str())) die("pin " + map_pin, err);
    return 0;
  }
  if (action == "read") {
    const int fd = bpf_obj_get(map_pin.c_str());
    if (fd < 0) die("open " + map_pin);
    const uint64_t success = percpu_sum(fd, 0), no_tx = percpu_sum(fd, kNoTxPort);
    std::string failed;
    for (uint32_t rc = 1; rc < kFibResults; ++rc)
      if (const uint64_t n = percpu_sum(fd, rc))
        failed +=
            (failed.empty() ? "\"" : ", \"") + std::to_string(rc) + "\": " + std::to_string(n);
    std::printf(
        "{\"lookups_ok\": %llu, \"redirected\": %llu, \"no_tx_port\": %llu, \"not_ip\": %llu, "
        "\"ttl_expiring\": %llu, \"lookup_failed_by_code\": {%s}}\n",
        static_cast<unsigned long long>(success), static_cast<unsigned long long>(success - no_tx),
        static_cast<unsigned long long>(no_tx),
        static_cast<unsigned long long>(percpu_sum(fd, kNotIp)),
        static_cast<unsigned long long>(percpu_sum(fd, kTtl)), failed.c_str());
    close(fd);
    return 0;
  }
  if (action == "detach") {
    for (const auto& dev : devs) unlink((pin + "/link-" + dev).c_str());
    unlink(map_pin.c_str());
    rmdir(pin.c_str());
    return 0;
  }
  throw std::runtime_error("unknown fibfwd action " + action);
}

// --- destinations: one random address inside each of N random prefixes ---------------
// Both families in one 128-bit number: an IPv4 address sits in the high 32 bits, so
// prefix arithmetic is the same for both (width = 32 or 128).
using u128 = unsigned __int128;

struct Net {
  u128 addr;
  unsigned len;
  bool overlaps(const Net& o) const {
    const unsigned l = std::min(len, o.len);
    return l == 0 || ((addr ^ o.addr) >> (128 - l)) == 0;
  }
};

u128 to_u128(const in6_addr& a) {
  u128 v = 0;
  for (uint8_t b : a.s6_addr) v = (v << 8) | b;
  return v;
}

Net parse_net(const std::string& s, int family) {
  const auto slash = s.find('/');
  const unsigned width = family == 6 ? 128 : 32;
  const std::string addr = s.substr(0, slash);
  Net n{
      family == 6 ? to_u128(parse_v6(addr)) : u128{ntohl(parse_v4(addr))} << 96,
      slash == std::string::npos ? width : static_cast<unsigned>(std::stoul(s.substr(slash + 1)))};
  if (n.len > width) throw std::runtime_error("bad prefix " + s);
  return n;
}

std::string format_addr(u128 a, int family) {
  char buf[INET6_ADDRSTRLEN];
  if (family == 4) {
    in_addr ia{htonl(static_cast<uint32_t>(a >> 96))};
    return inet_ntop(AF_INET, &ia, buf, sizeof buf);
  }
  in6_addr ia{};
  for (int i = 15; i >= 0; --i, a >>= 8) ia.s6_addr[i] = static_cast<uint8_t>(a);
  return inet_ntop(AF_INET6, &ia, buf, sizeof buf);
}

int run_dsts(const std::string& file, size_t count, uint64_t seed,
             const std::vector<std::string>& exclude_text, int family) {
  std::vector<Net> nets, exclude;
  for (const auto& e : exclude_text) exclude.push_back(parse_net(e, family));
  std::ifstream in(file);
  if (!in) throw std::runtime_error("cannot open " + file);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || (line.find(':') != std::string::npos) != (family == 6)) continue;
    const Net n = parse_net(line, family);
    bool skip = false;
    for (const auto& x : exclude) skip |= n.overlaps(x);
    if (!skip) nets.push_back(n);
  }
  if (nets.empty()) throw std::runtime_error("no usable prefixes in " + file);
  const unsigned width = family == 6 ? 128 : 32;
  std::mt19937_64 rng(seed);
  std::shuffle(nets.begin(), nets.end(), rng);
  for (size_t i = 0; i < count; ++i) {
    const Net& n = nets[i % nets.size()];
    const unsigned host_bits = width - n.len;
    const u128 host_mask = host_bits == 0 ? 0 : (~u128{0} >> (128 - host_bits)) << (128 - width);
    const u128 random = (u128{rng()} << 64) | rng();
    u128 a = n.addr | (random & host_mask);
    // Avoid the all-zeros / all-ones host part (network, broadcast, subnet-router
    // anycast) when there is a choice.
    const u128 one = u128{1} << (128 - width);
    if (host_bits >= 2 && ((a & host_mask) == 0 || (a & host_mask) == host_mask)) a ^= one;
    std::printf("%s\n", format_addr(a, family).c_str());
  }
  return 0;
}

// --- GRO on a veth: NAPI mode, so redirected frames are accepted without XDP ----------
int run_gro(const std::string& ns, const std::string& dev, const std::string& state) {
  enter_netns(ns);
  const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket");
  ethtool_value v{ETHTOOL_SGRO, state == "on" ? 1u : 0u};
  ifreq ifr{};
  std::snprintf(ifr.ifr_name, IFNAMSIZ, "%s", dev.c_str());
  ifr.ifr_data = reinterpret_cast<char*>(&v);
  if (ioctl(fd, SIOCETHTOOL, &ifr) != 0) die("ETHTOOL_SGRO " + dev);
  close(fd);
  return 0;
}

// --- feed: plays zebra over one FPM session, commands from stdin -------------------------
//   nh ID GATEWAY IFINDEX      single next hop object (RTM_NEWNEXTHOP); GATEWAY "-": none
//                              (a connected subnet's next hop, as zebra sends it)
//   group ID ID[,ID...]        next-hop group of those next hops (weight 1 each)
//   routes FILE GROUP [LIMIT]  RTM_NEWROUTE with RTA_NH_ID GROUP for each prefix of FILE
//   route PREFIX GROUP
//   sync [TIMEOUT_S]           flush, then wait until fpm-sink's RIB holds every route sent
//                              and nothing is pending; prints "synced routes=N seconds=S"
// The session stays open until EOF on stdin: closing it would start a replay/sweep cycle.
namespace fs = fpm_sink;

int connect_fpm(uint16_t port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket");
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  for (int i = 0;; ++i) {
    if (connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0) return fd;
    if (i == 50) die("connect 127.0.0.1:" + std::to_string(port));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

void send_all(int fd, const std::vector<uint8_t>& buf) {
  size_t off = 0;
  while (off < buf.size()) {
    const ssize_t n = ::send(fd, buf.data() + off, buf.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) die("send to fpm-sink");
    off += static_cast<size_t>(n);
  }
}

std::pair<uint64_t, uint64_t> rib_state(const std::string& socket) {
  fs::control::Request req;
  req.mutable_show_fpm();
  auto resp = fs::control::call(socket, req, std::chrono::seconds(5));
  if (!resp) throw std::runtime_error(resp.error().to_string());
  if (!resp->has_fpm()) throw std::runtime_error("control: no fpm reply");
  const auto& f = resp->fpm();
  return {f.rib().routes_v4() + f.rib().routes_v6(), f.rib().pending_routes() + f.pending_routes()};
}

int run_feed(uint16_t port, const std::string& control_socket, size_t max_frame) {
  const int fd = connect_fpm(port);
  // Drain whatever fpm-sink sends back (offload replies), so it never blocks on us.
  std::thread([fd] {
    std::vector<char> sink(1 << 16);
    while (::recv(fd, sink.data(), sink.size(), 0) > 0) {
    }
  }).detach();
  std::vector<uint8_t> stream;
  fs::FrameStreamWriter w(stream, max_frame);
  std::unordered_set<std::string> prefixes;
  auto add = [&](const fs::FpmEvent& e) {
    if (auto st = w.add(e); !st) throw std::runtime_error(st.error().to_string());
  };
  auto add_route = [&](const std::string& text, uint32_t group) {
    auto p = fs::Prefix::parse(text);
    if (!p) throw std::runtime_error("bad prefix '" + text + "'");
    fs::RouteAdd r;
    r.prefix = *p;
    r.protocol = 186;  // bgp
    r.metric = 20;
    r.nhg_id = group;
    r.replace = p->family() == fs::Family::V4;
    add(r);
    prefixes.insert(text);
  };
  const uint64_t base = rib_state(control_socket).first;
  auto t_mark = std::chrono::steady_clock::now();
  for (std::string line; std::getline(std::cin, line);) {
    std::istringstream cmd(line);
    std::string op;
    if (!(cmd >> op) || op[0] == '#') continue;
    if (op == "nh") {
      fs::NexthopAdd nh;
      std::string gw;
      fs::NextHop hop;
      cmd >> nh.id >> gw >> hop.ifindex;
      nh.family = fs::Family::V4;
      if (gw != "-") {
        auto a = fs::IpAddr::parse(gw);
        if (!a) throw std::runtime_error("bad gateway " + gw);
        hop.gateway = *a;
        nh.family = a->family;
      }
      nh.protocol = 186;
      nh.body = hop;
      add(nh);
    } else if (op == "group") {
      fs::NexthopAdd g;
      std::string members;
      cmd >> g.id >> members;
      g.protocol = 186;
      std::vector<fs::NexthopGroupMember> m;
      std::istringstream ms(members);
      for (std::string id; std::getline(ms, id, ',');)
        m.push_back({static_cast<uint32_t>(std::stoul(id)), 1});
      g.body = m;
      g.replace = true;
      add(g);
    } else if (op == "routes") {
      std::string file;
      uint32_t group = 0;
      size_t limit = SIZE_MAX;
      cmd >> file >> group >> limit;
      std::ifstream in(file);
      if (!in) throw std::runtime_error("cannot open " + file);
      size_t n = 0;
      for (std::string p; n < limit && std::getline(in, p);)
        if (!p.empty()) add_route(p, group), ++n;
    } else if (op == "route") {
      std::string p;
      uint32_t group = 0;
      cmd >> p >> group;
      add_route(p, group);
    } else if (op == "sync") {
      double timeout = 120;
      cmd >> timeout;
      w.flush();
      send_all(fd, stream);
      stream.clear();
      const uint64_t want = base + prefixes.size();
      const auto t0 = std::chrono::steady_clock::now();
      auto secs = [&] {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      };
      std::pair<uint64_t, uint64_t> st{};
      while ((st = rib_state(control_socket)).first < want || st.second) {
        if (secs() > timeout) {
          std::printf("timeout routes=%llu want=%llu pending=%llu\n",
                      static_cast<unsigned long long>(st.first),
                      static_cast<unsigned long long>(want),
                      static_cast<unsigned long long>(st.second));
          std::fflush(stdout);
          return 1;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
      const double since_mark =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t_mark).count();
      std::printf("synced routes=%llu seconds=%.3f\n", static_cast<unsigned long long>(st.first),
                  since_mark);
      std::fflush(stdout);
      t_mark = std::chrono::steady_clock::now();
    } else {
      throw std::runtime_error("unknown command '" + op + "'");
    }
  }
  ::shutdown(fd, SHUT_RDWR);
  close(fd);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"fpm-sink forwarding benchmark helpers"};
  app.require_subcommand(1);
  std::string ns, dev, src_mac, dst_mac, src_ip, dsts, pin, action;
  uint64_t packets = 1'000'000;
  size_t size = 64;
  auto* gen = app.add_subcommand("gen", "send packets with BPF_F_TEST_XDP_LIVE_FRAMES");
  gen->add_option("--netns", ns);
  gen->add_option("--dev", dev)->required();
  gen->add_option("--src-mac", src_mac)->required();
  gen->add_option("--dst-mac", dst_mac)->required();
  gen->add_option("--src-ip", src_ip, "IPv4 or IPv6: the family of the frames")->required();
  gen->add_option("--dsts", dsts, "file with one destination per line")->required();
  gen->add_option("--packets", packets);
  gen->add_option("--size", size, "frame size in bytes (without FCS)");
  auto* snk = app.add_subcommand("sink", "XDP packet counter on the receiving end");
  snk->add_option("action", action, "attach | read | detach")->required();
  snk->add_option("--netns", ns);
  snk->add_option("--dev", dev);
  snk->add_option("--pin", pin, "bpffs directory for the pinned link and counters")->required();
  double duration = 0, rate = 0;
  gen->add_option("--duration", duration, "send for this many seconds (instead of --packets)");
  gen->add_option("--rate", rate, "packets per second (paced); default: as fast as possible");
  std::string prefixes, state;
  size_t count = 1000;
  uint64_t seed = 1;
  std::vector<std::string> exclude;
  auto* dst = app.add_subcommand("dsts", "one random address in each of N random prefixes");
  dst->add_option("--prefixes", prefixes, "prefix list, one CIDR per line")->required();
  dst->add_option("--count", count);
  dst->add_option("--seed", seed);
  dst->add_option("--exclude", exclude, "skip prefixes overlapping these CIDRs");
  int family = 4;
  dst->add_option("--family", family)->check(CLI::IsMember({4, 6}));
  std::vector<std::string> fib_devs;
  uint32_t fib_flags = 0;
  auto* fib = app.add_subcommand("fibfwd", "the bpf_fib_lookup() XDP forwarder on the DUT");
  fib->add_option("action", action, "attach | read | detach")->required();
  fib->add_option("--netns", ns);
  fib->add_option("--dev", fib_devs, "ports: attached, and redirect targets");
  fib->add_option("--pin", pin, "bpffs directory for the pinned links and counters")->required();
  fib->add_option("--flags", fib_flags, "bpf_fib_lookup() flags (0: full lookup, FIB rules)");
  FixedEgress fixed;
  auto* fixed_dev =
      fib->add_option("--fixed-egress", fixed.dev, "baseline: no lookup, every frame to this port");
  fib->add_option("--fixed-dmac", fixed.dmac)->needs(fixed_dev);
  fib->add_option("--fixed-smac", fixed.smac)->needs(fixed_dev);
  fixed_dev->needs("--fixed-dmac")->needs("--fixed-smac");
  auto* gro = app.add_subcommand("gro", "switch GRO (veth NAPI mode) on or off");
  gro->add_option("--netns", ns);
  gro->add_option("--dev", dev)->required();
  gro->add_option("state", state, "on | off")->required()->check(CLI::IsMember({"on", "off"}));
  uint16_t port = 2620;
  std::string control_socket;
  size_t max_frame = 8192;
  auto* feed = app.add_subcommand("feed", "play zebra over one FPM session (commands on stdin)");
  feed->add_option("--port", port);
  feed->add_option("--control-socket", control_socket)->required();
  feed->add_option("--max-frame", max_frame)->check(CLI::Range(256, 65535));
  CLI11_PARSE(app, argc, argv);
  libbpf_set_print([](libbpf_print_level level, const char* fmt, va_list args) {
    return level == LIBBPF_WARN ? std::vfprintf(stderr, fmt, args) : 0;
  });
  try {
    if (*gen)
      return run_gen(ns, dev, src_mac, dst_mac, src_ip, dsts, packets, size, duration, rate);
    if (*dst) return run_dsts(prefixes, count, seed, exclude, family);
    if (*fib) return run_fibfwd(action, ns, fib_devs, pin, fib_flags, fixed);
    if (*gro) return run_gro(ns, dev, state);
    if (*feed) return run_feed(port, control_socket, max_frame);
    return run_sink(action, ns, dev, pin);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fwdbench: %s\n", e.what());
    return 1;
  }
}
