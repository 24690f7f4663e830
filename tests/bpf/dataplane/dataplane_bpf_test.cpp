// Real kernel, real maps: what FibOffload writes through BpfMapWriter is read
// back with bpf_map_lookup_elem() on the map fds, i.e. as the kernel sees it.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <linux/if_link.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <optional>

#include "dataplane/bpf_map_writer.hpp"
#include "dataplane/fake_announced_routes.hpp"
#include "dataplane/fib_offload.hpp"
#include "dataplane/unique_fd.hpp"
#include "dataplane/xdp_program.hpp"
#include "ip_literals.hpp"
#include "netns_fixture.hpp"

namespace fpm_sink {
namespace {

using test::A;
using test::P;

class DataplaneBpf : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (BPF maps, XDP, netns)";
    pin_dir = "/sys/fs/bpf/fpm-sink-test-" + std::to_string(::getpid());
    ASSERT_TRUE(XdpProgram::unpin_all(pin_dir));
  }
  void TearDown() override {
    if (!pin_dir.empty()) (void)XdpProgram::unpin_all(pin_dir);
  }
  XdpProgramConfig config() const {
    XdpProgramConfig c;
    c.pin_dir = pin_dir;
    c.v4_tbl8_groups = 256;
    c.v6_nodes = 256;
    c.max_nexthops = 1024;
    c.max_groups = 64;
    c.hash_seed = 42;
    return c;
  }
  std::unique_ptr<XdpProgram> load(const XdpProgramConfig& c) {
    auto p = XdpProgram::load(c);
    if (!p) ADD_FAILURE() << p.error().to_string();
    return p ? std::move(p.value()) : nullptr;
  }

  std::string pin_dir;
};

// One tbl24 entry as the kernel holds it.
uint32_t tbl24_entry(const XdpProgram& prog, const char* addr) {
  const uint32_t a = A(addr).v4_host_order();
  uint32_t row_key = a >> 16;
  lpm_row row{};
  EXPECT_EQ(0, bpf_map_lookup_elem(prog.map_fd("lpm4_tbl24"), &row_key, &row));
  return row.e[(a >> 8) & 0xff];
}

// fpm_hosts4 / 6[slot, a] into nh: bpf_map_lookup_elem's result (0: present).
int find_host(const XdpProgram& prog, const char* a, fpm_nexthop& nh,
              uint16_t slot = FPM_TABLE_SLOT_MAIN) {
  const IpAddr addr = A(a);
  if (addr.family == Family::V4) {
    fpm_host4_key k{};
    k.table_slot = slot;
    std::memcpy(k.addr, addr.bytes.data(), sizeof k.addr);
    return bpf_map_lookup_elem(prog.map_fd("fpm_hosts4"), &k, &nh);
  }
  fpm_host6_key k{};
  k.table_slot = slot;
  std::memcpy(k.addr, addr.bytes.data(), sizeof k.addr);
  return bpf_map_lookup_elem(prog.map_fd("fpm_hosts6"), &k, &nh);
}

