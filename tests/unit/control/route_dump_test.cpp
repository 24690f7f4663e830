// RouteDump over a RIB that changes between its steps, as it does when FPM
// ingest runs between the slices of a `show routes` on the io thread.
#include "control/route_dump.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "control/rib_query.hpp"
#include "ip_literals.hpp"

namespace fpm_sink::control {
namespace {

using Clock = RouteDump::Clock;
using Key = std::pair<uint32_t, std::string>;  // (table, prefix) as shown

using test::P;

std::string v4(uint32_t i) {  // 10.a.b.0/24, i < 65536
  return "10." + std::to_string(i >> 8 & 0xff) + "." + std::to_string(i & 0xff) + ".0/24";
}

class RouteDumpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    NexthopAdd nh;
    nh.id = 1;
    nh.protocol = proto_id::bgp;
    nh.body = fpm_sink::NextHop{*IpAddr::parse("192.0.2.1"), 2, false, false};
    ASSERT_TRUE(rib_.apply(FpmEvent{nh}));
  }

  void add(const std::string& prefix, uint32_t table = 254) {
    RouteAdd r;
    r.table = table;
    r.prefix = P(prefix);
    r.protocol = proto_id::bgp;
    r.metric = 20;
    r.nhg_id = 1;
    ASSERT_TRUE(rib_.apply(FpmEvent{r})) << prefix;
  }
  void del(const std::string& prefix, uint32_t table = 254) {
    RouteDel d;
    d.table = table;
    d.prefix = P(prefix);
    ASSERT_TRUE(rib_.apply(FpmEvent{d})) << prefix;
  }

  // A mixed table: IPv4 and IPv6, nested prefixes, three kernel tables, added
  // out of order so storage order differs from display order.
  void fill(uint32_t n) {
    for (uint32_t i = 0; i < n; ++i) add(v4((i * 7919) % n));
    for (uint32_t i = 0; i < 50; ++i) add("2001:db8:" + std::to_string(i) + "::/48");
    add("10.0.0.0/8");
    add("0.0.0.0/0");
    add("10.0.0.0/16", 100);
    add("10.0.0.0/24", 100);
    add("10.0.0.0/24", 7);
  }

  // The whole dump as one Rib::for_each_route pass would show it.
  RoutesReply reference(const std::function<bool(const RibRoute&)>& keep = {}) {
    RoutesReply out;
    rib_.for_each_route([&](const RibRoute& r) {
      if (!keep || keep(r)) fill_route(rib_, r, out.add_routes());
    });
    return out;
  }

  // Runs a dump to the end; `slice` = 0 makes every step as short as it can be.
  // between(step) runs after each step, like ingest between two slices.
  RoutesReply run(const ShowRoutes& req, Clock::duration slice, size_t* parts = nullptr,
                  const std::function<void(size_t)>& between = {}) {
    auto dump = RouteDump::start(req);
    EXPECT_TRUE(dump);
    RoutesReply all;
    size_t steps = 0;
    for (bool more = true; more; ++steps) {
      RoutesReply part;
      more = dump->step(rib_, Clock::now() + slice, &part);
      EXPECT_LE(part.routes_size(), static_cast<int>(RouteDump::kMaxPartRoutes));
      all.MergeFrom(part);
      if (more && between) between(steps);
      EXPECT_LT(steps, 1000000u) << "the dump makes no progress";
      if (steps >= 1000000u) break;
    }
    EXPECT_EQ(dump->keys_held(), 0u) << "a finished dump holds its keys";
    if (parts) *parts = steps;
    return all;
  }

  Rib rib_;
};

std::vector<Key> keys_of(const RoutesReply& reply) {
  std::vector<Key> out;
  for (const auto& r : reply.routes()) out.emplace_back(r.table(), r.prefix());
  return out;
}

TEST_F(RouteDumpTest, ChunkedDumpEqualsTheOneShotDump) {
  fill(20000);
  const RoutesReply ref = reference();
  ASSERT_EQ(ref.routes_size(), 20000 + 50 + 5);

  size_t big_parts = 0, tiny_parts = 0;
  const RoutesReply one_go = run(ShowRoutes{}, std::chrono::hours(1), &big_parts);
  const RoutesReply sliced = run(ShowRoutes{}, Clock::duration::zero(), &tiny_parts);
  EXPECT_EQ(one_go.SerializeAsString(), ref.SerializeAsString());
  EXPECT_EQ(sliced.SerializeAsString(), ref.SerializeAsString());
  // Parts are bounded even without a deadline; a zero slice splits much finer.
  EXPECT_GE(big_parts, ref.routes_size() / RouteDump::kMaxPartRoutes);
  EXPECT_GT(tiny_parts, big_parts * 4);
}

