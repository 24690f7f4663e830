// Prometheus exposition (GET /metrics) through prometheus-cpp's Exposer, whose
// civetweb server answers on its own threads.
//
// The daemon's state belongs to the io thread, so a scrape never reads it
// directly: SnapshotCollector posts the snapshot function to the io_context
// and waits for the copy (bounded by a timeout). Chosen over a snapshot
// refreshed by a timer because nothing is copied while nobody scrapes, and a
// scrape reports the state of that moment, so it agrees with fpm-sinkctl.
// The io thread spends one snapshot per scrape (a pass over the next-hop
// groups and the per-CPU counter maps); if it is busy past the timeout (a long
// replay burst), the scrape answers with fpm_sink_metrics_snapshot_timeouts_total
// only and the daemon is not held up.
#pragma once

#include <prometheus/collectable.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "app/metrics_snapshot.hpp"
#include "app/options.hpp"
#include "common/result.hpp"

namespace prometheus {
class Exposer;
}

namespace fpm_sink {

using SnapshotFn = std::function<MetricsSnapshot()>;

class SnapshotCollector final : public prometheus::Collectable {
 public:
  // fn runs on io's thread; whatever it reads must outlive io's run.
  SnapshotCollector(boost::asio::io_context& io, SnapshotFn fn, std::chrono::milliseconds timeout);
  // Called by civetweb's threads.
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  boost::asio::io_context& io_;
  SnapshotFn fn_;
  std::chrono::milliseconds timeout_;
  mutable std::atomic<uint64_t> timeouts_{0};
};

class MetricsExporter {
 public:
  static constexpr std::chrono::milliseconds kSnapshotTimeout{2000};

  // Listens on `at` (error id metrics.listen when the address cannot be bound).
  static Result<std::unique_ptr<MetricsExporter>> start(
      boost::asio::io_context& io, const ListenEndpoint& at, SnapshotFn fn,
      std::chrono::milliseconds timeout = kSnapshotTimeout);
  // Stops the HTTP server, waiting for a scrape in progress (at most the timeout).
  ~MetricsExporter();
  MetricsExporter(const MetricsExporter&) = delete;
  MetricsExporter& operator=(const MetricsExporter&) = delete;

 private:
  MetricsExporter() = default;
  std::shared_ptr<SnapshotCollector> collector_;
  std::unique_ptr<prometheus::Exposer> exposer_;
};

}  // namespace fpm_sink
