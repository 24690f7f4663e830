#include "xdp_harness.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "lpm4.h"
#include "lpm6.h"

namespace fpm_test {
namespace {

constexpr uint32_t kTestTbl8Groups = 64;
constexpr uint32_t kTestLpm6Nodes = 64;

[[noreturn]] void die(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  std::fprintf(stderr, "xdp harness: ");
  std::vfprintf(stderr, fmt, ap);
  std::fprintf(stderr, "\n");
  va_end(ap);
  std::abort();
}

Mac read_mac(const std::string& name) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  ifreq ifr{};
  std::snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name.c_str());
  if (fd < 0 || ioctl(fd, SIOCGIFHWADDR, &ifr) != 0) die("SIOCGIFHWADDR %s", name.c_str());
  close(fd);
  Mac m;
  std::memcpy(m.data(), ifr.ifr_hwaddr.sa_data, 6);
  return m;
}

void* map_mmap(bpf_map* map) {
  size_t value = (bpf_map__value_size(map) + 7) & ~size_t{7};
  size_t len = value * bpf_map__max_entries(map);
  long page = sysconf(_SC_PAGESIZE);
  len = (len + page - 1) & ~size_t(page - 1);
  void* p = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_SHARED, bpf_map__fd(map), 0);
  if (p == MAP_FAILED) die("mmap %s: %s", bpf_map__name(map), std::strerror(errno));
  return p;
}

size_t map_bytes(bpf_map* map) {
  return ((bpf_map__value_size(map) + 7) & ~size_t{7}) * bpf_map__max_entries(map);
}

void clear_hash(bpf_map* map) {
  int fd = bpf_map__fd(map);
  std::vector<uint8_t> key(bpf_map__key_size(map)), next(key.size());
  while (bpf_map_get_next_key(fd, nullptr, next.data()) == 0) bpf_map_delete_elem(fd, next.data());
}

void clear_percpu_array(bpf_map* map, int ncpus) {
  int fd = bpf_map__fd(map);
  size_t vsz = (bpf_map__value_size(map) + 7) & ~size_t{7};
  std::vector<uint8_t> zero(vsz * ncpus);
  for (uint32_t k = 0; k < bpf_map__max_entries(map); k++)
    if (bpf_map_update_elem(fd, &k, zero.data(), BPF_ANY) != 0) die("clear percpu");
}

uint32_t host32(const uint8_t* b) {
  return uint32_t(b[0]) << 24 | uint32_t(b[1]) << 16 | uint32_t(b[2]) << 8 | b[3];
}

}  // namespace

XdpHarness& XdpHarness::get() {
  return get(kTestTbl8Groups, kTestLpm6Nodes);
}

XdpHarness& XdpHarness::get(uint32_t tbl8_groups, uint32_t lpm6_nodes) {
  static XdpHarness h(tbl8_groups, lpm6_nodes);
  return h;
}

XdpHarness::XdpHarness(uint32_t tbl8_groups, uint32_t lpm6_nodes)
    : tbl8_group_count_(tbl8_groups), lpm6_node_count_(lpm6_nodes) {
  if (unshare(CLONE_NEWNET) != 0) die("unshare(CLONE_NEWNET): %s", std::strerror(errno));
  make_ports();
  load();
  reset();
}

void XdpHarness::make_ports() {
  // One `ip -batch` for all links: process start-up dominates otherwise.
  const char* names[] = {"xin", "xout0", "xout1", "xspare"};
  std::string batch = "link set lo up\n";
  for (const char* n : names) {
    batch += std::string("link add ") + n + " type veth peer name " + n + "-p\n";
    batch += std::string("link set ") + n + " up\n";
    batch += std::string("link set ") + n + "-p up\n";
  }
  FILE* ip = popen("ip -batch -", "w");
  if (!ip) die("popen ip");
  std::fputs(batch.c_str(), ip);
  if (pclose(ip) != 0) die("ip -batch failed:\n%s", batch.c_str());
  for (const char* n : names) {
    Port p;
    p.name = n;
    p.peer_name = std::string(n) + "-p";
    p.ifindex = if_nametoindex(p.name.c_str());
    p.peer_ifindex = if_nametoindex(p.peer_name.c_str());
    if (!p.ifindex || !p.peer_ifindex) die("no ifindex for %s", n);
    p.mac = read_mac(p.name);
    ports_.push_back(p);
  }
}

