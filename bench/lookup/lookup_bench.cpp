// Lookup benchmark driver (see run.sh). Loads the bench BPF objects, fills the
// tables with the C++ writers through mmap, and times each lookup method in
// BPF_PROG_TEST_RUN over the same random destinations inside the table:
// ns = summed test-run duration / lookups, raw (nothing subtracted; the cost
// of the empty loop is reported next to it as loop_ns).
// Progress on stderr; one JSON object on the last line of stdout.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <net/if.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "dataplane/lpm/lpm_table.hpp"
#include "dataplane/lpm/mapped_rows.hpp"
#include "lookup_bench.skel.h"
#include "lookup_bench_r16.skel.h"

namespace {

using namespace fpm_sink;
using namespace fpm_sink::lpm;

constexpr uint32_t kDests = 1u << 20;
constexpr uint32_t kBatch = 1u << 16;

struct Options {
  std::string v4, v6, synth, dev;
  size_t fib4 = 0, fib6 = 0;  // how many leading routes of v4 / v6 are in the kernel FIB
  uint32_t passes = 4;        // times over the 1M destinations per method
  uint32_t tbl8 = 1u << 17, nodes6 = 1u << 19, nodes6_r16 = 1u << 19;
};

void log(const std::string& s) {
  std::cerr << "lookup: " << s << std::endl;
}

[[noreturn]] void die(const std::string& s) {
  std::cerr << "lookup: " << s << std::endl;
  std::exit(1);
}

std::vector<Prefix> read_prefixes(const std::string& path) {
  std::vector<Prefix> out;
  std::ifstream in(path);
  if (!in) die("cannot read " + path);
  std::string line;
  while (std::getline(in, line))
    if (auto p = Prefix::parse(line)) out.push_back(*p);
  return out;
}

struct Trie4Key {  // as struct trie4_key in lookup_bench.bpf.c
  uint32_t prefixlen;
  uint8_t addr[4];
};
struct Trie6Key {
  uint32_t prefixlen;
  uint8_t addr[16];
};

uint32_t action_for(size_t i) {
  return fpm_act_make(FPM_ACT_FORWARD, 1 + i % 65521);
}

std::vector<LpmRoute> routes_of(const std::vector<Prefix>& ps) {
  std::vector<LpmRoute> r;
  r.reserve(ps.size());
  for (size_t i = 0; i < ps.size(); ++i) r.push_back({ps[i], action_for(i)});
  return r;
}

IpAddr random_inside(const Prefix& p, std::mt19937_64& rng) {
  IpAddr a = p.addr;
  for (unsigned bit = p.len; bit < max_prefix_len(p.family()); ++bit)
    if (rng() & 1) a.bytes[bit / 8] |= static_cast<uint8_t>(0x80u >> (bit % 8));
  return a;
}

// 1M destinations inside the first `limit` prefixes (uniform over prefixes).
void fill_dests(std::span<uint32_t> mem, const std::vector<Prefix>& ps, size_t limit,
                uint64_t seed) {
  std::mt19937_64 rng(seed);
  const size_t n = std::min(limit, ps.size());
  auto* d = reinterpret_cast<uint8_t*>(mem.data());
  for (uint32_t i = 0; i < kDests; ++i) {
    const IpAddr a = random_inside(ps[rng() % n], rng);
    std::memcpy(d + size_t(i) * 16, a.bytes.data(), 16);
  }
}

struct Timing {
  double ns = 0;
  double hit = 0;  // fraction of lookups that found something
};

template <class Bss>
Timing run(const bpf_program* prog, Bss* bss, uint32_t passes, int ifindex) {
  uint64_t total_ns = 0, lookups = 0;
  bss->found = 0;
  uint8_t pkt[64] = {};
  xdp_md ctx = {};
  ctx.data_end = sizeof pkt;
  ctx.ingress_ifindex = ifindex;
  for (uint32_t p = 0; p < passes; ++p)
    for (uint32_t off = 0; off < kDests; off += kBatch) {
      bss->start = off;
      bss->count = kBatch;
      LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = sizeof pkt,
                  .ctx_in = ifindex ? &ctx : nullptr,
                  .ctx_size_in = ifindex ? static_cast<__u32>(sizeof ctx) : 0u, .repeat = 1);
      if (int err = bpf_prog_test_run_opts(bpf_program__fd(prog), &o))
        die(std::string("test run ") + bpf_program__name(prog) + ": " + std::strerror(-err));
      total_ns += o.duration;
      lookups += kBatch;
    }
  return {double(total_ns) / double(lookups), double(bss->found) / double(lookups)};
}

