// The routes whose offload state zebra has yet to hear (app/offload_feedback.hpp
// turns them into replies). A route is queued at most once until it is taken:
// its RouteState carries the "due" bit, so repeated changes of one route coalesce
// and the reply carries whatever state the route has when it is taken.
//
// Removed routes leave their entry behind (the taker skips entries whose
// route is gone or no longer due), so churn between two takes can queue a
// prefix again; once bloated() says that garbage outgrows the routes held,
// FibOffload rebuilds the queue from the due bits.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/ip.hpp"

namespace fpm_sink {

struct RouteKey {
  uint32_t table = 0;
  Prefix prefix;
};

class OffloadChanges {
 public:
  void enable(bool on) { enabled_ = on; }
  bool enabled() const { return enabled_; }

  void push(const RouteKey& key) { queue_.push_back(key); }
  // The next queued key, or null when the queue is empty.
  const RouteKey* next() {
    if (head_ == queue_.size()) {
      clear();
      return nullptr;
    }
    return &queue_[head_++];
  }
  size_t queued() const { return queue_.size() - head_; }
  // True when entries outnumber the routes that can be due (`live`) by so
  // much that rebuilding from the due bits is cheaper than carrying them.
  bool bloated(size_t live) const { return queued() > 2 * live + 4096; }
  void clear() {
    queue_.clear();
    head_ = 0;
  }

 private:
  bool enabled_ = false;
  std::vector<RouteKey> queue_;
  size_t head_ = 0;
};

}  // namespace fpm_sink
