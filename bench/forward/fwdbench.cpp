// Helpers for the forwarding benchmark, run from bench/forward/run.sh:
//   fwdbench gen  --netns NS --dev IF --src-mac M --dst-mac M --src-ip A --dsts FILE --packets N
//   fwdbench sink attach|read|detach --netns NS --dev IF --pin DIR
// Every subcommand enters the namespace with setns() itself (ip netns exec would
// remount /sys and hide bpffs).
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <net/if.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

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
            uint64_t packets, size_t size) {
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
  if (int err = trafficgen__load(skel)) die("load trafficgen", err);
  for (uint32_t i = 0; i < dsts.size(); ++i)
    bpf_map__update_elem(skel->maps.dsts, &i, sizeof i, &dsts[i], sizeof dsts[i], BPF_ANY);

  auto pkt = udp_template(parse_mac(src_mac), parse_mac(dst_mac), parse_v4(src_ip), size);
  xdp_md ctx{};
  ctx.ingress_ifindex = ifindex_of(dev);
  ctx.data_end = static_cast<uint32_t>(pkt.size());  // the kernel insists it equals the data size
  const auto start = std::chrono::steady_clock::now();
  uint64_t sent = 0;
  while (sent < packets) {
    // One call runs at most 2^32-1 times; chunks also bound each syscall's duration.
    const uint32_t chunk = static_cast<uint32_t>(std::min<uint64_t>(packets - sent, 1u << 22));
    LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt.data(),
                .data_size_in = static_cast<uint32_t>(pkt.size()), .ctx_in = &ctx,
                .ctx_size_in = sizeof ctx, .repeat = static_cast<int>(chunk),
                .flags = BPF_F_TEST_XDP_LIVE_FRAMES, .batch_size = 64);
    if (int err = bpf_prog_test_run_opts(bpf_program__fd(skel->progs.trafficgen), &opts))
      die("BPF_PROG_TEST_RUN live frames", err);
    sent += chunk;
  }
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
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
  CLI11_PARSE(app, argc, argv);
  libbpf_set_print([](libbpf_print_level level, const char* fmt, va_list args) {
    return level == LIBBPF_WARN ? std::vfprintf(stderr, fmt, args) : 0;
  });
  try {
    if (*gen) return run_gen(ns, dev, src_mac, dst_mac, src_ip, dsts, packets, size);
    return run_sink(action, ns, dev, pin);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fwdbench: %s\n", e.what());
    return 1;
  }
}