// Connected hosts through BpfMapWriter: the entries land in fpm_hosts4 / 6 as
// XDP reads them, and a map fuller than FibOffload's own count (here: a map
// smaller than configured) refuses the host, which is counted and punts,
// never reported as a write error.
TEST_F(DataplaneBpf, ConnectedHostsLandInTheHostMaps) {
  fpm_test::NetnsVeth ns;  // a real port for the devmap
  ASSERT_TRUE(ns.ok());
  const uint32_t port_ifindex = ns.a();
  XdpProgramConfig c = config();
  c.pin = false;
  c.max_hosts = 2;
  auto prog = load(c);
  ASSERT_TRUE(prog);
  BpfMapWriter writer(*prog);
  StaticKernelView kernel;
  LinkEntry port{{2, 0, 0, 0, 0, 5}, 1500, true};
  kernel.set_link(port_ifindex, port);
  FibOffloadLimits cfg;
  cfg.max_groups = prog->memory().max_groups;
  cfg.max_nexthops = 1024;
  cfg.max_hosts = 3;  // more than the maps hold
  FakeAnnouncedRoutes routes;
  FibOffload fp(cfg, writer, kernel, kernel, routes);
  ASSERT_TRUE(fp.add_port(port_ifindex));
  ResolvedNextHop on_link;
  on_link.nh.ifindex = port_ifindex;
  fp.group_changed(ChangeKind::Added, FibGroup{7, false, {on_link}});
  for (const char* p : {"10.9.0.0/24", "2001:db8:9::/64"}) {
    RouteView r;
    r.prefix = P(p);
    r.group_id = 7;
    routes.announce(fp, ChangeKind::Added, r);
  }
  for (const char* h : {"10.9.0.5", "10.9.0.6", "10.9.0.7", "2001:db8:9::5"}) {
    kernel.set_neighbour(A(h), port_ifindex, {{2, 0, 0, 0, 8, uint8_t(h[7])}, true});
    ASSERT_TRUE(fp.neighbour_changed(A(h), port_ifindex));
  }
  fpm_nexthop nh{};
  ASSERT_EQ(0, find_host(*prog, "10.9.0.5", nh));
  EXPECT_EQ(nh.state, FPM_NH_VALID);
  EXPECT_EQ(nh.ifindex, port_ifindex);
  EXPECT_EQ(nh.mtu, 1500u);
  EXPECT_EQ(nh.src_mac[5], 5);
  EXPECT_EQ(nh.dst_mac[4], 8);
  EXPECT_EQ(0, find_host(*prog, "2001:db8:9::5", nh));
  EXPECT_NE(0, find_host(*prog, "10.9.0.7", nh));
  EXPECT_EQ(prog->count_keys("fpm_hosts4"), 2u);
  EXPECT_EQ(prog->count_keys("fpm_hosts6"), 1u);
  EXPECT_EQ(fp.hosts().stats().refused, 1u);
  EXPECT_FALSE(fp.last_error().has_value()) << fp.last_error()->to_string();
  // One leaves: the refused one takes its place.
  kernel.erase_neighbour(A("10.9.0.5"), port_ifindex);
  ASSERT_TRUE(fp.neighbour_changed(A("10.9.0.5"), port_ifindex));
  EXPECT_NE(0, find_host(*prog, "10.9.0.5", nh));
  EXPECT_EQ(0, find_host(*prog, "10.9.0.7", nh));
  EXPECT_EQ(fp.hosts().stats().refused, 0u);
}