template <class Key>
void fill_trie(bpf_map* m, const std::vector<Prefix>& ps) {
  for (size_t i = 0; i < ps.size(); ++i) {
    Key k{};
    k.prefixlen = ps[i].len;
    std::memcpy(k.addr, ps[i].addr.bytes.data(), sizeof k.addr);
    const uint32_t v = action_for(i);
    if (bpf_map__update_elem(m, &k, sizeof k, &v, sizeof v, BPF_ANY))
      die("lpm trie update failed for " + ps[i].to_string());
  }
}

// Dependent table reads per IPv6 lookup (root entry + trie nodes) over the
// destinations, walked on the mmap'ed maps as lpm6_lookup() walks them: what
// the lookup's cost scales with (each read is one cache line, see bpf/lpm6.h).
double v6_reads_per_lookup(const lpm6_view& v, std::span<const uint32_t> dests) {
  const auto* d = reinterpret_cast<const uint8_t*>(dests.data());
  uint64_t reads = 0;
  for (uint32_t i = 0; i < kDests; ++i) {
    const uint8_t* a = d + size_t(i) * 16;
    const uint32_t root = uint32_t(a[0]) << 16 | uint32_t(a[1]) << 8 | a[2];
    uint32_t e = v.root[root];
    ++reads;
    for (int b = LPM6_ROOT_BYTES; b < 16 && (e & LPM_ENTRY_NODE); ++b, ++reads)
      e = v.nodes[size_t(e & LPM_INDEX_MASK) << LPM_ROW_SHIFT | a[b]];
  }
  return double(reads) / kDests;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

double r2(double v) {
  return std::round(v * 100) / 100;
}
double r3(double v) {
  return std::round(v * 1000) / 1000;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--v4")
      o.v4 = v;
    else if (k == "--v6")
      o.v6 = v;
    else if (k == "--synth")
      o.synth = v;
    else if (k == "--dev")
      o.dev = v;
    else if (k == "--fib4")
      o.fib4 = std::stoul(v);
    else if (k == "--fib6")
      o.fib6 = std::stoul(v);
    else if (k == "--passes")
      o.passes = std::stoul(v);
    else if (k == "--tbl8")
      o.tbl8 = std::stoul(v);
    else if (k == "--nodes6")
      o.nodes6 = std::stoul(v);
    else
      die("unknown option " + k);
  }
  const int ifindex = o.dev.empty() ? 0 : static_cast<int>(if_nametoindex(o.dev.c_str()));
  if (!o.dev.empty() && !ifindex) die("no such device " + o.dev);

  const auto v4 = read_prefixes(o.v4), v6 = read_prefixes(o.v6), synth = read_prefixes(o.synth);
  log("prefixes: v4 " + std::to_string(v4.size()) + ", v6 " + std::to_string(v6.size()) +
      ", synth " + std::to_string(synth.size()));

  std::unique_ptr<lookup_bench, void (*)(lookup_bench*)> skel(lookup_bench__open(),
                                                              lookup_bench__destroy);
  if (!skel) die("open failed");
  bpf_map__set_max_entries(skel->maps.lpm4_tbl8, o.tbl8);
  bpf_map__set_max_entries(skel->maps.lpm6_nodes, o.nodes6);
  bpf_map__set_max_entries(skel->maps.trie4, std::max<size_t>(v4.size(), 1));
  bpf_map__set_max_entries(skel->maps.trie6, std::max<size_t>(v6.size(), 1));
  if (int err = lookup_bench__load(skel.get())) die("load failed: " + std::to_string(err));
  auto tbl24 = MappedRows::map(skel->maps.lpm4_tbl24), tbl8 = MappedRows::map(skel->maps.lpm4_tbl8),
       root6 = MappedRows::map(skel->maps.lpm6_root),
       nodes6 = MappedRows::map(skel->maps.lpm6_nodes), dests = MappedRows::map(skel->maps.dests);
  for (auto* m : {&tbl24, &tbl8, &root6, &nodes6, &dests})
    if (!m->ok()) die(m->error().to_string());

  nlohmann::json j;
  auto* bss = skel->bss;
  auto* P = &skel->progs;
  const size_t fib4 = std::min(o.fib4, v4.size()), fib6 = std::min(o.fib6, v6.size());

  // ---------------- IPv4, real table ----------------
  {
    auto t0 = std::chrono::steady_clock::now();
    Lpm4Table t(tbl24->entries(), tbl8->entries());
    const double clear_s = seconds_since(t0);
    const auto routes = routes_of(v4);
    t0 = std::chrono::steady_clock::now();
    const auto failed = t.insert_bulk(routes);
    j["v4_insert_s"] = r3(seconds_since(t0));
    j["v4_table_clear_s"] = r3(clear_s);
    j["v4_tbl8_groups_used"] = t.stats().nodes_used;
    if (!failed.empty()) die("v4 table full; raise --tbl8");
    log("v4 table: " + std::to_string(t.stats().nodes_used) + " tbl8 groups");
    fill_trie<Trie4Key>(skel->maps.trie4, v4);
    // Destinations inside the routes the kernel FIB also has (all when fib4 == size).
    fill_dests(dests->entries(), v4, fib4 ? fib4 : v4.size(), 1);
    const auto loop = run(P->bench_empty, bss, o.passes, 0);
    const auto dir = run(P->bench_lpm4, bss, o.passes, 0);
    const auto trie = run(P->bench_trie4, bss, 1, 0);
    const auto arr = run(P->bench_array, bss, o.passes, 0);
    j["loop_ns"] = r2(loop.ns);
    j["v4_ns"] = r2(dir.ns);
    j["v4_hit"] = dir.hit;
    j["v4_lpm_trie_ns"] = r2(trie.ns);
    j["array_read_ns"] = r2(arr.ns);
    if (ifindex && fib4) {
      const auto fib = run(P->bench_fib4, bss, 1, ifindex);
      j["v4_fib_lookup_ns"] = r2(fib.ns);
      j["v4_fib_success"] = fib.hit;
    }
    log("v4 done");
  }
  // ---------------- IPv4, synthetic 1M ----------------
  {
    Lpm4Table t(tbl24->entries(), tbl8->entries());
    const auto routes = routes_of(synth);
    const auto t0 = std::chrono::steady_clock::now();
    const auto failed = t.insert_bulk(routes);
    j["synth_insert_s"] = r3(seconds_since(t0));
    j["synth_tbl8_groups_used"] = t.stats().nodes_used;
    if (!failed.empty()) die("synthetic table full; raise --tbl8");
    fill_dests(dests->entries(), synth, synth.size(), 2);
    j["v4_synth_ns"] = r2(run(P->bench_lpm4, bss, o.passes, 0).ns);
    log("synth done");
  }
  // ---------------- IPv6, real table ----------------
  {
    Lpm6Table t(root6->entries(), nodes6->entries());
    const auto t0 = std::chrono::steady_clock::now();
    const auto failed = t.insert_bulk(routes_of(v6));
    j["v6_insert_s"] = r3(seconds_since(t0));
    j["v6_nodes_used"] = t.stats().nodes_used;
    if (!failed.empty()) die("v6 table full; raise --nodes6");
    fill_trie<Trie6Key>(skel->maps.trie6, v6);
    fill_dests(dests->entries(), v6, fib6 ? fib6 : v6.size(), 3);
    const auto dir = run(P->bench_lpm6, bss, o.passes, 0);
    j["v6_ns"] = r2(dir.ns);
    j["v6_hit"] = dir.hit;
    static_assert(LPM6_ROOT_BITS == 24, "v6_reads_per_lookup walks a 24-bit root");
    j["v6_reads_per_lookup"] = r3(v6_reads_per_lookup(t.view(), dests->entries()));
    j["v6_lpm_trie_ns"] = r2(run(P->bench_trie6, bss, 1, 0).ns);
    if (ifindex && fib6) {
      const auto fib = run(P->bench_fib6, bss, 1, ifindex);
      j["v6_fib_lookup_ns"] = r2(fib.ns);
      j["v6_fib_success"] = fib.hit;
    }
    log("v6 done");
  }
  // ---------------- IPv6 stride alternative: 16-8-8-... ----------------
  {
    std::unique_ptr<lookup_bench_r16, void (*)(lookup_bench_r16*)> s16(lookup_bench_r16__open(),
                                                                       lookup_bench_r16__destroy);
    if (!s16) die("open r16 failed");
    bpf_map__set_max_entries(s16->maps.lpm6_nodes, o.nodes6_r16);
    if (lookup_bench_r16__load(s16.get())) die("load r16 failed");
    auto root = MappedRows::map(s16->maps.lpm6_root), nodes = MappedRows::map(s16->maps.lpm6_nodes),
         d = MappedRows::map(s16->maps.dests);
    if (!root.ok() || !nodes.ok() || !d.ok()) die("mmap r16 failed");
    StrideTrie trie(128, 16, root->entries(), nodes->entries(), {});
    for (size_t i = 0; i < v6.size(); ++i) {
      Key k = 0;
      for (int b = 0; b < 16; ++b) k = k << 8 | v6[i].addr.bytes[b];
      if (!trie.insert(k, v6[i].len, action_for(i))) die("r16 table full");
    }
    j["v6_r16_nodes_used"] = trie.stats().nodes_used;
    fill_dests(d->entries(), v6, fib6 ? fib6 : v6.size(), 3);
    j["v6_r16_ns"] = r2(run(s16->progs.bench_lpm6_r16, s16->bss, o.passes, 0).ns);
  }

  j["v4_routes"] = v4.size();
  j["v6_routes"] = v6.size();
  j["synth_routes"] = synth.size();
  j["v4_fib_routes"] = fib4;
  j["v6_fib_routes"] = fib6;
  j["lpm_trie_routes_v4"] = v4.size();
  j["lpm_trie_routes_v6"] = v6.size();
  j["destinations"] = kDests;
  j["passes"] = o.passes;
  j["method"] =
      "BPF_PROG_TEST_RUN xdp, bpf_loop over 65536 dests per run; ns = duration/lookups, raw";
  auto ratio = [&](const char* a, const char* b) -> nlohmann::json {
    if (!j.contains(a) || !j.contains(b) || j[b].get<double>() == 0) return nullptr;
    return r2(j[a].get<double>() / j[b].get<double>());
  };
  j["v4_vs_array_read"] = ratio("v4_ns", "array_read_ns");
  j["v6_vs_array_read"] = ratio("v6_ns", "array_read_ns");
  j["v4_fib_vs_v4"] = ratio("v4_fib_lookup_ns", "v4_ns");
  j["v4_lpm_trie_vs_v4"] = ratio("v4_lpm_trie_ns", "v4_ns");
  j["v6_fib_vs_v6"] = ratio("v6_fib_lookup_ns", "v6_ns");
  j["v6_lpm_trie_vs_v6"] = ratio("v6_lpm_trie_ns", "v6_ns");
  j["v6_r16_vs_v6"] = ratio("v6_r16_ns", "v6_ns");
  std::cout << j.dump() << std::endl;
  return 0;
}
