// Warm restart: a table adopted from memory a previous process left live
// (LpmOptions::adopt_live) is rebuilt in private memory and published by
// commit(), without ever writing a byte the XDP program can reach before then.
#include <gtest/gtest.h>

#include <set>

#include "lpm_diff.hpp"

namespace fpm_sink::lpm {
namespace {

using namespace testing;
using namespace std::chrono_literals;

struct FakeClock {
  Clock::time_point t{};
  LpmOptions options(bool adopt, std::chrono::nanoseconds grace = 50ms) {
    LpmOptions o;
    o.grace = grace;
    o.now = [this] { return t; };
    o.adopt_live = adopt;
    return o;
  }
};

// Nodes reachable from the root of a table in memory (what readers can reach).
std::set<uint32_t> reachable(std::span<const uint32_t> root, std::span<const uint32_t> nodes) {
  std::set<uint32_t> out;
  std::vector<uint32_t> todo;
  for (uint32_t e : root)
    if (e & LPM_ENTRY_NODE) todo.push_back(e & LPM_INDEX_MASK);
  while (!todo.empty()) {
    const uint32_t n = todo.back();
    todo.pop_back();
    if (!out.insert(n).second) continue;
    for (uint32_t i = 0; i < LPM_ROW_ENTRIES; ++i)
      if (const uint32_t e = nodes[size_t(n) << 8 | i]; e & LPM_ENTRY_NODE)
        todo.push_back(e & LPM_INDEX_MASK);
  }
  return out;
}

ReferenceLpm load(LpmTable& t, Family f, const std::vector<LpmRoute>& routes) {
  ReferenceLpm ref(f);
  for (const auto& r : routes) {
    EXPECT_TRUE(t.insert(r.prefix, r.action).ok()) << r.prefix.to_string();
    ref.insert(r.prefix, r.action);
  }
  return ref;
}

template <class Table, class Memory>
void restart_round_trip(Family f, Memory& mem, std::span<uint32_t> root, std::span<uint32_t> nodes,
                        size_t chains) {
  FakeClock clock;
  std::mt19937_64 rng(11);
  const auto old_routes = nested_table(f, chains, rng);
  const auto new_routes = nested_table(f, chains, rng);
  std::vector<LpmRoute> universe = old_routes;
  universe.insert(universe.end(), new_routes.begin(), new_routes.end());
  const auto probes = probe_addresses(f, universe, 200000, rng);

  ReferenceLpm old_ref(f);
  {
    Table before(root, nodes, clock.options(false));
    old_ref = load(before, f, old_routes);
  }  // the old process exits; its table stays in the (pinned) memory
  const Memory snapshot = mem;
  const auto old_nodes = reachable(root, nodes);
  ASSERT_FALSE(old_nodes.empty());

  Table t(root, nodes, clock.options(true));
  ASSERT_TRUE(t.staging());
  EXPECT_EQ(t.stats().nodes_used, old_nodes.size());  // held until commit
  ReferenceLpm new_ref = load(t, f, new_routes);
  // Some churn while staging, as zebra's replay may bring.
  for (size_t i = 0; i < new_routes.size(); i += 7) {
    ASSERT_TRUE(t.remove(new_routes[i].prefix).ok() || !new_ref.find(new_routes[i].prefix));
    new_ref.remove(new_routes[i].prefix);
  }
  // Nothing the readers see has changed: they still get the old answers.
  EXPECT_TRUE(mem.root_bytes() == snapshot.root_bytes());
  EXPECT_TRUE(mem.node_bytes() == snapshot.node_bytes());
  EXPECT_EQ(count_mismatches(t, old_ref, probes), 0u);

  t.commit();
  EXPECT_FALSE(t.staging());
  EXPECT_EQ(count_mismatches(t, new_ref, probes), 0u);
  // The new table lives in nodes the old one never reached: a reader still
  // inside an old node during the commit reads the old contents.
  for (uint32_t n : reachable(root, nodes)) EXPECT_FALSE(old_nodes.contains(n)) << n;
  // The old nodes wait out the grace period, then serve new inserts.
  EXPECT_GE(t.stats().nodes_quarantined, old_nodes.size());
  clock.t += 50ms;
  for (const auto& r : old_routes) {
    ASSERT_TRUE(t.insert(r.prefix, r.action).ok());
    new_ref.insert(r.prefix, r.action);
  }
  EXPECT_EQ(count_mismatches(t, new_ref, probes), 0u);
}

struct Mem4 : Lpm4Memory {
  using Lpm4Memory::Lpm4Memory;
  const std::vector<uint32_t>& root_bytes() const { return tbl24; }
  const std::vector<uint32_t>& node_bytes() const { return tbl8; }
};
struct Mem6 : Lpm6Memory {
  using Lpm6Memory::Lpm6Memory;
  const std::vector<uint32_t>& root_bytes() const { return root; }
  const std::vector<uint32_t>& node_bytes() const { return nodes; }
};

TEST(LpmStaging, Ipv4RestartPublishesOnlyAtCommit) {
  Mem4 mem(4096);
  restart_round_trip<Lpm4Table>(Family::V4, mem, mem.tbl24, mem.tbl8, 300);
}

TEST(LpmStaging, Ipv6RestartPublishesOnlyAtCommit) {
  Mem6 mem(16384);
  restart_round_trip<Lpm6Table>(Family::V6, mem, mem.root, mem.nodes, 100);
}

TEST(LpmStaging, NodesHeldByTheOldTableRunOutThenRecoverAfterCommit) {
  FakeClock clock;
  Lpm4Memory mem(4);
  auto long_prefix = [](uint32_t i) {
    return *Prefix::make(IpAddr::v4(0x0a000000u | (i << 8) | 0x80), 25);
  };
  {
    Lpm4Table before(mem.tbl24, mem.tbl8, clock.options(false));
    for (uint32_t i = 0; i < 3; ++i) ASSERT_TRUE(before.insert(long_prefix(i), 100 + i).ok());
  }
  Lpm4Table t(mem.tbl24, mem.tbl8, clock.options(true, 10ms));
  ReferenceLpm ref(Family::V4);
  // One node is free while staging; the second /24 needing one is punted.
  ASSERT_TRUE(t.insert(long_prefix(10), 200).ok());
  ref.insert(long_prefix(10), 200);
  auto st = t.insert(long_prefix(11), 201);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().id, "lpm.full");
  ref.insert(long_prefix(11), 201);
  // The old table still answers.
  EXPECT_EQ(t.lookup(IpAddr::v4(0x0a000081u)), 100u);
  t.commit();
  EXPECT_EQ(t.lookup(IpAddr::v4(0x0a000081u)), 0u);  // old route gone
  EXPECT_EQ(t.lookup(IpAddr::v4(0x0a000a81u)), 200u);
  EXPECT_EQ(t.lookup(IpAddr::v4(0x0a000b81u)),
            fpm_act_make(FPM_ACT_PUNT, FPM_REASON_OFFLOAD_FAILED));
  EXPECT_EQ(t.retry_failed().recovered.size(), 0u);  // retired nodes still in grace
  clock.t += 10ms;
  ASSERT_EQ(t.retry_failed().recovered.size(), 1u);
  EXPECT_EQ(t.lookup(IpAddr::v4(0x0a000b81u)), 201u);
  EXPECT_EQ(t.lookup(IpAddr::v4(0x0a000b01u)), 0u);
}

TEST(LpmStaging, MemoryThatIsNotATableStartsCold) {
  Lpm4Memory mem(4);
  mem.tbl24[123] = LPM_ENTRY_NODE | 99;  // a node index past the pool
  mem.tbl24[456] = 7;
  FakeClock clock;  // options() captures it: it must outlive the table
  Lpm4Table t(mem.tbl24, mem.tbl8, clock.options(true));
  EXPECT_FALSE(t.staging());
  EXPECT_EQ(mem.tbl24[123], 0u);
  EXPECT_EQ(mem.tbl24[456], 0u);
  EXPECT_EQ(t.stats().nodes_free, 4u);
}

TEST(LpmStaging, CommitWithoutStagingChangesNothing) {
  Lpm4Memory mem(4);
  FakeClock clock;
  Lpm4Table t(mem.tbl24, mem.tbl8, clock.options(false));
  ASSERT_TRUE(t.insert(*Prefix::parse("10.0.0.0/8"), 5).ok());
  t.commit();
  EXPECT_EQ(t.lookup(IpAddr::v4(0x0a010203u)), 5u);
}

}  // namespace
}  // namespace fpm_sink::lpm
