#include <gtest/gtest.h>

#include <sstream>

#include "control/format.hpp"

namespace fpm_sink::control {
namespace {

Route route(const std::string& prefix, int nexthops) {
  Route r;
  r.set_table(254);
  r.set_prefix(prefix);
  r.set_family(FAMILY_IPV4);
  r.set_type(ROUTE_TYPE_UNICAST);
  r.set_protocol("bgp");
  r.set_protocol_id(186);
  r.set_state(ENTRY_STATE_INSTALLED);
  for (int i = 0; i < nexthops; ++i) {
    auto* nh = r.add_nexthops();
    nh->set_gateway("192.0.2." + std::to_string(i + 1));
    nh->set_ifindex(2);
    nh->set_weight(1);
  }
  if (nexthops == 0) r.set_offload(OFFLOAD_NOT_OFFLOADED);
  return r;
}

// The streamed output is byte for byte what printing the merged reply gave.
TEST(RoutesJsonWriter, PartByPartEqualsTheWholeReply) {
  const std::vector<std::vector<Route>> cases[] = {
      {},
      {{}},
      {{route("10.0.0.0/24", 1)}},
      {{route("10.0.0.0/24", 2), route("10.0.1.0/24", 0)}, {}, {route("10.0.2.0/24", 3)}},
  };
  for (const auto& parts : cases) {
    RoutesReply whole;
    std::ostringstream streamed;
    RoutesJsonWriter writer(streamed);
    for (const auto& routes : parts) {
      RoutesReply part;
      for (const auto& r : routes) *part.add_routes() = r;
      writer.add(part);
      whole.MergeFrom(part);
    }
    writer.finish();
    EXPECT_EQ(streamed.str(), routes_json(whole).dump(2) + "\n");
  }
}

}  // namespace
}  // namespace fpm_sink::control
