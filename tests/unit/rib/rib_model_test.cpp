// Randomized model test: random event sequences (out of order, deletes of
// objects in use, replays, sweeps) against a deliberately naive reference that
// recomputes everything from scratch after each event.
#include <algorithm>
#include <random>

#include "rib_test_util.hpp"

namespace fpm_sink::test {
namespace {

using Key = std::tuple<uint32_t, Prefix>;

struct Reference {
  std::map<Key, RouteAdd> routes;
  std::map<uint32_t, NexthopAdd> nhs;
  std::set<Key> stale_routes;
  std::set<uint32_t> stale_nhs;

  const NextHop* single_nh(uint32_t id) const {
    auto it = nhs.find(id);
    return it == nhs.end() ? nullptr : std::get_if<NextHop>(&it->second.body);
  }
  static std::set<uint32_t> member_ids(const NexthopAdd& n) {
    std::set<uint32_t> ids;
    if (auto* m = std::get_if<std::vector<NexthopGroupMember>>(&n.body))
      for (auto& x : *m) ids.insert(x.id);
    return ids;
  }
  bool complete(uint32_t id) const {
    auto it = nhs.find(id);
    if (it == nhs.end()) return false;
    for (uint32_t m : member_ids(it->second))
      if (!single_nh(m)) return false;
    return true;
  }
  FibGroup fib(uint32_t id) const {
    FibGroup g;
    g.id = id;
    const auto& body = nhs.at(id).body;
    if (auto* nh = std::get_if<NextHop>(&body)) {
      g.members.push_back({*nh, 1});
    } else {
      for (auto& m : std::get<std::vector<NexthopGroupMember>>(body))
        g.members.push_back({*single_nh(m.id), m.weight});
    }
    g.blackhole = !g.members.empty() && std::all_of(g.members.begin(), g.members.end(),
                                                    [](auto& m) { return m.nh.blackhole; });
    return g;
  }
  static bool uses_inline(const RouteAdd& r) {
    return r.type == RouteType::Unicast && r.nhg_id == 0 && !r.nexthops.empty();
  }
  static std::vector<WeightedNextHop> sorted_set(const RouteAdd& r) {
    auto s = r.nexthops;
    std::sort(s.begin(), s.end());
    return s;
  }
  bool installed(const RouteAdd& r) const {
    return r.type != RouteType::Unicast || r.nhg_id == 0 || complete(r.nhg_id);
  }
  uint32_t refcount(uint32_t id) const {
    uint32_t n = 0;
    for (auto& [k, r] : routes) n += r.type == RouteType::Unicast && r.nhg_id == id;
    for (auto& [gid, g] : nhs) n += member_ids(g).count(id);
    return n;
  }
  size_t sweep() {
    size_t n = 0;
    for (auto& k : stale_routes) n += routes.erase(k);
    stale_routes.clear();
    for (bool again = true; again;) {
      again = false;
      for (uint32_t id : std::set<uint32_t>(stale_nhs)) {
        if (nhs.count(id) && refcount(id) == 0) {
          nhs.erase(id);
          stale_nhs.erase(id);
          ++n;
          again = true;
        }
      }
    }
    return n;
  }
};

class RibModelTest : public RibTest, public ::testing::WithParamInterface<unsigned> {
 protected:
  std::mt19937 rng{GetParam()};
  Reference ref;

  unsigned pick(unsigned n) { return std::uniform_int_distribution<unsigned>(0, n - 1)(rng); }

  Prefix random_prefix() {
    static const char* pool[] = {
        "0.0.0.0/0",     "10.0.0.0/8",      "10.0.0.0/24",     "10.0.1.0/24",    "10.1.0.0/16",
        "192.0.2.0/24",  "192.0.2.1/32",    "198.51.100.0/24", "::/0",           "2001:db8::/32",
        "2001:db8::/64", "2001:db8:1::/48", "fe80::/10",       "2001:db8::1/128"};
    return P(pool[pick(std::size(pool))]);
  }
  uint32_t random_table() { return pick(4) == 0 ? 100 : 254; }
  uint32_t random_id() { return 1 + pick(8); }
  NextHop random_nh() {
    static const char* gws[] = {"192.0.2.1", "192.0.2.2", "2001:db8::1", "169.254.0.1"};
    if (pick(10) == 0) {
      NextHop bh;
      bh.blackhole = true;
      return bh;
    }
    NextHop nh = gw(gws[pick(std::size(gws))], 1 + pick(2));
    nh.onlink = nh.gateway == A("169.254.0.1");
    return nh;
  }

