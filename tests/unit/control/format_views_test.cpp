// Text and JSON of the views added for vtysh habits: neighbours, interfaces,
// a flow's path, next-hop users, cleared counters. Interface names always sit
// next to their ifindex.
#include <gtest/gtest.h>

#include "control/format.hpp"

namespace fpm_sink::control {
namespace {

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(FormatViews, NeighboursNameTheirInterfaceAndFastPathUsers) {
  NeighborsReply r;
  r.set_fast_path(true);
  auto* n = r.add_neighbors();
  n->set_address("10.0.0.2");
  n->set_mac("02:00:00:00:00:02");
  n->set_state("reachable");
  n->set_ifindex(3);
  n->set_ifname("eth1");
  n->add_nexthop_indices(7);
  auto* m = r.add_neighbors();
  m->set_address("10.0.0.9");
  m->set_state("failed");
  m->set_ifindex(4);
  const std::string text = neighbors_text(r);
  EXPECT_TRUE(has(text, "eth1 (3)")) << text;
  EXPECT_TRUE(has(text, "ifindex 4")) << text;
  EXPECT_TRUE(has(text, "#7")) << text;
  EXPECT_TRUE(has(text, "2 neighbours")) << text;
  const Json j = neighbors_json(r)["neighbors"];
  EXPECT_EQ(j["fast_path"], true);
  EXPECT_EQ(j["neighbors"][0]["ifname"], "eth1");
  EXPECT_EQ(j["neighbors"][0]["ifindex"], 3);
  EXPECT_EQ(j["neighbors"][0]["fast_path_nexthops"], Json::array({7}));
  EXPECT_EQ(j["neighbors"][1]["mac"], "");
  EXPECT_EQ(j["neighbors"][1]["fast_path_nexthops"], Json::array());
}

TEST(FormatViews, InterfacesShowAttachForwardingMasterAndVerdicts) {
  InterfacesReply r;
  r.set_fast_path(true);
  r.set_ipv6_forwarding_all("on");
  auto* a = r.add_interfaces();
  a->set_ifindex(3);
  a->set_name("eth1");
  a->set_up(true);
  a->set_attach(ATTACH_MODE_NATIVE);
  a->set_mac("02:00:00:00:00:01");
  a->set_mtu(1500);
  a->set_forwarding_v4("on");
  a->set_forwarding_v6("off");
  for (auto [name, packets] : {std::pair{"redirect", 10}, {"pass", 2}, {"drop", 1}}) {
    auto* c = a->add_verdicts();
    c->set_name(name);
    c->set_packets(packets);
    c->set_bytes(packets * 100);
  }
  auto* reason = a->add_punt_reasons();
  reason->set_name("no_route");
  reason->set_packets(2);
  reason->set_bytes(200);
  auto* b = r.add_interfaces();
  b->set_ifindex(5);
  b->set_name("eth9");
  b->set_attach(ATTACH_MODE_NONE);
  b->set_not_attached("not in --interface");
  b->set_master_ifindex(6);
  b->set_master_name("br0");
  b->set_master_kind("bridge");
  const std::string text = interfaces_text(r);
  EXPECT_TRUE(has(text, "Interface eth1 is up")) << text;
  EXPECT_TRUE(has(text, "XDP: native")) << text;
  EXPECT_TRUE(has(text, "IPv4 on, IPv6 off (all on)")) << text;
  EXPECT_TRUE(has(text, "forwarded: 10 packets, 1000 bytes")) << text;
  EXPECT_TRUE(has(text, "punted:   2 packets, 200 bytes")) << text;
  EXPECT_TRUE(has(text, "dropped:  1 packets, 100 bytes")) << text;
  EXPECT_TRUE(has(text, "no_route:        2 packets, 200 bytes")) << text;
  EXPECT_TRUE(has(text, "Interface eth9 is down")) << text;
  EXPECT_TRUE(has(text, "not attached (not in --interface)")) << text;
  EXPECT_TRUE(has(text, "Master: br0 (6), bridge")) << text;
  EXPECT_TRUE(has(text, "IPv4 unknown")) << text;
  const Json j = interfaces_json(r)["interfaces"];
  EXPECT_EQ(j["interfaces"][0]["attach"], "native");
  EXPECT_EQ(j["interfaces"][0]["packets"]["redirect"], 10);
  EXPECT_EQ(j["interfaces"][0]["bytes"]["drop"], 100);
  EXPECT_EQ(j["interfaces"][0]["punt_reasons"][0]["reason"], "no_route");
  EXPECT_EQ(j["interfaces"][0]["punt_reasons"][0]["packets"], 2);
  EXPECT_EQ(j["interfaces"][0]["punt_reasons"][0]["bytes"], 200);
  EXPECT_FALSE(j["interfaces"][0].contains("not_attached"));
  EXPECT_EQ(j["interfaces"][1]["not_attached"], "not in --interface");
  EXPECT_EQ(j["interfaces"][1]["master_name"], "br0");
  EXPECT_FALSE(j["interfaces"][1].contains("packets"));
  EXPECT_FALSE(j["interfaces"][1].contains("punt_reasons"));
}

TEST(FormatViews, VlanSubinterfaceShowsParentVidAndWhetherRouted) {
  InterfacesReply r;
  r.set_fast_path(true);
  auto* v = r.add_interfaces();
  v->set_ifindex(12);
  v->set_name("eth1.10");
  v->set_kind("vlan");
  v->set_attach(ATTACH_MODE_NONE);
  v->set_not_attached("VLAN subinterface, routed through parent eth1");
  v->set_vlan_parent_ifindex(3);
  v->set_vlan_parent_name("eth1");
  v->set_vlan_id(10);
  v->set_vlan_protocol("802.1Q");
  v->set_vlan_routed(true);
  auto* plain = r.add_interfaces();
  plain->set_ifindex(3);
  plain->set_name("eth1");
  plain->set_attach(ATTACH_MODE_NATIVE);
  const std::string text = interfaces_text(r);
  EXPECT_TRUE(has(text, "VLAN: id 10 (802.1Q) on eth1 (3), routed by the fast path")) << text;
  EXPECT_TRUE(has(text, "not attached (VLAN subinterface, routed through parent eth1)")) << text;
  EXPECT_EQ(text.find("VLAN:"), text.rfind("VLAN:")) << "eth1 itself has no VLAN line";
  const Json j = interfaces_json(r)["interfaces"]["interfaces"];
  EXPECT_EQ(j[0]["vlan"]["parent_ifindex"], 3);
  EXPECT_EQ(j[0]["vlan"]["parent_name"], "eth1");
  EXPECT_EQ(j[0]["vlan"]["id"], 10);
  EXPECT_EQ(j[0]["vlan"]["protocol"], "802.1Q");
  EXPECT_EQ(j[0]["vlan"]["routed"], true);
  EXPECT_FALSE(j[1].contains("vlan"));
}

TEST(FormatViews, FlowPathInRoutesTextAndJson) {
  RoutesReply r;
  auto* route = r.add_routes();
  route->set_table(254);
  route->set_prefix("198.51.100.0/24");
  auto* p = route->mutable_flow_path();
  p->set_forwarded(true);
  p->set_hash(0xabcdef01);
  p->set_bucket(1);
  p->set_nexthop_index(4);
  p->set_gateway("10.0.2.2");
  p->set_ifindex(5);
  p->set_ifname("eth2");
  p->set_mac("02:00:00:00:02:02");
  p->set_state(NEXTHOP_STATE_VALID);
  auto* other = r.add_routes();
  other->set_table(254);
  other->set_prefix("10.0.0.0/24");
  other->mutable_flow_path()->set_note("not offloaded: connected; XDP punts to the kernel");
  const std::string text = routes_text(r);
  EXPECT_TRUE(has(text, "XDP sends it to 10.0.2.2, eth2 (5), MAC 02:00:00:00:02:02")) << text;
  EXPECT_TRUE(has(text, "next hop #4, valid; bucket 1 of hash 0xabcdef01")) << text;
  EXPECT_TRUE(has(text, "Flow via 10.0.0.0/24 (table 254): not offloaded: connected")) << text;
  const Json j = routes_json(r)["routes"];
  EXPECT_EQ(j[0]["flow_path"]["ifname"], "eth2");
  EXPECT_EQ(j[0]["flow_path"]["nexthop_index"], 4);
  EXPECT_EQ(j[0]["flow_path"]["failover"], false);
  EXPECT_EQ(j[1]["flow_path"]["forwarded"], false);
  EXPECT_FALSE(j[1]["flow_path"].contains("ifindex"));
  // No flow asked: no flow_path key, no flow lines.
  RoutesReply plain;
  *plain.add_routes() = RoutesReply(r).routes(1);
  plain.mutable_routes(0)->clear_flow_path();
  EXPECT_FALSE(routes_json(plain)["routes"][0].contains("flow_path"));
  EXPECT_FALSE(has(routes_text(plain), "Flow"));
}

TEST(FormatViews, NexthopUsersAndClearedCounters) {
  NexthopsReply n;
  n.set_fast_path(true);
  auto* e = n.add_nexthops();
  e->set_index(2);
  e->set_gateway("10.0.0.2");
  e->set_ifindex(3);
  e->set_ifname("eth1");
  e->set_state(NEXTHOP_STATE_VALID);
  e->set_groups(2);
  e->set_routes(1500);
  EXPECT_TRUE(has(nexthops_text(n), "eth1 (3)"));
  EXPECT_TRUE(has(nexthops_text(n), "1500"));
  EXPECT_EQ(nexthops_json(n)["nexthops"]["nexthops"][0]["groups"], 2);
  EXPECT_EQ(nexthops_json(n)["nexthops"]["nexthops"][0]["routes"], 1500);

  CountersReply c;
  c.set_fast_path(true);
  EXPECT_FALSE(has(counters_text(c), "since clear"));
  c.set_cleared_at(1);
  EXPECT_TRUE(has(counters_text(c), "since clear counters at 1970-01-01T00:00:01Z"));
  EXPECT_EQ(counters_json(c)["counters"]["cleared_at"], 1);
}

}  // namespace
}  // namespace fpm_sink::control
