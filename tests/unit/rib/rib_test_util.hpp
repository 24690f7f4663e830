// Builders for FPM events and an observer that records every callback and
// checks the ordering promises of rib_events.hpp on each one.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "ip_literals.hpp"
#include "rib/rib.hpp"

namespace fpm_sink::test {

inline NextHop gw(const char* addr, uint32_t ifindex = 2) {
  NextHop nh;
  nh.gateway = A(addr);
  nh.ifindex = ifindex;
  return nh;
}

inline RouteAdd route(const char* prefix, uint32_t nhg_id, uint32_t table = 254,
                      uint8_t protocol = proto_id::bgp, uint32_t metric = 20) {
  RouteAdd r;
  r.table = table;
  r.prefix = P(prefix);
  r.protocol = protocol;
  r.metric = metric;
  r.nhg_id = nhg_id;
  return r;
}

inline RouteAdd inline_route(const char* prefix, std::vector<WeightedNextHop> nexthops,
                             uint32_t table = 254) {
  RouteAdd r = route(prefix, 0, table);
  r.nexthops = std::move(nexthops);
  return r;
}

inline RouteAdd typed_route(const char* prefix, RouteType type, uint32_t table = 254) {
  RouteAdd r = route(prefix, 0, table, proto_id::zstatic, 0);
  r.type = type;
  return r;
}

inline RouteDel route_del(const char* prefix, uint32_t table = 254) {
  RouteDel d;
  d.table = table;
  d.prefix = P(prefix);
  return d;
}

inline NexthopAdd single(uint32_t id, NextHop nh) {
  NexthopAdd n;
  n.id = id;
  n.protocol = proto_id::zebra;
  n.body = nh;
  return n;
}

inline NexthopAdd single(uint32_t id, const char* addr, uint32_t ifindex = 2) {
  return single(id, gw(addr, ifindex));
}

inline NexthopAdd blackhole_nh(uint32_t id) {
  NextHop nh;
  nh.blackhole = true;
  return single(id, nh);
}

inline NexthopAdd group(uint32_t id, std::vector<NexthopGroupMember> members) {
  NexthopAdd n;
  n.id = id;
  n.protocol = proto_id::zebra;
  n.body = std::move(members);
  return n;
}

inline NexthopDel nh_del(uint32_t id) {
  return NexthopDel{id};
}

inline std::string route_text(const RouteView& r) {
  return std::to_string(r.table) + " " + r.prefix.to_string() + " g" + std::to_string(r.group_id);
}

inline char kind_char(ChangeKind k) {
  return k == ChangeKind::Added ? '+' : k == ChangeKind::Changed ? '~' : '-';
}

// Records "G+ 5", "R+ 254 10.0.0.0/24 g5", ... and keeps a shadow of what a
// forwarding plane would hold, so every callback can be checked against the
// promises: groups known before routes use them, never removed while in use,
// pending routes announced with group 0 (a punt), no Changed that changes nothing.
class RecordingObserver : public RibObserver {
 public:
  using RouteKey = std::tuple<uint32_t, Prefix>;

  void group_changed(ChangeKind kind, const FibGroup& g) override {
    events.push_back(std::string("G") + kind_char(kind) + " " + std::to_string(g.id));
    const bool known = groups.count(g.id) != 0;
    if (kind == ChangeKind::Added && known) violation("group added twice", g.id);
    if (kind != ChangeKind::Added && !known) violation("unknown group changed/removed", g.id);
    if (kind == ChangeKind::Removed) {
      for (const auto& [key, view] : routes) {
        if (view.group_id == g.id) violation("group removed while route uses it", g.id);
      }
      groups.erase(g.id);
    } else {
      groups[g.id] = g;
    }
  }

  void route_changed(ChangeKind kind, const RouteView& r) override {
    events.push_back(std::string("R") + kind_char(kind) + " " + route_text(r));
    const RouteKey key{r.table, r.prefix};
    const bool known = routes.count(key) != 0;
    if (kind == ChangeKind::Added && known) violation("route added twice", r.group_id);
    if (kind != ChangeKind::Added && !known) violation("unknown route changed/removed", 0);
    if (kind != ChangeKind::Removed && r.group_id != 0 && groups.count(r.group_id) == 0)
      violation("route uses unannounced group", r.group_id);
    if (kind != ChangeKind::Removed && r.type != RouteType::Unicast && r.group_id != 0)
      violation("non-unicast route with a group", r.group_id);
    if (kind == ChangeKind::Changed && known && same_view(routes.at(key), r))
      violation("route Changed to what the observer already holds", r.group_id);
    if (kind == ChangeKind::Removed) {
      routes.erase(key);
    } else {
      routes[key] = r;
    }
  }

  void routes_refused() override { events.push_back("refused"); }

  void route_confirmed(const RouteView& r) override {
    confirmed.push_back(route_text(r));
    const auto it = routes.find(RouteKey{r.table, r.prefix});
    if (it == routes.end() || !same_view(it->second, r))
      violation("route confirmed as something the observer does not hold", r.group_id);
  }

  static bool same_view(const RouteView& a, const RouteView& b) {
    return a.table == b.table && a.prefix == b.prefix && a.type == b.type &&
           a.protocol == b.protocol && a.metric == b.metric && a.group_id == b.group_id;
  }

  std::vector<std::string> take() {
    std::vector<std::string> out;
    out.swap(events);
    return out;
  }
  size_t count_prefix(const std::string& start) const {
    size_t n = 0;
    for (const auto& e : events) n += e.rfind(start, 0) == 0;
    return n;
  }

  std::vector<std::string> events;
  std::vector<std::string> confirmed;  // route_confirmed() calls, kept apart from events
  std::vector<std::string> violations;
  std::map<uint32_t, FibGroup> groups;
  std::map<RouteKey, RouteView> routes;

 private:
  void violation(const std::string& what, uint32_t id) {
    violations.push_back(what + " (id " + std::to_string(id) + ", after " +
                         (events.empty() ? "" : events.back()) + ")");
  }
};

using Events = std::vector<std::string>;

// Fixture: a Rib wired to a RecordingObserver; every test ends by checking the
// observer never saw a broken promise.
class RibTest : public ::testing::Test {
 protected:
  void TearDown() override { EXPECT_EQ(obs.violations, std::vector<std::string>{}); }

  void ok(FpmEvent e) {
    auto s = rib.apply(std::move(e));
    ASSERT_TRUE(s.ok()) << s.error().to_string();
  }
  std::string err(FpmEvent e) {
    auto s = rib.apply(std::move(e));
    return s.ok() ? std::string("ok") : s.error().id;
  }

  RecordingObserver obs;
  Rib rib{&obs};
};

}  // namespace fpm_sink::test