// A VRF's connected host through BpfMapWriter: keyed by the table's slot in the
// real map, next to main's entry for the same address, and gone with the table.
TEST_F(DataplaneBpf, AVrfsConnectedHostLandsUnderItsTablesSlot) {
  fpm_test::NetnsVeth ns;
  ASSERT_TRUE(ns.ok());
  XdpProgramConfig c = config();
  c.pin = false;
  auto prog = load(c);
  ASSERT_TRUE(prog);
  BpfMapWriter writer(*prog);
  StaticKernelView kernel;
  LinkEntry main_port{{2, 0, 0, 0, 0, 5}, 1500, true};
  LinkEntry red_port{{2, 0, 0, 0, 0, 6}, 1500, true};
  red_port.master = 999;
  red_port.master_kind = "vrf";
  red_port.vrf_table = 1001;
  kernel.set_link(ns.a(), main_port);
  kernel.set_link(ns.b(), red_port);
  FibOffloadLimits cfg;
  cfg.max_groups = prog->memory().max_groups;
  cfg.max_nexthops = 1024;
  FakeAnnouncedRoutes routes;
  FibOffload fp(cfg, writer, kernel, kernel, routes);
  ASSERT_TRUE(fp.add_port(ns.a()));
  ASSERT_TRUE(fp.add_port(ns.b()));
  for (uint32_t port : {ns.a(), ns.b()}) {
    ResolvedNextHop on_link;
    on_link.nh.ifindex = port;
    fp.group_changed(ChangeKind::Added, FibGroup{port, false, {on_link}});
    RouteView r;
    r.table = port == ns.a() ? kMainTable : 1001;
    r.prefix = P("10.9.0.0/24");
    r.group_id = port;
    routes.announce(fp, ChangeKind::Added, r);
    kernel.set_neighbour(A("10.9.0.5"), port, {{2, 0, 0, 0, 8, uint8_t(port)}, true});
    ASSERT_TRUE(fp.neighbour_changed(A("10.9.0.5"), port));
  }
  const auto tables = fp.vrf_tables();
  ASSERT_EQ(tables.size(), 1u);
  ASSERT_TRUE(tables[0].slot);
  const uint16_t red = *tables[0].slot;
  fpm_nexthop nh{};
  ASSERT_EQ(0, find_host(*prog, "10.9.0.5", nh, red));
  EXPECT_EQ(nh.ifindex, ns.b());
  EXPECT_EQ(nh.dst_mac[5], uint8_t(ns.b()));
  ASSERT_EQ(0, find_host(*prog, "10.9.0.5", nh));
  EXPECT_EQ(nh.ifindex, ns.a());
  EXPECT_EQ(prog->count_keys("fpm_hosts4"), 2u);
  RouteView gone;
  gone.table = 1001;
  gone.prefix = P("10.9.0.0/24");
  routes.announce(fp, ChangeKind::Removed, gone);
  EXPECT_NE(0, find_host(*prog, "10.9.0.5", nh, red));
  EXPECT_EQ(prog->count_keys("fpm_hosts4"), 1u);
  EXPECT_FALSE(fp.last_error().has_value()) << fp.last_error()->to_string();
}

TEST_F(DataplaneBpf, FastPathEventsLandInTheKernelMaps) {
  auto prog = load(config());
  ASSERT_TRUE(prog);
  BpfMapWriter writer(*prog);
  StaticKernelView kernel;
  kernel.set_link(5, {{2, 0, 0, 0, 0, 5}, 1500, true});
  kernel.set_neighbour(A("10.0.0.1"), 5, {{2, 0, 0, 0, 9, 1}, true});
  FibOffloadLimits cfg;
  cfg.max_groups = prog->memory().max_groups;
  cfg.max_nexthops = 1024;
  FakeAnnouncedRoutes routes;
  FibOffload fp(cfg, writer, kernel, kernel, routes);

  ResolvedNextHop m1, m2;
  m1.nh.gateway = A("10.0.0.1");
  m1.nh.ifindex = 5;
  m2.nh.gateway = A("10.0.0.2");
  m2.nh.ifindex = 5;
  fp.group_changed(ChangeKind::Added, FibGroup{1000, false, {m1, m2}});
  RouteView r;
  r.prefix = P("192.0.2.0/24");
  r.group_id = 1000;
  routes.announce(fp, ChangeKind::Added, r);
  r.prefix = P("198.51.100.128/25");  // needs a tbl8 group
  routes.announce(fp, ChangeKind::Added, r);
  r.prefix = P("2001:db8:1::/48");
  routes.announce(fp, ChangeKind::Added, r);
  RouteView bh;
  bh.prefix = P("203.0.113.0/24");
  bh.type = RouteType::Blackhole;
  routes.announce(fp, ChangeKind::Added, bh);

  const uint32_t gi = *fp.group_index(1000);
  const uint32_t fwd = fpm_act_make(FPM_ACT_FORWARD, gi);
  EXPECT_EQ(tbl24_entry(*prog, "192.0.2.9"), fwd);
  EXPECT_EQ(tbl24_entry(*prog, "203.0.113.1"), fpm_act_make(FPM_ACT_DROP, 0));
  EXPECT_TRUE(tbl24_entry(*prog, "198.51.100.200") & LPM_ENTRY_NODE);
  EXPECT_EQ(writer.v4().lookup(A("198.51.100.200")), fwd);
  EXPECT_EQ(writer.v4().lookup(A("198.51.100.1")), 0u);
  EXPECT_EQ(writer.v6().lookup(A("2001:db8:1::5")), fwd);

  fpm_nhg g{};
  ASSERT_EQ(0, bpf_map_lookup_elem(prog->map_fd("fpm_nhg"), &gi, &g));
  EXPECT_EQ(g.flags, FPM_NHG_F_VALID);
  EXPECT_EQ(g.n_members, 2u);
  std::map<uint32_t, int> per_nh;
  for (uint32_t b : g.buckets) ++per_nh[b];
  ASSERT_EQ(per_nh.size(), 2u);
  bool saw_valid = false, saw_unresolved = false;
  for (auto [index, n] : per_nh) {
    EXPECT_EQ(n, 128);
    fpm_nexthop nh{};
    ASSERT_EQ(0, bpf_map_lookup_elem(prog->map_fd("fpm_nexthops"), &index, &nh));
    EXPECT_EQ(nh.ifindex, 5u);
    saw_valid |= nh.state == FPM_NH_VALID && nh.dst_mac[4] == 9;
    saw_unresolved |= nh.state == FPM_NH_UNRESOLVED;
  }
  EXPECT_TRUE(saw_valid);
  EXPECT_TRUE(saw_unresolved);

  // Prefix-independent: resolving 10.0.0.2 is one next-hop map write.
  kernel.set_neighbour(A("10.0.0.2"), 5, {{2, 0, 0, 0, 9, 2}, true});
  auto n = fp.neighbour_changed(A("10.0.0.2"), 5);
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 1u);

  routes.announce(fp, ChangeKind::Removed, r);
  EXPECT_EQ(writer.v6().lookup(A("2001:db8:1::5")), 0u);
  r.prefix = P("192.0.2.0/24");
  routes.announce(fp, ChangeKind::Removed, r);
  EXPECT_EQ(tbl24_entry(*prog, "192.0.2.9"), 0u);
}

