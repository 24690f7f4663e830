// How fast RIB events become BPF map contents, and what a next-hop change
// costs under a full table.
//
//   events (pre-built, not timed) -> Rib::apply -> FibOffload (observer)
//        -> BpfMapWriter -> mmap'ed LPM arrays / fpm_nhg / fpm_nexthops
//
// Progress on stderr; the last stdout line is one JSON object.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <string>

#include "app/offload_feedback.hpp"
#include "dataplane/bpf_map_writer.hpp"
#include "dataplane/fib_offload.hpp"
#include "dataplane/xdp_program.hpp"
#include "rib/rib.hpp"
#include "synth_tables.hpp"

using namespace fpm_sink;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  size_t v4 = 1000000, v6 = 200000, small = 10000;
  uint64_t seed = 42;
  uint32_t tbl8_groups = 65536, v6_nodes = 262144;  // 64 MiB, 256 MiB
  bool shuffle = false;
  // Queue every route for an offload reply as the daemon does (on by default
  // there), then time encoding all the replies.
  bool offload_feedback = false;
  std::string writer = "bpf";  // bpf | null (FibOffload without LPM/map writes) | none (RIB only)
                               // // zebra replays in table order; --random for the harsh case
};

double secs(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// CPU time of this thread: the machine is shared (parallel builds), so wall
// time alone overstates what the code costs.
double cpu_now() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

// Resident memory of this process (VmRSS), in bytes: the userspace cost of
// holding the tables (RIB, fast-path state, LPM control copies), next to the
// BPF maps' own (map_bytes_*), which live in the kernel.
size_t rss_bytes() {
  FILE* f = std::fopen("/proc/self/status", "r");
  if (!f) return 0;
  char line[256];
  size_t kib = 0;
  while (std::fgets(line, sizeof line, f))
    if (std::sscanf(line, "VmRSS: %zu kB", &kib) == 1) break;
  std::fclose(f);
  return kib * 1024;
}

// Accepts every write and keeps nothing: isolates FibOffload's own cost from
// the LPM writers' (--writer null).
class NullMapWriter final : public MapWriter {
 public:
  Status write_nexthop(uint32_t, const fpm_nexthop&) override { return ok_status(); }
  Status write_buckets(uint32_t, std::span<const uint32_t>,
                       std::span<const uint32_t, FPM_NHG_BUCKETS>, uint32_t) override {
    return ok_status();
  }
  Status publish_group(uint32_t, uint32_t) override { return ok_status(); }
  Result<RouteWrite> route_set(const Prefix&, uint32_t) override { return RouteWrite::Installed; }
  Status route_remove(const Prefix&) override { return ok_status(); }
  Status vrf_table_attach(uint16_t, uint32_t) override { return ok_status(); }
  Status vrf_table_detach(uint16_t) override { return ok_status(); }
  Result<RouteWrite> vrf_route_set(uint16_t, const Prefix&, uint32_t) override {
    return RouteWrite::Installed;
  }
  Status vrf_route_remove(uint16_t, const Prefix&) override { return ok_status(); }
  Status write_host(uint16_t, const IpAddr&, const fpm_nexthop&) override { return ok_status(); }
  Status remove_host(uint16_t, const IpAddr&) override { return ok_status(); }
  Status write_iface(uint32_t, const fpm_iface&) override { return ok_status(); }
  Status remove_iface(uint32_t) override { return ok_status(); }
  Status add_tx_port(uint32_t) override { return ok_status(); }
  Status remove_tx_port(uint32_t) override { return ok_status(); }
  Status add_tx_via(uint32_t, uint32_t) override { return ok_status(); }
  Status clear_port_counters(uint32_t) override { return ok_status(); }
  Status write_vlan(uint32_t, uint16_t, uint32_t) override { return ok_status(); }
  Status remove_vlan(uint32_t, uint16_t) override { return ok_status(); }
};

// Feeds events the way the daemon's Ingest does: in batches of one socket
// read (512 KiB of ~100-byte frames, one route each) through Rib::apply_batch,
// which prefetches ahead. Returns the number of refused events.
size_t apply_all(Rib& rib, std::span<FpmEvent> events) {
  constexpr size_t kBatch = 4096;
  size_t errors = 0;
  for (size_t i = 0; i < events.size(); i += kBatch) {
    const auto chunk = events.subspan(i, std::min(kBatch, events.size() - i));
    rib.apply_batch(chunk, [&](size_t, const Error& e) {
      if (errors++ == 0) std::fprintf(stderr, "program: %s\n", e.to_string().c_str());
    });
  }
  return errors;
}

constexpr uint32_t kPorts = 4, kFirstIfindex = 100, kNextHops = 64, kGroups = 32;
constexpr uint32_t kGroupBase = 1000;

IpAddr gateway(uint32_t i) {
  return IpAddr::v4(0x0aff0000u + i + 1);
}  // 10.255.0.x
uint32_t port_of(uint32_t i) {
  return kFirstIfindex + i % kPorts;
}

std::vector<FpmEvent> nexthop_events() {
  std::vector<FpmEvent> ev;
  for (uint32_t i = 0; i < kNextHops; ++i) {
    NexthopAdd nh;
    nh.id = i + 1;
    NextHop single;
    single.gateway = gateway(i);
    single.ifindex = port_of(i);
    nh.body = single;
    ev.emplace_back(nh);
  }
  for (uint32_t g = 0; g < kGroups; ++g) {
    NexthopAdd grp;
    grp.id = kGroupBase + g;
    std::vector<NexthopGroupMember> members;
    const uint32_t width = 1 + g % 8;  // 1..8-way ECMP
    for (uint32_t m = 0; m < width; ++m) members.push_back({(g * 3 + m) % kNextHops + 1, 1});
    grp.body = members;
    ev.emplace_back(grp);
  }
  return ev;
}

std::vector<FpmEvent> route_events(std::vector<Prefix> prefixes) {
  std::vector<FpmEvent> ev;
  ev.reserve(prefixes.size());
  uint32_t i = 0;
  for (auto& p : prefixes) {
    RouteAdd r;
    r.prefix = p;
    r.protocol = proto_id::bgp;
    r.metric = 20;
    r.nhg_id = kGroupBase + (i++ * 2654435761u) % kGroups;
    ev.emplace_back(std::move(r));
  }
  return ev;
}

void sort_like_zebra(std::vector<Prefix>& v) {
  std::sort(v.begin(), v.end());
}

// Median wall time of FibOffload::neighbour_changed() toggling one neighbour
// between resolved and unresolved: each toggle is exactly one map write.
double nexthop_change_us(StaticKernelView& kernel, FibOffload& fp, int reps, uint64_t& writes) {
  std::vector<double> us;
  const IpAddr gw = gateway(0);
  const uint32_t ifindex = port_of(0);
  const uint64_t before = fp.stats().nexthop_refreshes;
  for (int i = 0; i < reps; ++i) {
    kernel.set_neighbour(gw, ifindex, {{2, 0, 0, 0, 0, 1}, i % 2 == 1});
    const auto t0 = Clock::now();
    auto r = fp.neighbour_changed(gw, ifindex);
    const auto t1 = Clock::now();
    if (!r) std::fprintf(stderr, "program: %s\n", r.error().to_string().c_str());
    us.push_back(secs(t0, t1) * 1e6);
  }
  writes = fp.stats().nexthop_refreshes - before;
  std::sort(us.begin(), us.end());
  return us[us.size() / 2];
}

size_t map_bytes(const XdpProgram& prog) {
  static const char* names[] = {"lpm4_tbl24",       "lpm4_tbl8",    "lpm6_root",  "lpm6_nodes",
                                "fpm_nhg",          "fpm_nexthops", "fpm_ifaces", "fpm_local4",
                                "fpm_local6",       "fpm_tx_ports", "fpm_stats",  "fpm_iface_stats",
                                "fpm_iface_reasons"};
  size_t total = 0;
  const size_t ncpu = static_cast<size_t>(std::max(1, libbpf_num_possible_cpus()));
  for (const char* n : names) {
    const int fd = prog.map_fd(n);
    if (fd < 0) continue;
    bpf_map_info info{};
    uint32_t len = sizeof info;
    if (bpf_obj_get_info_by_fd(fd, &info, &len) != 0) continue;
    size_t per = (info.value_size + 7) & ~size_t{7};
    if (info.type == BPF_MAP_TYPE_PERCPU_ARRAY) per *= ncpu;
    if (info.type == BPF_MAP_TYPE_HASH) per += info.key_size;
    total += per * info.max_entries;
  }
  return total;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto val = [&] { return i + 1 < argc ? std::stoull(argv[++i]) : 0ull; };
    if (a == "--v4")
      o.v4 = val();
    else if (a == "--v6")
      o.v6 = val();
    else if (a == "--seed")
      o.seed = val();
    else if (a == "--tbl8")
      o.tbl8_groups = static_cast<uint32_t>(val());
    else if (a == "--v6-nodes")
      o.v6_nodes = static_cast<uint32_t>(val());
    else if (a == "--random")
      o.shuffle = true;
    else if (a == "--offload-feedback")
      o.offload_feedback = true;
    else if (a == "--writer" && i + 1 < argc)
      o.writer = argv[++i];
  }
  o.small = std::min(o.small, o.v4);
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  const Options opt = parse(argc, argv);
  if (::geteuid() != 0) {
    std::fprintf(stderr, "program: needs root (BPF maps)\n");
    return 2;
  }
  XdpProgramConfig pc;
  pc.pin = false;
  pc.v4_tbl8_groups = opt.tbl8_groups;
  pc.v6_nodes = opt.v6_nodes;
  auto prog = XdpProgram::load(pc);
  if (!prog) {
    std::fprintf(stderr, "program: %s\n", prog.error().to_string().c_str());
    return 1;
  }
  BpfMapWriter writer(**prog);
  NullMapWriter null_writer;
  StaticKernelView kernel;
  for (uint32_t p = 0; p < kPorts; ++p)
    kernel.set_link(kFirstIfindex + p, {{2, 0, 0, 0, 1, static_cast<uint8_t>(p)}, 1500, true});
  for (uint32_t i = 0; i < kNextHops; ++i)
    kernel.set_neighbour(gateway(i), port_of(i), {{2, 0, 0, 0, 2, static_cast<uint8_t>(i)}, true});
  FibOffloadLimits fc;
  fc.max_groups = (*prog)->memory().max_groups;
  fc.max_nexthops = pc.max_nexthops;
  Rib rib;
  FibOffload fp(fc, opt.writer == "null" ? static_cast<MapWriter&>(null_writer) : writer, kernel,
                kernel, rib);
  if (opt.writer != "none") rib.set_observer(&fp);
  std::optional<OffloadFeedback> feedback;
  if (opt.offload_feedback) feedback.emplace(rib, fp, nullptr);

  std::fprintf(stderr, "program: generating %zu IPv4 + %zu IPv6 prefixes (seed %llu)\n", opt.v4,
               opt.v6, static_cast<unsigned long long>(opt.seed));
  auto v4 = fpm_bench::synth_v4(opt.v4, opt.seed);
  auto v6 = fpm_bench::synth_v6(opt.v6, opt.seed);
  if (!opt.shuffle) {
    sort_like_zebra(v4);
    sort_like_zebra(v6);
  } else {
    std::mt19937_64 g(opt.seed);
    std::shuffle(v4.begin(), v4.end(), g);
    std::shuffle(v6.begin(), v6.end(), g);
  }
  // The 10k-route point for the next-hop change: the first routes of a
  // separate small table would share nothing; take a prefix of the same stream.
  const std::vector<Prefix> v4_prefixes = v4;  // for the warm-restart figures
  auto v4_events = route_events(std::move(v4));
  auto v6_events = route_events(std::move(v6));

  // The same IPv4 stream into a RIB without observer: what the model alone
  // costs, to split the figure below into RIB and dataplane.
  double v4_rib_only_s = 0;
  {
    auto copy = v4_events;
    Rib alone;
    alone.reserve(opt.v4);
    for (auto& e : nexthop_events()) (void)alone.apply(std::move(e));
    const auto t = Clock::now();
    (void)apply_all(alone, copy);
    v4_rib_only_s = secs(t, Clock::now());
  }
  const size_t rss_before = rss_bytes();  // before the tables' own reservations
  rib.reserve(opt.v4 + opt.v6);
  fp.reserve(opt.v4, opt.v6);  // start-up, like the daemon does from its config
  for (auto& e : nexthop_events())
    if (auto s = rib.apply(std::move(e)); !s)
      std::fprintf(stderr, "program: %s\n", s.error().to_string().c_str());

  // IPv4, timed in two legs so the 10k-route next-hop measurement sits between.
  double v4_s = 0, v4_cpu = 0;
  auto t0 = Clock::now();
  double c0 = cpu_now();
  (void)apply_all(rib, std::span(v4_events).first(opt.small));
  v4_s += secs(t0, Clock::now());
  v4_cpu += cpu_now() - c0;
  uint64_t writes_small = 0;
  const double nh_small = nexthop_change_us(kernel, fp, 201, writes_small);
  t0 = Clock::now();
  c0 = cpu_now();
  (void)apply_all(rib, std::span(v4_events).subspan(opt.small));
  v4_s += secs(t0, Clock::now());
  v4_cpu += cpu_now() - c0;
  const auto after_v4 = fp.stats();
  std::fprintf(stderr, "program: IPv4 %zu routes in %.3f s (%.0f routes/s), failed %llu\n", opt.v4,
               v4_s, opt.v4 / v4_s, static_cast<unsigned long long>(after_v4.routes_failed));

  t0 = Clock::now();
  c0 = cpu_now();
  (void)apply_all(rib, v6_events);
  const double v6_s = secs(t0, Clock::now());
  const double v6_cpu = cpu_now() - c0;
  const auto after_v6 = fp.stats();
  std::fprintf(stderr, "program: IPv6 %zu routes in %.3f s, failed %llu\n", opt.v6, v6_s,
               static_cast<unsigned long long>(after_v6.routes_failed - after_v4.routes_failed));

  // Every route's reply, in the daemon's batch size (what zebra would read).
  double replies_s = 0;
  size_t replies = 0, reply_bytes = 0;
  if (feedback) {
    std::vector<uint8_t> batch;
    const auto t = Clock::now();
    while (feedback->pending()) {
      batch.clear();
      replies += feedback->fill(batch, 256 * 1024);
      reply_bytes += batch.size();
    }
    replies_s = secs(t, Clock::now());
    std::fprintf(stderr, "program: %zu offload replies (%zu bytes) encoded in %.3f s\n", replies,
                 reply_bytes, replies_s);
  }

  const size_t rss_after = rss_bytes();
  uint64_t writes_full = 0;
  const double nh_full = nexthop_change_us(kernel, fp, 201, writes_full);

  // One member leaves an 8-way group used by ~1/32 of all routes.
  const uint32_t g8 = kGroupBase + 7;
  NexthopAdd shrink;
  shrink.id = g8;
  std::vector<NexthopGroupMember> members;
  for (uint32_t m = 0; m < 7; ++m) members.push_back({(7 * 3 + m) % kNextHops + 1, 1});
  shrink.body = members;
  shrink.replace = true;
  const uint64_t buckets_before = fp.stats().bucket_writes;
  t0 = Clock::now();
  (void)rib.apply(FpmEvent{shrink});
  const double member_us = secs(t0, Clock::now()) * 1e6;
  const uint64_t buckets_moved = fp.stats().bucket_writes - buckets_before;

  // Warm restart, IPv4: a second writer adopts the live tables, stages the
  // same million routes behind them, and publishes them (what the daemon does
  // when zebra's replay has caught up). Last, as it takes the tables over.
  double stage_s = 0, commit_ms = 0;
  size_t stage_failed = 0;
  {
    const MapMemory& m = (*prog)->memory();
    lpm::LpmOptions adopt;
    adopt.adopt_live = true;
    lpm::Lpm4Table staged(
        std::span<uint32_t>(m.lpm4_tbl24, size_t{LPM4_TBL24_ROWS} * LPM_ROW_ENTRIES),
        std::span<uint32_t>(m.lpm4_tbl8, size_t{m.tbl8_groups} * LPM_ROW_ENTRIES), adopt);
    staged.reserve(v4_prefixes.size());
    const uint32_t action = fpm_act_make(FPM_ACT_FORWARD, 1);
    auto t = Clock::now();
    for (const Prefix& p : v4_prefixes) stage_failed += !staged.insert(p, action).ok();
    stage_s = secs(t, Clock::now());
    t = Clock::now();
    staged.commit();
    commit_ms = secs(t, Clock::now()) * 1e3;
    std::fprintf(stderr,
                 "program: warm restart: staged %zu IPv4 routes in %.3f s, commit %.1f ms\n",
                 v4_prefixes.size(), stage_s, commit_ms);
  }

  const size_t routes = opt.v4 + opt.v6;
  const size_t bytes = map_bytes(**prog);
  const auto s4 = writer.v4().stats(), s6 = writer.v6().stats();
  const size_t used = size_t{LPM4_TBL24_ROWS} * 1024 + size_t{s4.nodes_used} * 1024 +
                      size_t{LPM6_ROOT_ROWS} * 1024 + size_t{s6.nodes_used} * 1024 +
                      size_t{fp.stats().groups_forwarding} * sizeof(fpm_nhg) +
                      fp.stats().nexthops * sizeof(fpm_nexthop);

  nlohmann::json j;
  j["bench"] = "program";
  j["order"] = opt.shuffle ? "random" : "table";
  j["writer"] = opt.writer;
  j["v4_routes"] = opt.v4;
  j["v4_program_s"] = v4_s;
  j["v4_program_cpu_s"] = v4_cpu;
  j["v4_rib_only_s"] = v4_rib_only_s;  // same stream, RIB without the fast path
  j["v4_routes_per_s"] = opt.v4 / v4_s;
  j["v4_failed"] = after_v4.routes_failed;
  j["v4_tbl8_used"] = s4.nodes_used;
  j["v6_routes"] = opt.v6;
  j["v6_program_s"] = v6_s;
  j["v6_program_cpu_s"] = v6_cpu;
  j["v6_routes_per_s"] = opt.v6 / v6_s;
  j["v6_failed"] = after_v6.routes_failed - after_v4.routes_failed;
  j["v6_nodes_used"] = s6.nodes_used;
  j["nexthop_change_us"] = nh_full;
  j["nexthop_change_us_at_routes"] = routes;
  j["nexthop_change_us_10k"] = nh_small;
  j["nexthop_change_writes_per_change"] = writes_full / 201.0;
  j["nexthop_change_writes_per_change_10k"] = writes_small / 201.0;
  j["group_member_remove_us"] = member_us;
  j["group_member_remove_buckets_moved"] = buckets_moved;
  j["map_bytes_total"] = bytes;
  j["map_bytes_per_route"] = static_cast<double>(bytes) / routes;
  j["map_bytes_used_per_route"] = static_cast<double>(used) / routes;
  // Userspace resident growth from before the tables were reserved to every
  // route programmed (the event vectors were built before: not included).
  j["process_bytes_per_route"] = static_cast<double>(rss_after - rss_before) / routes;
  j["warm_restart_v4_stage_s"] = stage_s;
  j["warm_restart_v4_stage_failed"] = stage_failed;
  j["warm_restart_v4_commit_ms"] = commit_ms;
  j["offload_feedback"] = opt.offload_feedback;
  if (feedback) {
    j["offload_replies"] = replies;
    j["offload_reply_bytes"] = reply_bytes;
    j["offload_replies_s"] = replies_s;
  }
  std::printf("%s\n", j.dump().c_str());
  return 0;
}