  FpmEvent random_event() {
    const unsigned r = pick(100);
    if (r < 40) {
      RouteAdd a;
      a.table = random_table();
      a.prefix = random_prefix();
      a.protocol = pick(2) ? proto_id::bgp : proto_id::ospf;
      a.metric = pick(3);
      const unsigned how = pick(20);
      if (how < 11) {
        a.nhg_id = random_id();
      } else if (how < 17) {
        for (unsigned i = 0, n = 1 + pick(3); i < n; ++i)
          a.nexthops.push_back({random_nh(), static_cast<uint16_t>(1 + pick(2))});
      } else if (how < 19) {
        a.type = static_cast<RouteType>(1 + pick(3));  // blackhole/unreachable/prohibit
      }                                                // else: unicast without next hops
      return a;
    }
    if (r < 55) return RouteDel{random_table(), random_prefix(), 0, 0};
    if (r < 70) return single(random_id(), random_nh());
    if (r < 82) {
      std::vector<NexthopGroupMember> m;
      for (unsigned i = 0, n = 1 + pick(3); i < n; ++i)
        m.push_back({random_id(), static_cast<uint16_t>(1 + pick(3))});
      return group(random_id(), m);
    }
    return nh_del(random_id());
  }

  // Applies to the reference and returns the error id the RIB must report.
  std::string apply_ref(const FpmEvent& ev) {
    if (auto* a = std::get_if<RouteAdd>(&ev)) {
      Key k{a->table, a->prefix};
      ref.routes[k] = *a;
      ref.stale_routes.erase(k);
      return "ok";
    }
    if (auto* d = std::get_if<RouteDel>(&ev)) {
      Key k{d->table, d->prefix};
      if (!ref.routes.erase(k)) return "rib.route.unknown_delete";
      ref.stale_routes.erase(k);
      return "ok";
    }
    if (auto* n = std::get_if<NexthopAdd>(&ev)) {
      ref.nhs[n->id] = *n;
      ref.stale_nhs.erase(n->id);
      return "ok";
    }
    const uint32_t id = std::get<NexthopDel>(ev).id;
    if (!ref.nhs.count(id)) return "rib.nexthop.unknown_delete";
    const uint32_t refs = ref.refcount(id) - Reference::member_ids(ref.nhs.at(id)).count(id);
    ref.nhs.erase(id);
    ref.stale_nhs.erase(id);
    return refs ? "rib.nexthop.in_use" : "ok";
  }

