// `clear counters` for people, without touching the counters themselves.
//
// The XDP program increments per-CPU maps with no lock: zeroing them from
// userspace races with every CPU forwarding at that moment (a write can undo
// increments made between the read and the write), and the Prometheus
// exporter reads the same maps as _total counters, which must never go down.
// So clearing records a snapshot, and the CLI's counter views (show counters,
// show interfaces) subtract it. The maps and the metrics stay monotonic.
//
// The pinned maps outlive a restart of fpm-sink (--keep-fast-path), and so
// does a clear of them: persist() keeps the snapshot in a file beside the
// control socket, valid for as long as those very maps exist
// (app/counter_baseline_file.hpp).
#pragma once

#include <ctime>
#include <optional>
#include <string>

#include "app/counter_baseline_file.hpp"
#include "control.pb.h"

namespace fpm_sink {

class CounterBaseline {
 public:
  // Saves every clear from now on to `path`, for the counters of `maps`, and
  // takes over a clear saved there before for the same maps (one taken from
  // other maps, or a damaged file, is logged and dropped).
  void persist(std::string path, CounterMapsIdentity maps);
  // The maps go away with this process (the fast path is not kept on exit):
  // so does the saved clear, which would only be discarded at the next start.
  void drop_saved() const;
  // `now` is the raw reply of fill_counters at the moment of clearing;
  // `slots` says which counter slot each port's counters came from.
  void set(const control::CountersReply& now, CounterSlots slots, std::time_t at);
  // Subtracts the baseline from a raw reply and sets cleared_at. A port's
  // baseline applies only while the port keeps the counter slot it had at
  // the clear (after a restart, slots are handed out again). A counter below
  // its baseline started again: it is shown as it is.
  void apply(control::CountersReply* raw, const CounterSlots& slots) const;
  std::time_t cleared_at() const { return cleared_at_; }

 private:
  std::optional<control::CountersReply> base_;
  CounterSlots slots_;
  std::time_t cleared_at_ = 0;
  std::string path_;  // empty: clears last as long as the process
  CounterMapsIdentity maps_;
};

}  // namespace fpm_sink
