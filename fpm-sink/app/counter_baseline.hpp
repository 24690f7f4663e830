// `clear counters` for people, without touching the counters themselves.
//
// The XDP program increments per-CPU maps with no lock: zeroing them from
// userspace races with every CPU forwarding at that moment (a write can undo
// increments made between the read and the write), and the Prometheus
// exporter reads the same maps as _total counters, which must never go down.
// So clearing records a snapshot, and the CLI's counter views (show counters,
// show interfaces) subtract it. The maps and the metrics stay monotonic.
#pragma once

#include <ctime>
#include <optional>

#include "control.pb.h"

namespace fpm_sink {

class CounterBaseline {
 public:
  // `now` is the raw reply of fill_counters at the moment of clearing.
  void set(const control::CountersReply& now, std::time_t at);
  // Subtracts the baseline from a raw reply and sets cleared_at. A counter
  // below its baseline started again (a port slot reused after the port was
  // removed and re-added): it is shown as it is.
  void apply(control::CountersReply* raw) const;
  std::time_t cleared_at() const { return cleared_at_; }

 private:
  std::optional<control::CountersReply> base_;
  std::time_t cleared_at_ = 0;
};

}  // namespace fpm_sink