void XdpHarness::load() {
  skel_ = fpm_xdp__open();
  if (!skel_) die("open skeleton");
  skel_->rodata->fpm_cfg.hash_seed = 0x5eed1234;
  bpf_map__set_max_entries(skel_->maps.lpm4_tbl8, tbl8_group_count_);
  bpf_map__set_max_entries(skel_->maps.lpm6_nodes, lpm6_node_count_);
  if (int err = fpm_xdp__load(skel_); err) die("load skeleton: %d", err);
  ncpus_ = libbpf_num_possible_cpus();
  lpm4_tbl24_ = static_cast<uint32_t*>(map_mmap(skel_->maps.lpm4_tbl24));
  lpm4_tbl8_ = static_cast<uint32_t*>(map_mmap(skel_->maps.lpm4_tbl8));
  lpm6_root_ = static_cast<uint32_t*>(map_mmap(skel_->maps.lpm6_root));
  lpm6_nodes_ = static_cast<uint32_t*>(map_mmap(skel_->maps.lpm6_nodes));
  nhg_ = static_cast<fpm_nhg*>(map_mmap(skel_->maps.fpm_nhg));
}

int XdpHarness::prog_fd() const {
  return bpf_program__fd(skel_->progs.fpm_xdp);
}

void XdpHarness::reset() {
  std::memset(lpm4_tbl24_, 0, map_bytes(skel_->maps.lpm4_tbl24));
  std::memset(lpm4_tbl8_, 0, map_bytes(skel_->maps.lpm4_tbl8));
  std::memset(lpm6_root_, 0, map_bytes(skel_->maps.lpm6_root));
  std::memset(lpm6_nodes_, 0, map_bytes(skel_->maps.lpm6_nodes));
  std::memset(nhg_, 0, map_bytes(skel_->maps.fpm_nhg));
  next_tbl8_ = next_node6_ = 1;
  fpm_nexthop zero{};
  for (uint32_t i : touched_nexthops_)
    bpf_map_update_elem(bpf_map__fd(skel_->maps.fpm_nexthops), &i, &zero, BPF_ANY);
  touched_nexthops_.clear();
  clear_hash(skel_->maps.fpm_ifaces);
  clear_hash(skel_->maps.fpm_local4);
  clear_hash(skel_->maps.fpm_local6);
  clear_hash(skel_->maps.fpm_hosts4);
  clear_hash(skel_->maps.fpm_hosts6);
  clear_hash(skel_->maps.fpm_tx_ports);
  clear_hash(skel_->maps.fpm_vlans);
  // VRF tables: an array of maps always has a next key, so clear it by index.
  for (bpf_map* outer : {skel_->maps.fpm_vrf4, skel_->maps.fpm_vrf6})
    for (uint32_t k = 0; k < bpf_map__max_entries(outer); k++)
      bpf_map_delete_elem(bpf_map__fd(outer), &k);
  clear_percpu_array(skel_->maps.fpm_stats, ncpus_);
  clear_percpu_array(skel_->maps.fpm_iface_stats, ncpus_);
  clear_percpu_array(skel_->maps.fpm_iface_reasons, ncpus_);
}

void XdpHarness::set_iface(uint32_t ifindex, const fpm_iface& cfg) {
  if (bpf_map_update_elem(bpf_map__fd(skel_->maps.fpm_ifaces), &ifindex, &cfg, BPF_ANY))
    die("set_iface %u", ifindex);
}

