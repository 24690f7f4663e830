// AnnouncedRoutes: what the RIB lets its observer find again, and the
// observer bits it keeps for it in each route entry.
#include <algorithm>

#include "rib_test_util.hpp"

namespace fpm_sink::test {
namespace {

std::vector<std::string> on_group(const Rib& rib, uint32_t id) {
  std::vector<std::string> out;
  rib.for_each_announced_on(id, [&](const RouteView& r) { out.push_back(route_text(r)); });
  std::sort(out.begin(), out.end());
  return out;
}

TEST_F(RibTest, AnnouncedRoutesAreWhatTheObserverWasTold) {
  ok(single(1, "192.0.2.1"));
  ok(route("10.0.0.0/24", 1));
  ok(route("10.1.0.0/24", 5));  // pending: id 5 is not known yet
  ok(typed_route("10.2.0.0/24", RouteType::Blackhole));
  for (const auto& [key, view] : obs.routes) {
    const auto got = rib.announced(std::get<0>(key), std::get<1>(key));
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(route_text(*got), route_text(view));
    EXPECT_TRUE(RecordingObserver::same_view(*got, view));
  }
  EXPECT_FALSE(rib.announced(254, P("10.9.0.0/24")).has_value());
  EXPECT_FALSE(rib.announced(100, P("10.0.0.0/24")).has_value()) << "the table is part of the key";

  EXPECT_EQ(on_group(rib, 1), (std::vector<std::string>{"254 10.0.0.0/24 g1"}));
  EXPECT_EQ(on_group(rib, 5), std::vector<std::string>{}) << "a pending route was announced with 0";
  EXPECT_EQ(on_group(rib, 77), std::vector<std::string>{}) << "an id nothing refers to";
  ok(single(5, "192.0.2.5"));
  EXPECT_EQ(on_group(rib, 5), (std::vector<std::string>{"254 10.1.0.0/24 g5"}));
  ok(route("10.1.0.0/24", 1));
  EXPECT_EQ(on_group(rib, 1),
            (std::vector<std::string>{"254 10.0.0.0/24 g1", "254 10.1.0.0/24 g1"}));
  EXPECT_EQ(on_group(rib, 5), std::vector<std::string>{});
}

TEST_F(RibTest, RoutesOnAnInlineSetAreFoundByItsId) {
  const WeightedNextHop a{gw("192.0.2.1"), 1};
  ok(inline_route("10.3.0.0/24", {a}));
  ok(inline_route("10.4.0.0/24", {a}));
  const auto r = rib.announced(254, P("10.3.0.0/24"));
  ASSERT_TRUE(r.has_value());
  ASSERT_GE(r->group_id, kInlineGroupIdBase);
  EXPECT_EQ(on_group(rib, r->group_id).size(), 2u);
}

TEST_F(RibTest, ForEachAnnouncedVisitsEveryRouteOnce) {
  ok(single(1, "192.0.2.1"));
  for (int i = 0; i < 300; ++i) {
    const std::string p = "10." + std::to_string(i / 256) + "." + std::to_string(i % 256) + ".0/24";
    ok(route(p.c_str(), 1));
  }
  for (int i = 0; i < 300; i += 3) {
    const std::string p = "10." + std::to_string(i / 256) + "." + std::to_string(i % 256) + ".0/24";
    ok(route_del(p.c_str()));
  }
  std::set<std::string> seen;
  size_t visits = 0;
  rib.for_each_announced([&](const RouteView& r) {
    ++visits;
    seen.insert(route_text(r));
  });
  EXPECT_EQ(visits, 200u);
  EXPECT_EQ(seen.size(), 200u);
  EXPECT_EQ(seen.size(), obs.routes.size());
}

// An observer that leaves a mark in each route's bits, as FibOffload does.
class MarkingObserver : public RibObserver {
 public:
  void group_changed(ChangeKind, const FibGroup&) override {}
  void route_changed(ChangeKind kind, const RouteView& r) override {
    ASSERT_NE(r.bits, nullptr);
    if (kind == ChangeKind::Added) first_seen.push_back(*r.bits);
    if (kind != ChangeKind::Removed) *r.bits = static_cast<ObserverBits>(r.prefix.len * 100 + 7);
  }
  std::vector<ObserverBits> first_seen;
};

TEST(RibObserverBits, KeptInTheRouteEntryAndZeroForEveryNewRoute) {
  MarkingObserver marks;
  Rib rib(&marks);
  ASSERT_TRUE(rib.apply(single(1, "192.0.2.1")).ok());
  ASSERT_TRUE(rib.apply(route("10.0.0.0/24", 1)).ok());
  ASSERT_TRUE(rib.apply(route("10.0.0.0/16", 1)).ok());
  auto r = rib.announced(254, P("10.0.0.0/24"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r->bits, 24 * 100 + 7);
  EXPECT_EQ(*rib.announced(254, P("10.0.0.0/16"))->bits, 16 * 100 + 7);
  // The bits follow the entry through a Changed and go with it on delete:
  // the next route in the same storage starts from zero.
  ASSERT_TRUE(rib.apply(route_del("10.0.0.0/24")).ok());
  ASSERT_TRUE(rib.apply(route("10.9.0.0/24", 1)).ok());
  ASSERT_TRUE(rib.apply(route("10.0.0.0/24", 1)).ok());
  EXPECT_EQ(marks.first_seen, (std::vector<ObserverBits>{0, 0, 0, 0}));
  // Written through one view, read through another: one store.
  *rib.announced(254, P("10.9.0.0/24"))->bits = 4242;
  size_t found = 0;
  rib.for_each_announced([&](const RouteView& v) { found += *v.bits == 4242; });
  EXPECT_EQ(found, 1u);
}

}  // namespace
}  // namespace fpm_sink::test
