// Helpers for the forwarding benchmark, run from bench/forward/run.sh:
//   fwdbench gen  --netns NS --dev IF --src-mac M --dst-mac M --src-ip A --dsts FILE
//                 [--packets N | --duration S] [--rate PPS]
//   fwdbench sink attach|read|detach --netns NS --dev IF --pin DIR
//   fwdbench dsts --prefixes FILE --count N [--seed S] [--exclude CIDR ...]
//                 one random address inside each of N random IPv4 prefixes
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

std::vector<uint8_t> udp_template(const std::array<uint8_t, 6>& src,
                                  const std::array<uint8_t, 6>& dst, uint32_t saddr, size_t size) {
  size = std::max<size_t>(size, sizeof(ethhdr) + sizeof(iphdr) + sizeof(udphdr));
  std::vector<uint8_t> pkt(size, 0);
  auto* eth = reinterpret_cast<ethhdr*>(pkt.data());
  std::memcpy(eth->h_dest, dst.data(), 6);
  std::memcpy(eth->h_source, src.data(), 6);
  eth->h_proto = htons(ETH_P_IP);
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

int run_gen(const std::string& ns, const std::string& dev, const std::string& src_mac,
            const std::string& dst_mac, const std::string& src_ip, const std::string& dsts_file,
            uint64_t packets, size_t size, double duration, double rate) {
  enter_netns(ns);
  std::vector<uint32_t> dsts;
  std::ifstream in(dsts_file);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) dsts.push_back(parse_v4(line));
  if (dsts.empty()) throw std::runtime_error("no destinations in " + dsts_file);
  if (dsts.size() > (1u << 21)) dsts.resize(1u << 21);

  trafficgen* skel = trafficgen__open();
  if (!skel) die("open trafficgen");
  skel->rodata->n_dsts = static_cast<uint32_t>(dsts.size());
  const auto smac = parse_mac(src_mac), dmac = parse_mac(dst_mac);
  for (int i = 0; i < 6; ++i) {
    skel->rodata->eth_src[i] = smac[i];
    skel->rodata->eth_dst[i] = dmac[i];
  }
  if (int err = trafficgen__load(skel)) die("load trafficgen", err);
  for (uint32_t i = 0; i < dsts.size(); ++i)
    bpf_map__update_elem(skel->maps.dsts, &i, sizeof i, &dsts[i], sizeof dsts[i], BPF_ANY);

  auto pkt = udp_template(parse_mac(src_mac), parse_mac(dst_mac), parse_v4(src_ip), size);
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
    if (int err = bpf_prog_test_run_opts(bpf_program__fd(skel->progs.trafficgen), &opts))
      die("BPF_PROG_TEST_RUN live frames", err);
    sent += chunk;
  }
  const double secs = elapsed();
  std::printf("{\"packets\": %llu, \"seconds\": %.6f, \"pps\": %.0f}\n",
              static_cast<unsigned long long>(sent), secs, sent / secs);
  trafficgen__destroy(skel);
  return 0;
}

int run_sink(const std::string& action, const std::string& ns, const std::string& dev,
             const std::string& pin) {
  enter_netns(ns);
  const std::string link_pin = pin + "/link", map_pin = pin + "/received";
  if (action == "attach") {
    sink* skel = sink__open_and_load();
    if (!skel) die("load sink");
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
    const int ncpu = libbpf_num_possible_cpus();
    std::vector<uint64_t> v(static_cast<size_t>(ncpu));
    uint32_t zero = 0;
    if (bpf_map_lookup_elem(fd, &zero, v.data())) die("read counters");
    uint64_t total = 0;
    for (auto x : v) total += x;
    std::printf("%llu\n", static_cast<unsigned long long>(total));
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

// --- destinations: one random address inside each of N random IPv4 prefixes ----------
struct V4Net {
  uint32_t addr;  // host order
  unsigned len;
  bool contains(uint32_t a) const { return len == 0 || ((a ^ addr) >> (32 - len)) == 0; }
  bool overlaps(const V4Net& o) const {
    const unsigned l = std::min(len, o.len);
    return l == 0 || ((addr ^ o.addr) >> (32 - l)) == 0;
  }
};

V4Net parse_net(const std::string& s) {
  const auto slash = s.find('/');
  V4Net n{
      ntohl(parse_v4(s.substr(0, slash))),
      slash == std::string::npos ? 32u : static_cast<unsigned>(std::stoul(s.substr(slash + 1)))};
  if (n.len > 32) throw std::runtime_error("bad prefix " + s);
  return n;
}

int run_dsts(const std::string& file, size_t count, uint64_t seed,
             const std::vector<std::string>& exclude_text) {
  std::vector<V4Net> nets, exclude;
  for (const auto& e : exclude_text) exclude.push_back(parse_net(e));
  std::ifstream in(file);
  if (!in) throw std::runtime_error("cannot open " + file);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line.find(':') != std::string::npos) continue;
    const V4Net n = parse_net(line);
    bool skip = false;
    for (const auto& x : exclude) skip |= n.overlaps(x);
    if (!skip) nets.push_back(n);
  }
  if (nets.empty()) throw std::runtime_error("no usable prefixes in " + file);
  std::mt19937_64 rng(seed);
  std::shuffle(nets.begin(), nets.end(), rng);
  for (size_t i = 0; i < count; ++i) {
    const V4Net& n = nets[i % nets.size()];
    const uint32_t host_mask = n.len == 32 ? 0 : (0xffffffffu >> n.len);
    uint32_t a = n.addr | (static_cast<uint32_t>(rng()) & host_mask);
    // Avoid the network / broadcast address of the prefix when there is a choice.
    if (host_mask >= 3 && ((a & host_mask) == 0 || (a & host_mask) == host_mask)) a ^= 1;
    in_addr ia{htonl(a)};
    char buf[INET_ADDRSTRLEN];
    std::printf("%s\n", inet_ntop(AF_INET, &ia, buf, sizeof buf));
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
  gen->add_option("--src-ip", src_ip)->required();
  gen->add_option("--dsts", dsts, "file with one IPv4 destination per line")->required();
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
    if (*dst) return run_dsts(prefixes, count, seed, exclude);
    if (*gro) return run_gro(ns, dev, state);
    if (*feed) return run_feed(port, control_socket, max_frame);
    return run_sink(action, ns, dev, pin);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fwdbench: %s\n", e.what());
    return 1;
  }
}