void XdpHarness::add_tx_port(uint32_t ifindex) {
  if (bpf_map_update_elem(bpf_map__fd(skel_->maps.fpm_tx_ports), &ifindex, &ifindex, BPF_ANY))
    die("add_tx_port %u: %s", ifindex, std::strerror(errno));
}

void XdpHarness::add_tx_via(uint32_t key, uint32_t target) {
  if (bpf_map_update_elem(bpf_map__fd(skel_->maps.fpm_tx_ports), &key, &target, BPF_ANY))
    die("add_tx_via %u -> %u: %s", key, target, std::strerror(errno));
}

void XdpHarness::set_vlan(uint32_t parent, uint16_t vid, uint32_t sub) {
  const fpm_vlan_key key{parent, vid, 0};
  if (bpf_map_update_elem(bpf_map__fd(skel_->maps.fpm_vlans), &key, &sub, BPF_ANY))
    die("set_vlan %u/%u", parent, vid);
}

void XdpHarness::set_nexthop(uint32_t index, const fpm_nexthop& nh) {
  if (bpf_map_update_elem(bpf_map__fd(skel_->maps.fpm_nexthops), &index, &nh, BPF_ANY))
    die("set_nexthop %u", index);
  touched_nexthops_.push_back(index);
}

void XdpHarness::set_group(uint32_t index, const std::vector<uint32_t>& buckets, uint32_t flags) {
  if (index >= bpf_map__max_entries(skel_->maps.fpm_nhg)) die("group %u out of range", index);
  fpm_nhg& g = nhg_[index];
  for (uint32_t b = 0; b < FPM_NHG_BUCKETS; b++)
    __atomic_store_n(&g.buckets[b], buckets.empty() ? 0 : buckets[b % buckets.size()],
                     __ATOMIC_RELAXED);
  uint32_t members = 0;
  std::vector<uint32_t> seen;
  for (uint32_t nh : buckets)
    if (std::find(seen.begin(), seen.end(), nh) == seen.end()) seen.push_back(nh), members++;
  g.n_members = members;
  __atomic_store_n(&g.flags, flags, __ATOMIC_RELEASE);  // buckets before the valid flag
}

void XdpHarness::set_bucket(uint32_t group, uint32_t bucket, uint32_t nh) {
  __atomic_store_n(&nhg_[group].buckets[bucket % FPM_NHG_BUCKETS], nh, __ATOMIC_RELEASE);
}

void XdpHarness::add_local4(const Ip4& a) {
  uint32_t v = 0;
  if (bpf_map_update_elem(bpf_map__fd(skel_->maps.fpm_local4), a.data(), &v, BPF_ANY))
    die("add_local4");
}

void XdpHarness::add_local6(const Ip6& a) {
  uint32_t v = 0;
  if (bpf_map_update_elem(bpf_map__fd(skel_->maps.fpm_local6), a.data(), &v, BPF_ANY))
    die("add_local6");
}

namespace {

fpm_host4_key host_key(uint16_t table_slot, const Ip4& a) {
  fpm_host4_key k{};
  k.table_slot = table_slot;
  std::memcpy(k.addr, a.data(), sizeof k.addr);
  return k;
}

fpm_host6_key host_key(uint16_t table_slot, const Ip6& a) {
  fpm_host6_key k{};
  k.table_slot = table_slot;
  std::memcpy(k.addr, a.data(), sizeof k.addr);
  return k;
}

}  // namespace

int XdpHarness::set_host4(const Ip4& a, const fpm_nexthop& nh, uint16_t table_slot) {
  const fpm_host4_key k = host_key(table_slot, a);
  return bpf_map_update_elem(bpf_map__fd(skel_->maps.fpm_hosts4), &k, &nh, BPF_ANY) == 0 ? 0
                                                                                         : errno;
}

