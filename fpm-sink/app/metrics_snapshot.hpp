// What a Prometheus scrape reports, copied out of the live state in one go.
// The copy is taken on the io thread (the only one that may read the RIB, the
// FPM server and the fast path) and handed to civetweb's thread, which turns
// it into metric families (app/metric_families.hpp) without touching
// anything live.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "app/fpm_server.hpp"
#include "app/xdp_dataplane.hpp"
#include "control.pb.h"
#include "rib/rib.hpp"

namespace fpm_sink {

struct GroupsByFamily {
  uint64_t v4 = 0, v6 = 0;
};

struct FastPathSnapshot {
  FibOffloadStats stats;    // routes by offload state, groups, map writes
  bool staging = false;     // warm restart: new tables staged behind adopted ones
  bool withheld = false;    // session hold expired: every route punts
  bool incomplete = false;  // --max-routes refused routes: every route punts
};

struct MetricsSnapshot {
  // The replies of `fpm-sinkctl show fpm` and `show counters`, built by the
  // same functions, so a scrape and the CLI agree by construction.
  control::FpmReply fpm;
  control::CountersReply counters;
  std::string counters_error;                 // reading the per-CPU maps failed: counters empty
  GroupsByFamily groups;                      // zebra next-hop objects in the RIB
  std::optional<FastPathSnapshot> fast_path;  // absent without --interface
};

// fp may be null (RIB-only daemon). Call on the io thread only. Costs one pass
// over the RIB's next-hop groups and one read of each per-CPU counter map.
MetricsSnapshot take_metrics_snapshot(const Rib& rib, const FpmServer& fpm, const XdpDataplane* fp);

}  // namespace fpm_sink
