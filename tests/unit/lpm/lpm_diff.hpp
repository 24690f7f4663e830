// Differential checks shared by the IPv4 and IPv6 table tests.
#pragma once

#include <gtest/gtest.h>

#include "lpm_test_util.hpp"

namespace fpm_sink::lpm::testing {

template <class Table>
size_t count_mismatches(const Table& t, const ReferenceLpm& ref, const std::vector<IpAddr>& addrs) {
  size_t bad = 0;
  for (const IpAddr& a : addrs) {
    const uint32_t want = ref.lookup(a), got = t.lookup(a);
    if (got != want && ++bad <= 5)
      ADD_FAILURE() << a.to_string() << ": table " << std::hex << got << " reference " << want;
  }
  return bad;
}

// Random insert / delete / replace over a small universe of nested prefixes so
// that operations hit each other; compares every `check_every` operations.
template <class Table>
void random_ops(Table& t, Family f, size_t universe_chains, size_t ops, size_t check_every,
                uint64_t seed) {
  std::mt19937_64 rng(seed);
  ReferenceLpm ref(f);
  const auto universe = nested_table(f, universe_chains, rng);
  for (size_t i = 0; i < ops; ++i) {
    const LpmRoute& r = universe[rng() % universe.size()];
    const unsigned op = rng() % 3;
    if (op == 0 && ref.find(r.prefix)) {
      ASSERT_TRUE(t.remove(r.prefix).ok()) << r.prefix.to_string();
      ref.remove(r.prefix);
    } else {
      const uint32_t act = op == 2 ? random_action(rng) : r.action;  // 2 = replace
      ASSERT_TRUE(t.insert(r.prefix, act).ok()) << r.prefix.to_string();
      ref.insert(r.prefix, act);
    }
    if ((i + 1) % check_every == 0) {
      const auto probes = probe_addresses(f, universe, 2000, rng);
      ASSERT_EQ(count_mismatches(t, ref, probes), 0u) << "after op " << i;
    }
  }
  ASSERT_EQ(count_mismatches(t, ref, probe_addresses(f, universe, 200000, rng)), 0u);
  // Delete everything: every node must collapse away and every lookup miss.
  for (const LpmRoute& r : universe)
    if (ref.find(r.prefix)) {
      ASSERT_TRUE(t.remove(r.prefix).ok());
      ref.remove(r.prefix);
    }
  EXPECT_EQ(t.stats().routes, 0u);
  EXPECT_EQ(t.stats().nodes_used, 0u);
  EXPECT_EQ(count_mismatches(t, ref, probe_addresses(f, universe, 20000, rng)), 0u);
}

template <class Table>
void differential(Table& t, Family f, size_t chains, size_t probes, uint64_t seed) {
  std::mt19937_64 rng(seed);
  ReferenceLpm ref(f);
  const auto routes = nested_table(f, chains, rng);
  for (const LpmRoute& r : routes) {
    ASSERT_TRUE(t.insert(r.prefix, r.action).ok()) << r.prefix.to_string();
    ref.insert(r.prefix, r.action);
  }
  EXPECT_EQ(t.stats().routes, ref.size());
  EXPECT_EQ(count_mismatches(t, ref, probe_addresses(f, routes, probes, rng)), 0u);
}

}  // namespace fpm_sink::lpm::testing