int XdpHarness::set_host6(const Ip6& a, const fpm_nexthop& nh, uint16_t table_slot) {
  const fpm_host6_key k = host_key(table_slot, a);
  return bpf_map_update_elem(bpf_map__fd(skel_->maps.fpm_hosts6), &k, &nh, BPF_ANY) == 0 ? 0
                                                                                         : errno;
}

void XdpHarness::remove_host4(const Ip4& a, uint16_t table_slot) {
  const fpm_host4_key k = host_key(table_slot, a);
  if (bpf_map_delete_elem(bpf_map__fd(skel_->maps.fpm_hosts4), &k)) die("remove_host4");
}

void XdpHarness::remove_host6(const Ip6& a, uint16_t table_slot) {
  const fpm_host6_key k = host_key(table_slot, a);
  if (bpf_map_delete_elem(bpf_map__fd(skel_->maps.fpm_hosts6), &k)) die("remove_host6");
}

uint32_t* XdpHarness::lpm4_group(uint32_t g) const {
  if (g >= tbl8_group_count_) die("test tbl8 pool exhausted");
  return lpm4_tbl8_ + size_t{g} * LPM_ROW_ENTRIES;
}

uint32_t* XdpHarness::lpm6_node(uint32_t n) const {
  if (n >= lpm6_node_count_) die("test lpm6 node pool exhausted");
  return lpm6_nodes_ + size_t{n} * LPM_ROW_ENTRIES;
}

// Minimal DIR-24-8 insert (test-only): shorter prefixes first, no deletes.
void XdpHarness::route4(const Ip4& prefix, unsigned len, uint32_t action) {
  uint32_t addr = host32(prefix.data());
  if (len <= 24) {
    uint32_t first = addr >> 8, count = 1u << (24 - len);
    for (uint32_t i = first; i < first + count; i++) {
      uint32_t e = tbl24()[i];
      if (e & LPM_ENTRY_NODE) {  // push the new action into the group's default entries
        uint32_t* grp = lpm4_group(e & LPM_INDEX_MASK);
        for (uint32_t j = 0; j < LPM_ROW_ENTRIES; j++) grp[j] = action;
      } else {
        tbl24()[i] = action;
      }
    }
    return;
  }
  uint32_t& e = tbl24()[addr >> 8];
  if (!(e & LPM_ENTRY_NODE)) {
    uint32_t g = next_tbl8_++;
    uint32_t* grp = lpm4_group(g);
    for (uint32_t j = 0; j < LPM_ROW_ENTRIES; j++) grp[j] = e;
    __atomic_store_n(&e, LPM_ENTRY_NODE | g, __ATOMIC_RELEASE);
  }
  uint32_t* grp = lpm4_group(e & LPM_INDEX_MASK);
  uint32_t first = addr & 0xff, count = 1u << (32 - len);
  for (uint32_t j = first; j < first + count; j++) grp[j] = action;
}

// Minimal 24-8-8... trie insert with leaf pushing (test-only), same rules.
void XdpHarness::route6(const Ip6& a, unsigned len, uint32_t action) {
  static_assert(LPM6_ROOT_BITS == 24, "test filler assumes a 24-bit root");
  uint32_t root = uint32_t(a[0]) << 16 | uint32_t(a[1]) << 8 | a[2];
  if (len <= 24) {
    uint32_t first = root & ~((1u << (24 - len)) - 1), count = 1u << (24 - len);
    for (uint32_t i = first; i < first + count; i++) lpm6_root_[i] = action;
    return;
  }
  uint32_t* e = &lpm6_root_[root];
  for (unsigned byte = 3; byte < 16; byte++) {
    if (!(*e & LPM_ENTRY_NODE)) {
      uint32_t n = next_node6_++;
      uint32_t* node = lpm6_node(n);
      for (uint32_t j = 0; j < LPM_ROW_ENTRIES; j++) node[j] = *e;
      __atomic_store_n(e, LPM_ENTRY_NODE | n, __ATOMIC_RELEASE);
    }
    uint32_t* node = lpm6_node(*e & LPM_INDEX_MASK);
    unsigned left = len - 8 * byte;  // prefix bits in this and later bytes
    if (left <= 8) {
      uint32_t count = 1u << (8 - left), first = a[byte] & ~(count - 1);
      for (uint32_t j = first; j < first + count; j++) node[j] = action;
      return;
    }
    e = &node[a[byte]];
  }
}