TEST_F(DataplaneBpf, RefusesAPinDirOutsideBpffs) {
  auto c = config();
  c.pin_dir = "/tmp/fpm-sink-not-bpffs-" + std::to_string(::getpid());
  auto p = XdpProgram::load(c);
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().id, "bpf.pin");
  EXPECT_NE(p.error().message.find("not on bpffs"), std::string::npos);
}

TEST_F(DataplaneBpf, PinnedMapsAndLinksSurviveARestart) {
  fpm_test::NetnsVeth ns;
  ASSERT_TRUE(ns.ok());
  uint32_t first_prog_id = 0;
  {
    auto c = config();
    c.keep_on_exit = true;  // fpm-sink restarting: the fast path stays up
    auto a = load(c);
    ASSERT_TRUE(a);
    EXPECT_FALSE(a->reused_pinned_maps());
    fpm_nexthop nh{};
    nh.ifindex = ns.b();
    nh.state = FPM_NH_VALID;
    uint32_t key = 7;
    ASSERT_EQ(0, bpf_map_update_elem(a->map_fd("fpm_nexthops"), &key, &nh, BPF_ANY));
    a->memory().nhg[3].flags = FPM_NHG_F_VALID;  // through the mmap
    uint32_t port = ns.b();
    ASSERT_EQ(0, bpf_map_update_elem(a->map_fd("fpm_tx_ports"), &port, &port, BPF_ANY));
    auto s = a->attach(ns.a());
    ASSERT_TRUE(s) << s.error().to_string();
    ASSERT_EQ(0, bpf_xdp_query_id(static_cast<int>(ns.a()), XDP_FLAGS_DRV_MODE, &first_prog_id));
    EXPECT_NE(first_prog_id, 0u);
  }
  // Between the two instances nothing is loaded by us, yet the port is attached.
  uint32_t id = 0;
  ASSERT_EQ(0, bpf_xdp_query_id(static_cast<int>(ns.a()), XDP_FLAGS_DRV_MODE, &id));
  EXPECT_EQ(id, first_prog_id);
  EXPECT_TRUE(std::filesystem::exists(pin_dir + "/xdp_link_" + std::to_string(ns.a())));

  {
    auto b = load(config());
    ASSERT_TRUE(b);
    EXPECT_TRUE(b->reused_pinned_maps());
    fpm_nexthop nh{};
    uint32_t key = 7;
    ASSERT_EQ(0, bpf_map_lookup_elem(b->map_fd("fpm_nexthops"), &key, &nh));
    EXPECT_EQ(nh.ifindex, ns.b());
    EXPECT_EQ(b->memory().nhg[3].flags, FPM_NHG_F_VALID);
    uint32_t port = ns.b(), target = 0;  // the devmap too (kernel-added flags notwithstanding)
    ASSERT_EQ(0, bpf_map_lookup_elem(b->map_fd("fpm_tx_ports"), &port, &target));
    EXPECT_EQ(target, ns.b());
    auto s = b->attach(ns.a());  // adopts the pinned link, swaps the program in
    ASSERT_TRUE(s) << s.error().to_string();
    ASSERT_EQ(0, bpf_xdp_query_id(static_cast<int>(ns.a()), XDP_FLAGS_DRV_MODE, &id));
    EXPECT_NE(id, 0u);
    EXPECT_NE(id, first_prog_id);
    bpf_prog_info info{};
    uint32_t len = sizeof info;
    ASSERT_EQ(0, bpf_obj_get_info_by_fd(b->prog_fd(), &info, &len));
    EXPECT_EQ(id, info.id);
  }
  // keep_on_exit = false: detached and unpinned.
  ASSERT_EQ(0, bpf_xdp_query_id(static_cast<int>(ns.a()), 0, &id));
  EXPECT_EQ(id, 0u);
  EXPECT_FALSE(std::filesystem::exists(pin_dir));
}

