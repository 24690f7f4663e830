// Rendering of control-API replies for people (aligned tables) and for
// scripts and tests (JSON with a fixed shape, see README of fpm-sinkctl).
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>

#include "control.pb.h"

namespace fpm_sink::control {

// Key order is part of the contract that people read, so keep insertion order.
using Json = nlohmann::ordered_json;

Json route_json(const Route& route);
Json routes_json(const RoutesReply& reply);
Json groups_json(const NexthopGroupsReply& reply);
Json fpm_json(const FpmReply& reply);
Json counters_json(const CountersReply& reply);
Json nexthops_json(const NexthopsReply& reply);
Json neighbors_json(const NeighborsReply& reply);
Json interfaces_json(const InterfacesReply& reply);
Json flow_path_json(const FlowPath& path);

// Prints routes_json(all parts).dump(2) and a newline, part by part as the
// parts arrive, so a full table neither waits for nor holds the whole reply.
class RoutesJsonWriter {
 public:
  explicit RoutesJsonWriter(std::ostream& out);
  void add(const RoutesReply& part);
  void finish();

 private:
  std::ostream& out_;
  size_t routes_ = 0;
};

std::string routes_text(const RoutesReply& reply);
std::string groups_text(const NexthopGroupsReply& reply);
std::string fpm_text(const FpmReply& reply);
std::string counters_text(const CountersReply& reply);
std::string nexthops_text(const NexthopsReply& reply);
std::string neighbors_text(const NeighborsReply& reply);
std::string interfaces_text(const InterfacesReply& reply);
// One line per route that carries a flow_path (show routes ADDR from ...).
std::string flow_paths_text(const RoutesReply& reply);

// Names used by both renderings.
std::string_view family_name(control::Family f);
std::string_view state_name(control::EntryState s);
std::string_view route_type_name(control::RouteType t);
std::string_view session_state_name(SessionState s);
std::string_view replay_state_name(ReplayState s);
std::string_view hold_state_name(HoldState s);
std::string_view offload_name(Offload o);  // "" when no fast path runs
std::string_view nexthop_state_name(NexthopState s);
std::string_view attach_mode_name(AttachMode m);  // "native", "generic", "none"
// "eth1 (3)", or "ifindex 3" when the name is unknown; "-" for 0.
std::string interface_text(const std::string& name, uint32_t ifindex);
// "2026-12-04T20:46:48Z", "never" for 0.
std::string unix_time_text(uint64_t seconds);

}  // namespace fpm_sink::control