RunResult XdpHarness::run(const Bytes& frame, uint32_t ingress_ifindex) const {
  RunResult r;
  r.out.resize(frame.size() + 256);
  xdp_md ctx{};
  ctx.data_end = static_cast<uint32_t>(frame.size());
  ctx.ingress_ifindex = ingress_ifindex;
  LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame.data(), .data_out = r.out.data(),
              .data_size_in = static_cast<uint32_t>(frame.size()),
              .data_size_out = static_cast<uint32_t>(r.out.size()), .ctx_in = &ctx,
              .ctx_size_in = sizeof(ctx), .repeat = 1);
  r.err = bpf_prog_test_run_opts(prog_fd(), &opts);
  r.action = opts.retval;
  r.out.resize(r.err ? 0 : opts.data_size_out);
  return r;
}

int XdpHarness::run_live(const Bytes& frame, uint32_t ingress_ifindex) const {
  xdp_md ctx{};
  ctx.data_end = static_cast<uint32_t>(frame.size());
  ctx.ingress_ifindex = ingress_ifindex;
  LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame.data(),
              .data_size_in = static_cast<uint32_t>(frame.size()), .ctx_in = &ctx,
              .ctx_size_in = sizeof(ctx), .repeat = 1, .flags = BPF_F_TEST_XDP_LIVE_FRAMES);
  return bpf_prog_test_run_opts(prog_fd(), &opts);
}

Counters XdpHarness::counters() const {
  Counters c;
  std::vector<fpm_counter> per_cpu(ncpus_);
  for (uint32_t k = 0; k < FPM_CNT_MAX; k++) {
    if (bpf_map_lookup_elem(bpf_map__fd(skel_->maps.fpm_stats), &k, per_cpu.data())) die("stats");
    for (const auto& v : per_cpu) {
      c.global[k].packets += v.packets;
      c.global[k].bytes += v.bytes;
    }
  }
  std::vector<fpm_iface_stats> per_cpu_if(ncpus_);
  for (uint32_t k = 0; k < FPM_MAX_IFACES; k++) {
    if (bpf_map_lookup_elem(bpf_map__fd(skel_->maps.fpm_iface_stats), &k, per_cpu_if.data()))
      die("iface stats");
    for (const auto& v : per_cpu_if)
      for (uint32_t i = 0; i < FPM_VERDICT_MAX; i++) {
        c.iface[k].verdict[i].packets += v.verdict[i].packets;
        c.iface[k].verdict[i].bytes += v.verdict[i].bytes;
      }
  }
  return c;
}

fpm_counter XdpHarness::port_reason(uint32_t slot, uint32_t reason) const {
  fpm_counter sum{};
  std::vector<fpm_counter> per_cpu(ncpus_);
  const uint32_t k = slot * FPM_REASON_MAX + reason;
  if (bpf_map_lookup_elem(bpf_map__fd(skel_->maps.fpm_iface_reasons), &k, per_cpu.data()))
    die("iface reasons");
  for (const auto& v : per_cpu) {
    sum.packets += v.packets;
    sum.bytes += v.bytes;
  }
  return sum;
}

uint64_t XdpHarness::port_reason_packets_all() const {
  uint64_t n = 0;
  for (uint32_t s = 0; s < FPM_MAX_IFACES; s++)
    for (uint32_t r = 0; r < FPM_REASON_MAX; r++) n += port_reason(s, r).packets;
  return n;
}

}  // namespace fpm_test