// Lowers one capability from this thread's effective set (it stays permitted)
// and raises it again on scope exit.
class EffectiveCapabilityDropped {
 public:
  explicit EffectiveCapabilityDropped(int cap) : cap_(cap) { dropped_ = set(false); }
  ~EffectiveCapabilityDropped() {
    if (dropped_) (void)set(true);
  }
  bool dropped() const { return dropped_; }

 private:
  bool set(bool raised) {
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2]{};
    if (::syscall(SYS_capget, &header, data) != 0) return false;
    const uint32_t bit = 1u << (cap_ % 32);
    if (raised)
      data[cap_ / 32].effective |= bit;
    else
      data[cap_ / 32].effective &= ~bit;
    return ::syscall(SYS_capset, &header, data) == 0;
  }
  int cap_;
  bool dropped_ = false;
};

TEST_F(DataplaneBpf, ARestartKeepsTheRunningProgramsHashSeed) {
  fpm_test::NetnsVeth ns;
  ASSERT_TRUE(ns.ok());
  auto c = config();
  c.hash_seed.reset();  // random per start, unless a running program has one
  c.keep_on_exit = true;
  uint32_t seed = 0;
  {
    auto a = load(c);
    ASSERT_TRUE(a);
    ASSERT_TRUE(a->attach(ns.a()));
    seed = a->hash_seed();
  }
  for (int restart = 0; restart < 2; ++restart) {
    auto b = load(c);
    ASSERT_TRUE(b);
    EXPECT_EQ(b->hash_seed(), seed) << "restart " << restart;
    ASSERT_TRUE(b->attach(ns.a()));
  }
  // The seed comes from the pinned fpm_abi map, which the service reads with
  // the capabilities it has (no CAP_SYS_ADMIN): run the restart without it.
  UniqueFd abi(bpf_obj_get((pin_dir + "/fpm_abi").c_str()));
  ASSERT_TRUE(abi);
  const uint32_t key = FPM_ABI_KEY_HASH_SEED, planted = seed ^ 0x5a5a5a5a;
  ASSERT_EQ(0, bpf_map_update_elem(abi.get(), &key, &planted, BPF_ANY));
  {
    EffectiveCapabilityDropped no_sys_admin(CAP_SYS_ADMIN);
    ASSERT_TRUE(no_sys_admin.dropped());
    auto b = load(c);
    ASSERT_TRUE(b);
    EXPECT_EQ(b->hash_seed(), planted);
  }
}