  void check(const std::string& where) {
    SCOPED_TRACE(where);
    const RibStats& s = rib.stats();
    uint64_t v4 = 0, v6 = 0, pending_routes = 0;
    std::set<std::vector<WeightedNextHop>> inline_sets;
    std::map<Key, uint32_t> expected_announced;  // key -> group id the observer must hold
    for (auto& [k, r] : ref.routes) {
      ++(r.prefix.family() == Family::V4 ? v4 : v6);
      const RibRoute* got = rib.find_route(std::get<0>(k), std::get<1>(k));
      ASSERT_NE(got, nullptr) << std::get<1>(k).to_string();
      EXPECT_EQ(got->stale, ref.stale_routes.count(k) != 0);
      if (Reference::uses_inline(r)) inline_sets.insert(Reference::sorted_set(r));
      if (!ref.installed(r)) {
        ++pending_routes;
        EXPECT_EQ(got->state, EntryState::Pending);
        EXPECT_EQ(got->group_id, 0u);
        expected_announced[k] = 0;  // pending routes are announced as punts (group 0)
        continue;
      }
      ASSERT_EQ(got->state, EntryState::Installed) << std::get<1>(k).to_string();
      if (Reference::uses_inline(r)) {
        ASSERT_GE(got->group_id, kInlineGroupIdBase);
        auto g = rib.fib_group(got->group_id);
        ASSERT_TRUE(g.has_value());
        std::vector<WeightedNextHop> members;
        for (auto& m : g->members) members.push_back({m.nh, static_cast<uint16_t>(m.weight)});
        EXPECT_EQ(members, Reference::sorted_set(r));
      } else {
        EXPECT_EQ(got->group_id, r.type == RouteType::Unicast ? r.nhg_id : 0u);
      }
      expected_announced[k] = got->group_id;
    }
    EXPECT_EQ(s.routes_v4, v4);
    EXPECT_EQ(s.routes_v6, v6);
    EXPECT_EQ(s.pending_routes, pending_routes);
    EXPECT_EQ(s.inline_groups, inline_sets.size());
    EXPECT_EQ(s.stale_routes, ref.stale_routes.size());
    EXPECT_EQ(s.stale_groups, ref.stale_nhs.size());

    uint64_t pending_groups = 0;
    std::set<uint32_t> expected_groups;
    for (auto& [id, n] : ref.nhs) {
      const RibGroup* got = rib.find_group(id);
      ASSERT_NE(got, nullptr) << id;
      EXPECT_EQ(got->refcount, ref.refcount(id)) << id;
      EXPECT_EQ(got->stale, ref.stale_nhs.count(id) != 0);
      const bool complete = ref.complete(id);
      EXPECT_EQ(got->state, complete ? EntryState::Installed : EntryState::Pending) << id;
      pending_groups += !complete;
      if (!complete) continue;
      expected_groups.insert(id);
      ASSERT_TRUE(obs.groups.count(id)) << id;
      const FibGroup want = ref.fib(id);
      EXPECT_EQ(obs.groups.at(id).members, want.members) << id;
      EXPECT_EQ(obs.groups.at(id).blackhole, want.blackhole) << id;
    }
    EXPECT_EQ(s.groups, ref.nhs.size());
    EXPECT_EQ(s.pending_groups, pending_groups);

    // The observer's picture is every route: installed ones on their group, pending
    // ones on group 0, with the attributes zebra last sent.
    std::map<Key, uint32_t> announced;
    for (auto& [k, v] : obs.routes) {
      announced[k] = v.group_id;
      auto it = ref.routes.find(k);
      if (it == ref.routes.end()) continue;  // reported by the map comparison below
      EXPECT_EQ(v.type, it->second.type) << std::get<1>(k).to_string();
      EXPECT_EQ(v.protocol, it->second.protocol) << std::get<1>(k).to_string();
      EXPECT_EQ(v.metric, it->second.metric) << std::get<1>(k).to_string();
    }
    EXPECT_EQ(announced, expected_announced);
    for (auto& [id, g] : obs.groups) {
      if (id >= kInlineGroupIdBase) {
        EXPECT_TRUE(rib.fib_group(id).has_value()) << id;
      } else {
        EXPECT_TRUE(expected_groups.count(id)) << "announced but incomplete " << id;
      }
    }
    EXPECT_EQ(obs.groups.size(), expected_groups.size() + inline_sets.size());
  }
};

TEST_P(RibModelTest, RandomSequencesMatchReference) {
  for (int step = 0; step < 3000; ++step) {
    const unsigned r = pick(100);
    if (r < 3) {
      rib.begin_replay();
      for (auto& [k, v] : ref.routes) ref.stale_routes.insert(k);
      for (auto& [id, n] : ref.nhs) ref.stale_nhs.insert(id);
      check("begin_replay @" + std::to_string(step));
    } else if (r < 6) {
      const size_t want = ref.sweep();
      EXPECT_EQ(rib.sweep_stale(), want) << "step " << step;
      check("sweep @" + std::to_string(step));
    } else {
      FpmEvent ev = random_event();
      const std::string want = apply_ref(ev);
      EXPECT_EQ(err(ev), want) << "step " << step;
      check("event " + std::to_string(ev.index()) + " @" + std::to_string(step));
    }
    if (HasFailure()) return;  // first divergence is the useful one
  }
  // Deleting everything must leave nothing announced (groups may name groups,
  // so a group delete can legitimately report in_use: ignore results here).
  for (auto& [k, r] : std::map<Key, RouteAdd>(ref.routes))
    ok(RouteDel{std::get<0>(k), std::get<1>(k), 0, 0});
  for (auto& [id, n] : std::map<uint32_t, NexthopAdd>(ref.nhs)) {
    if (std::holds_alternative<std::vector<NexthopGroupMember>>(n.body))
      (void)rib.apply(nh_del(id));
  }
  for (auto& [id, n] : std::map<uint32_t, NexthopAdd>(ref.nhs)) {
    if (std::holds_alternative<NextHop>(n.body)) (void)rib.apply(nh_del(id));
  }
  EXPECT_TRUE(obs.routes.empty());
  EXPECT_TRUE(obs.groups.empty());
  EXPECT_EQ(rib.stats().groups, 0u);
  EXPECT_EQ(rib.stats().inline_groups, 0u);
}

INSTANTIATE_TEST_SUITE_P(Seeds, RibModelTest, ::testing::Range(1u, 21u));

}  // namespace
}  // namespace fpm_sink::test
