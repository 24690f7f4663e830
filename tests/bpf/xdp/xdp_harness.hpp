// Test harness for the XDP program: one loaded skeleton per process inside a
// private network namespace with veth ports, map fillers that write the ABI
// structs directly (test-only; fpm-sink's writer lives in dataplane/), and
// BPF_PROG_TEST_RUN wrappers.
#pragma once

// clang-format off
#include "fpm_abi.h"  // before the skeleton: it names struct fpm_config
#include "fpm_xdp.skel.h"
// clang-format on

#include <cstdint>
#include <string>
#include <vector>

#include "packet_builder.hpp"

namespace fpm_test {

struct Port {
  std::string name;       // in the test namespace
  std::string peer_name;  // the other end of the veth pair
  uint32_t ifindex = 0;
  uint32_t peer_ifindex = 0;
  Mac mac{};
};

struct RunResult {
  int err = 0;  // BPF_PROG_TEST_RUN return value (0 or -errno)
  uint32_t action = 0;
  Bytes out;
};

// Counter snapshot summed over CPUs.
struct Counters {
  fpm_counter global[FPM_CNT_MAX]{};
  fpm_iface_stats iface[FPM_MAX_IFACES]{};

  uint64_t verdict(uint32_t v) const { return global[FPM_CNT_VERDICT + v].packets; }
  uint64_t reason(uint32_t r) const { return global[FPM_CNT_REASON + r].packets; }
};

class XdpHarness {
 public:
  // Unshares a network namespace, creates the veth ports and loads the
  // program. Fails the process (abort) on a setup error: nothing to test.
  static XdpHarness& get();
  // As get(), with larger LPM pools (tbl8 groups, IPv6 nodes) for big tables.
  // Only the first call of a process loads the program: call it first.
  static XdpHarness& get(uint32_t tbl8_groups, uint32_t lpm6_nodes);

  fpm_xdp* skel() { return skel_; }
  int prog_fd() const;
  const Port& ingress() const { return ports_[0]; }             // configured, v4 + v6, slot 3
  const Port& egress(size_t i) const { return ports_[1 + i]; }  // i < 2, in fpm_tx_ports
  const Port& spare() const { return ports_[3]; }               // exists, not configured anywhere

  // Zeroes every map and counter.
  void reset();

  // Map fillers.
  void set_iface(uint32_t ifindex, const fpm_iface& cfg);
  void add_tx_port(uint32_t ifindex);
  // fpm_tx_ports[key] = target: a subinterface's redirects leave through its parent.
  void add_tx_via(uint32_t key, uint32_t target);
  // fpm_vlans[{parent, vid}] = sub.
  void set_vlan(uint32_t parent, uint16_t vid, uint32_t sub);
  void set_nexthop(uint32_t index, const fpm_nexthop& nh);
  void set_group(uint32_t index, const std::vector<uint32_t>& buckets, uint32_t flags);
  void set_bucket(uint32_t group, uint32_t bucket, uint32_t nh);  // in place, via mmap
  void add_local4(const Ip4& a);
  void add_local6(const Ip6& a);
  // Connected hosts (fpm_hosts4 / 6) of a table slot. set_* return the update's
  // errno (0 on success): a full map refuses new keys.
  int set_host4(const Ip4& a, const fpm_nexthop& nh, uint16_t table_slot = FPM_TABLE_SLOT_MAIN);
  int set_host6(const Ip6& a, const fpm_nexthop& nh, uint16_t table_slot = FPM_TABLE_SLOT_MAIN);
  void remove_host4(const Ip4& a, uint16_t table_slot = FPM_TABLE_SLOT_MAIN);
  void remove_host6(const Ip6& a, uint16_t table_slot = FPM_TABLE_SLOT_MAIN);
  // Routes: insert shorter prefixes before more-specific ones inside them.
  void route4(const Ip4& prefix, unsigned len, uint32_t action);
  void route6(const Ip6& prefix, unsigned len, uint32_t action);

  RunResult run(const Bytes& frame, uint32_t ingress_ifindex) const;
  RunResult run(const Bytes& frame) const { return run(frame, ingress().ifindex); }
  // BPF_F_TEST_XDP_LIVE_FRAMES: the frame really leaves through the redirect target.
  int run_live(const Bytes& frame, uint32_t ingress_ifindex) const;

  Counters counters() const;
  // fpm_iface_reasons summed over CPUs: one port slot's reason, and every entry of the map.
  fpm_counter port_reason(uint32_t slot, uint32_t reason) const;
  uint64_t port_reason_packets_all() const;

 private:
  XdpHarness(uint32_t tbl8_groups, uint32_t lpm6_nodes);
  void make_ports();
  void load();
  uint32_t* tbl24() const { return lpm4_tbl24_; }
  uint32_t* lpm4_group(uint32_t g) const;
  uint32_t* lpm6_node(uint32_t n) const;

  fpm_xdp* skel_ = nullptr;
  std::vector<Port> ports_;
  uint32_t* lpm4_tbl24_ = nullptr;
  uint32_t* lpm4_tbl8_ = nullptr;
  uint32_t* lpm6_root_ = nullptr;
  uint32_t* lpm6_nodes_ = nullptr;
  fpm_nhg* nhg_ = nullptr;
  uint32_t tbl8_group_count_ = 0;
  uint32_t lpm6_node_count_ = 0;
  uint32_t next_tbl8_ = 1;  // 0 kept unused so a stray zero pointer shows
  uint32_t next_node6_ = 1;
  std::vector<uint32_t> touched_nexthops_;
  int ncpus_ = 0;
};

// Skips the current test when not root (BPF and namespaces need it).
#define FPM_REQUIRE_ROOT()                                         \
  do {                                                             \
    if (geteuid() != 0) GTEST_SKIP() << "needs root (BPF, netns)"; \
  } while (0)

}  // namespace fpm_test