// Warm restart through the real maps: the second instance adopts the first's
// tables, stages its own behind them without touching what the kernel sees,
// and only commit() makes them visible.
TEST_F(DataplaneBpf, WarmRestartStagesBehindTheAdoptedTables) {
  StaticKernelView kernel;
  kernel.set_link(5, {{2, 0, 0, 0, 0, 5}, 1500, true});
  kernel.set_neighbour(A("10.0.0.1"), 5, {{2, 0, 0, 0, 9, 1}, true});
  kernel.set_neighbour(A("10.0.0.2"), 5, {{2, 0, 0, 0, 9, 2}, true});
  auto config_keep = [&] {
    auto c = config();
    c.keep_on_exit = true;
    return c;
  };
  auto group_of = [](uint32_t id, const char* gw) {
    ResolvedNextHop m;
    m.nh.gateway = A(gw);
    m.nh.ifindex = 5;
    return FibGroup{id, false, {m}};
  };
  auto route = [](const char* prefix, uint32_t group) {
    RouteView r;
    r.prefix = P(prefix);
    r.group_id = group;
    return r;
  };
  FibOffloadLimits cfg;
  cfg.max_groups = 64;
  cfg.max_nexthops = 1024;

  uint32_t old_fwd = 0, old_long = 0;
  {
    auto a = load(config_keep());
    ASSERT_TRUE(a);
    BpfMapWriter writer(*a);
    FakeAnnouncedRoutes routes;
    FibOffload fp(cfg, writer, kernel, kernel, routes);
    fp.group_changed(ChangeKind::Added, group_of(1000, "10.0.0.1"));
    routes.announce(fp, ChangeKind::Added, route("192.0.2.0/24", 1000));
    routes.announce(fp, ChangeKind::Added, route("198.51.100.128/25", 1000));
    routes.announce(fp, ChangeKind::Added, route("2001:db8:1::/48", 1000));
    old_fwd = fpm_act_make(FPM_ACT_FORWARD, *fp.group_index(1000));
    old_long = tbl24_entry(*a, "198.51.100.200");
    ASSERT_TRUE(old_long & LPM_ENTRY_NODE);
  }  // exits with keep_on_exit: the maps stay pinned with their contents

  auto b = load(config_keep());
  ASSERT_TRUE(b);
  lpm::LpmOptions adopt;
  adopt.adopt_live = true;
  BpfMapWriter writer(*b, adopt);
  ASSERT_TRUE(writer.staging());
  const auto live = writer.live_indices();
  ASSERT_EQ(live.groups.size(), 1u);
  EXPECT_EQ(fpm_act_make(FPM_ACT_FORWARD, live.groups[0]), old_fwd);
  EXPECT_EQ(live.nexthops.size(), 1u);

  FakeAnnouncedRoutes routes;

  FibOffload fp(cfg, writer, kernel, kernel, routes);
  fp.hold_indices(live.groups, live.nexthops);
  // zebra's replay, with a change made while fpm-sink was down.
  fp.group_changed(ChangeKind::Added, group_of(2000, "10.0.0.2"));
  routes.announce(fp, ChangeKind::Added, route("192.0.2.0/24", 2000));
  routes.announce(fp, ChangeKind::Added, route("203.0.113.0/24", 2000));
  routes.announce(fp, ChangeKind::Added, route("2001:db8:1::/48", 2000));
  const uint32_t new_fwd = fpm_act_make(FPM_ACT_FORWARD, *fp.group_index(2000));
  EXPECT_NE(new_fwd, old_fwd);
  for (uint32_t nh : live.nexthops) {
    fpm_nexthop e{};
    ASSERT_EQ(0, bpf_map_lookup_elem(b->map_fd("fpm_nexthops"), &nh, &e));
    EXPECT_EQ(e.dst_mac[5], 1) << "the adopted next hop " << nh << " was overwritten";
  }
  // The kernel still sees the adopted tables.
  EXPECT_EQ(tbl24_entry(*b, "192.0.2.9"), old_fwd);
  EXPECT_EQ(tbl24_entry(*b, "198.51.100.200"), old_long);
  EXPECT_EQ(tbl24_entry(*b, "203.0.113.1"), 0u);
  EXPECT_EQ(writer.v4().lookup(A("198.51.100.200")), old_fwd);
  EXPECT_EQ(writer.v6().lookup(A("2001:db8:1::5")), old_fwd);

  writer.commit();
  fp.release_held();
  EXPECT_FALSE(writer.staging());
  EXPECT_EQ(tbl24_entry(*b, "192.0.2.9"), new_fwd);
  EXPECT_EQ(tbl24_entry(*b, "203.0.113.1"), new_fwd);
  EXPECT_EQ(tbl24_entry(*b, "198.51.100.200"), 0u);  // withdrawn while down
  EXPECT_EQ(writer.v6().lookup(A("2001:db8:1::5")), new_fwd);
  // Writes go straight to the live maps again.
  routes.announce(fp, ChangeKind::Added, route("198.51.100.0/24", 2000));
  EXPECT_EQ(tbl24_entry(*b, "198.51.100.200"), new_fwd);
}

