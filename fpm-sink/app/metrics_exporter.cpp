#include "app/metrics_exporter.hpp"

#include <civetweb.h>
#include <prometheus/exposer.h>
#include <prometheus/metric_family.h>
#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <exception>
#include <future>

#include "app/metric_families.hpp"

namespace fpm_sink {

SnapshotCollector::SnapshotCollector(boost::asio::io_context& io, SnapshotFn fn,
                                     std::chrono::milliseconds timeout)
    : io_(io), fn_(std::move(fn)), timeout_(timeout) {}

std::vector<prometheus::MetricFamily> SnapshotCollector::Collect() const {
  // Shared with the posted handler: after a timeout it still runs (or is
  // destroyed unrun with the io_context) and fills a promise nobody reads.
  auto promise = std::make_shared<std::promise<MetricsSnapshot>>();
  auto future = promise->get_future();
  boost::asio::post(io_, [promise, fn = fn_] {
    try {
      promise->set_value(fn());
    } catch (...) {
      promise->set_exception(std::current_exception());
    }
  });

  std::vector<prometheus::MetricFamily> out;
  if (future.wait_for(timeout_) == std::future_status::ready) {
    try {
      out = metric_families(future.get());
    } catch (const std::exception& e) {
      spdlog::error("metrics.snapshot.failed {}", e.what());
    }
  } else {
    timeouts_.fetch_add(1, std::memory_order_relaxed);
    spdlog::warn("metrics.snapshot.timeout the io thread did not answer within {} ms",
                 timeout_.count());
  }
  prometheus::MetricFamily f{"fpm_sink_metrics_snapshot_timeouts_total",
                             "Scrapes answered without state because the daemon's event loop "
                             "did not take the snapshot in time",
                             prometheus::MetricType::Counter,
                             {}};
  f.metric.emplace_back().counter.value =
      static_cast<double>(timeouts_.load(std::memory_order_relaxed));
  out.push_back(std::move(f));
  return out;
}

Result<std::unique_ptr<MetricsExporter>> MetricsExporter::start(boost::asio::io_context& io,
                                                                const ListenEndpoint& at,
                                                                SnapshotFn fn,
                                                                std::chrono::milliseconds timeout) {
  // Debian 12's civetweb is built without IPv6: say so rather than "cannot bind".
  constexpr unsigned kCivetwebIpv6 = 8;
  if (at.address.find(':') != std::string::npos && !mg_check_feature(kCivetwebIpv6)) {
    return Error{"metrics.listen", "cannot serve metrics on " + at.to_string() +
                                       ": the civetweb library was built without IPv6; use an "
                                       "IPv4 address"};
  }
  std::unique_ptr<MetricsExporter> m(new MetricsExporter());
  m->collector_ = std::make_shared<SnapshotCollector>(io, std::move(fn), timeout);
  try {
    // One thread: scrapes are rare and each one costs the io thread a snapshot.
    m->exposer_ = std::make_unique<prometheus::Exposer>(at.to_string(), 1);
  } catch (const std::exception& e) {
    return Error{"metrics.listen", "cannot serve metrics on " + at.to_string() + ": " + e.what()};
  }
  m->exposer_->RegisterCollectable(m->collector_);
  spdlog::info("metrics.listening http://{}/metrics", at.to_string());
  return m;
}

MetricsExporter::~MetricsExporter() = default;

}  // namespace fpm_sink