TEST_F(RouteDumpTest, FiltersAnswerAsBefore) {
  fill(3000);
  ShowRoutes req;
  req.set_table(100);
  EXPECT_EQ(run(req, {}).SerializeAsString(),
            reference([](const RibRoute& r) { return r.spec.table == 100; }).SerializeAsString());

  req.Clear();
  req.set_prefix("10.0.0.0/24");  // in three tables
  EXPECT_EQ(keys_of(run(req, {})),
            (std::vector<Key>{{7, "10.0.0.0/24"}, {100, "10.0.0.0/24"}, {254, "10.0.0.0/24"}}));
  req.set_table(100);  // one lookup, no walk
  EXPECT_EQ(keys_of(run(req, {})), (std::vector<Key>{{100, "10.0.0.0/24"}}));
  req.set_prefix("10.9.0.0/24");
  EXPECT_EQ(run(req, {}).routes_size(), 0);

  // A bare address: the longest match of each table.
  req.Clear();
  req.set_prefix("10.0.0.77");
  EXPECT_EQ(keys_of(run(req, {})),
            (std::vector<Key>{{7, "10.0.0.0/24"}, {100, "10.0.0.0/24"}, {254, "10.0.0.0/24"}}));
  req.set_prefix("10.200.1.1");  // beyond the /24s: the /8 of main, nothing elsewhere
  EXPECT_EQ(keys_of(run(req, {})), (std::vector<Key>{{254, "10.0.0.0/8"}}));
  req.set_prefix("2001:db8:7::1");
  EXPECT_EQ(keys_of(run(req, {})), (std::vector<Key>{{254, "2001:db8:7::/48"}}));

  for (const char* bad : {"10.1.0.0/99", "not-an-address"}) {
    req.set_prefix(bad);
    auto dump = RouteDump::start(req);
    ASSERT_FALSE(dump) << bad;
    EXPECT_EQ(dump.error().id, "control.bad_prefix");
  }
}

// The contract in control.proto: routes present for the whole dump appear
// exactly once and in order; changed ones may or may not; none twice.
TEST_F(RouteDumpTest, RoutesChangingMidDump) {
  constexpr uint32_t kRoutes = 20000;
  fill(kRoutes);
  std::set<Key> churned;  // deleted, re-added or added at some point of the dump
  uint32_t next_new = 0;
  const RoutesReply got = run(ShowRoutes{}, Clock::duration::zero(), nullptr, [&](size_t step) {
    // Ingest between slices: delete routes ahead of and behind the dump's
    // position, put some back, add new ones.
    for (uint32_t k = 0; k < 3; ++k) {
      const uint32_t i = (step * 131 + k * 4099) % kRoutes;
      const std::string p = v4(i);
      if (!rib_.find_route(254, P(p))) {
        add(p);
      } else {
        del(p);
      }
      churned.insert({254, p});
    }
    const std::string fresh = "172.16." + std::to_string(next_new / 256 % 256) + "." +
                              std::to_string(next_new % 256) + "/32";
    ++next_new;
    add(fresh);
    churned.insert({254, fresh});
  });

  const auto keys = keys_of(got);
  for (size_t i = 1; i < keys.size(); ++i) {
    const auto& a = got.routes(static_cast<int>(i) - 1);
    const auto& b = got.routes(static_cast<int>(i));
    const auto ka =
        std::make_tuple(a.table(), a.family(), P(a.prefix()).addr.bytes, P(a.prefix()).len);
    const auto kb =
        std::make_tuple(b.table(), b.family(), P(b.prefix()).addr.bytes, P(b.prefix()).len);
    ASSERT_LT(ka, kb) << "out of order or repeated at " << i << ": " << a.prefix() << " then "
                      << b.prefix();
  }
  const std::set<Key> shown(keys.begin(), keys.end());
  std::set<Key> stable;
  for (const auto& k : keys_of(reference())) {
    if (!churned.count(k)) stable.insert(k);
  }
  ASSERT_GT(stable.size(), kRoutes / 2);
  for (const auto& k : stable) EXPECT_TRUE(shown.count(k)) << k.second << " missing";
  for (const auto& k : shown) {
    EXPECT_TRUE(stable.count(k) || churned.count(k)) << k.second << " never existed";
  }
  EXPECT_GT(next_new, 100u) << "the dump should have run over many steps";
}

// A route deleted after the walk passed it and re-added into fresh storage
// ahead of the walk is collected twice; it must still show once.
TEST_F(RouteDumpTest, RouteReaddedAheadOfTheWalkShowsOnce) {
  fill(5000);
  const std::string first = v4(0);  // the first route added: storage position 1
  bool moved = false;
  const RoutesReply got = run(ShowRoutes{}, Clock::duration::zero(), nullptr, [&](size_t) {
    if (moved) return;
    moved = true;
    del(first);
    add("192.168.0.0/16");  // takes the freed storage
    add(first);             // lands at the end of storage, not walked yet
  });
  ASSERT_TRUE(moved);
  int seen = 0;
  for (const auto& r : got.routes()) seen += r.prefix() == first && r.table() == 254;
  EXPECT_EQ(seen, 1);
}

TEST_F(RouteDumpTest, EverythingDeletedMidDumpEndsCleanly) {
  fill(3000);
  const RoutesReply ref = reference();
  bool wiped = false;
  size_t shown_before_wipe = 0;
  RoutesReply got;
  auto dump = RouteDump::start(ShowRoutes{});
  ASSERT_TRUE(dump);
  for (bool more = true; more;) {
    RoutesReply part;
    more = dump->step(rib_, Clock::now(), &part);
    got.MergeFrom(part);
    if (!wiped && got.routes_size() > 0) {
      shown_before_wipe = got.routes_size();
      for (const auto& r : ref.routes()) del(r.prefix(), r.table());
      wiped = true;
    }
  }
  ASSERT_TRUE(wiped);
  EXPECT_EQ(got.routes_size(), static_cast<int>(shown_before_wipe));
  EXPECT_EQ(dump->keys_held(), 0u);
}

}  // namespace
}  // namespace fpm_sink::control