TEST_F(DataplaneBpf, IncompatiblePinnedMapsAreRefusedOrReplaced) {
  {
    auto c = config();
    c.keep_on_exit = true;
    ASSERT_TRUE(load(c));
  }
  auto c = config();
  c.v4_tbl8_groups = 512;
  c.replace_incompatible_pins = false;
  auto refused = XdpProgram::load(c);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().id, "bpf.pin");
  c.replace_incompatible_pins = true;
  auto replaced = load(c);
  ASSERT_TRUE(replaced);
  EXPECT_EQ(replaced->memory().tbl8_groups, 512u);
}

// Same shapes, other meanings: pins written by a build of another ABI (or by
// one from before the version was pinned) are never adopted.
TEST_F(DataplaneBpf, PinnedMapsOfAnotherAbiVersionAreNotAdopted) {
  const uint32_t zero = 0, key = 7;
  auto leave_pins = [&](std::optional<uint32_t> abi) {
    auto c = config();
    c.keep_on_exit = true;
    auto a = load(c);
    ASSERT_TRUE(a);
    uint32_t version = 0;
    ASSERT_EQ(0, bpf_map_lookup_elem(a->map_fd("fpm_abi"), &zero, &version));
    EXPECT_EQ(version, FPM_ABI_VERSION);
    fpm_nexthop nh{};
    nh.ifindex = 42;
    ASSERT_EQ(0, bpf_map_update_elem(a->map_fd("fpm_nexthops"), &key, &nh, BPF_ANY));
    if (!abi)
      ASSERT_EQ(0, ::unlink((pin_dir + "/fpm_abi").c_str()));
    else
      ASSERT_EQ(0, bpf_map_update_elem(a->map_fd("fpm_abi"), &zero, &*abi, BPF_ANY));
  };
  auto adopted_nexthop = [&](const XdpProgram& p) {
    fpm_nexthop nh{};
    EXPECT_EQ(0, bpf_map_lookup_elem(p.map_fd("fpm_nexthops"), &key, &nh));
    return nh.ifindex;
  };

  leave_pins(FPM_ABI_VERSION);  // control: the same version is adopted
  {
    auto c = config();
    c.keep_on_exit = true;
    auto same = load(c);
    ASSERT_TRUE(same);
    EXPECT_TRUE(same->reused_pinned_maps());
    EXPECT_EQ(adopted_nexthop(*same), 42u);
  }
  for (std::optional<uint32_t> other :
       {std::optional<uint32_t>(FPM_ABI_VERSION + 1), std::optional<uint32_t>(std::nullopt)}) {
    leave_pins(other);
    auto c = config();
    c.replace_incompatible_pins = false;  // told not to replace: refused, not adopted
    auto refused = XdpProgram::load(c);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().id, "bpf.pin.abi");
    c.replace_incompatible_pins = true;
    c.keep_on_exit = true;
    auto cold = load(c);
    ASSERT_TRUE(cold);
    EXPECT_FALSE(cold->reused_pinned_maps());
    EXPECT_EQ(adopted_nexthop(*cold), 0u);
    uint32_t version = 0;
    ASSERT_EQ(0, bpf_map_lookup_elem(cold->map_fd("fpm_abi"), &zero, &version));
    EXPECT_EQ(version, FPM_ABI_VERSION);
  }
}

