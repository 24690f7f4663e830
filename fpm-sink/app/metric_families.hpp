// Prometheus metric families from a MetricsSnapshot: names, HELP texts,
// labels and units in one place. A pure function of the snapshot, so it runs
// on the HTTP server's thread and unit tests can check it without a daemon.
//
// Conventions: every name starts with fpm_sink_, counters end in _total,
// sizes are bytes and times seconds; an enumeration (session, replay, hold)
// is one gauge per possible value labelled `state`, 1 for the current one.
#pragma once

#include <prometheus/metric_family.h>

#include <vector>

#include "app/metrics_snapshot.hpp"

namespace fpm_sink {

std::vector<prometheus::MetricFamily> metric_families(const MetricsSnapshot& snapshot);

}  // namespace fpm_sink