TEST_F(DataplaneBpf, AttachNativeAndGenericThenDetach) {
  fpm_test::NetnsVeth ns;
  ASSERT_TRUE(ns.ok());
  auto c = config();
  c.pin = false;
  auto prog = load(c);
  ASSERT_TRUE(prog);
  auto s = prog->attach(ns.a(), XdpMode::Native);
  ASSERT_TRUE(s) << s.error().to_string();
  s = prog->attach(ns.b(), XdpMode::Generic);
  ASSERT_TRUE(s) << s.error().to_string();
  uint32_t id = 0;
  ASSERT_EQ(0, bpf_xdp_query_id(static_cast<int>(ns.a()), XDP_FLAGS_DRV_MODE, &id));
  EXPECT_NE(id, 0u);
  ASSERT_EQ(0, bpf_xdp_query_id(static_cast<int>(ns.b()), XDP_FLAGS_SKB_MODE, &id));
  EXPECT_NE(id, 0u);
  EXPECT_EQ(prog->attached().size(), 2u);

  // A second program cannot take a port the link owns.
  auto other = load(c);
  ASSERT_TRUE(other);
  auto busy = other->attach(ns.a());
  ASSERT_FALSE(busy);
  EXPECT_EQ(busy.error().id, "bpf.attach");

  ASSERT_TRUE(prog->detach(ns.a()));
  ASSERT_EQ(0, bpf_xdp_query_id(static_cast<int>(ns.a()), 0, &id));
  EXPECT_EQ(id, 0u);
  prog.reset();  // destructor detaches the rest
  ASSERT_EQ(0, bpf_xdp_query_id(static_cast<int>(ns.b()), 0, &id));
  EXPECT_EQ(id, 0u);
}

TEST_F(DataplaneBpf, PortsAndCounters) {
  fpm_test::NetnsVeth ns;
  ASSERT_TRUE(ns.ok());
  auto c = config();
  c.pin = false;
  auto prog = load(c);
  ASSERT_TRUE(prog);
  BpfMapWriter writer(*prog);
  StaticKernelView kernel;
  LinkEntry link{{2, 0, 0, 0, 0, 0xa}, 1500, true};
  link.forward_v4 = true;  // IPv6 forwarding off on this port
  kernel.set_link(ns.a(), link);
  FakeAnnouncedRoutes routes;
  FibOffload fp(FibOffloadLimits{}, writer, kernel, kernel, routes);
  ASSERT_TRUE(fp.add_port(ns.a()));
  fpm_iface iface{};
  uint32_t key = ns.a();
  ASSERT_EQ(0, bpf_map_lookup_elem(prog->map_fd("fpm_ifaces"), &key, &iface));
  // Nobody said whether the port sends redirects: it counts as sending.
  EXPECT_EQ(iface.flags,
            FPM_IFACE_F_V4 | FPM_IFACE_F_V6 | FPM_IFACE_F_FWD4 | FPM_IFACE_F_REDIRECTS4);
  uint32_t target = 0;
  ASSERT_EQ(0, bpf_map_lookup_elem(prog->map_fd("fpm_tx_ports"), &key, &target));
  EXPECT_EQ(target, ns.a());
  auto counters = prog->counters();
  ASSERT_TRUE(counters) << counters.error().to_string();
  EXPECT_EQ(counters->size(), FPM_CNT_MAX);
}

}  // namespace
}  // namespace fpm_sink
