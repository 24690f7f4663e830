// `show routes` built in slices, so that dumping a full table (a million
// routes and more) on the io thread never holds up FPM ingest for long.
//
// Collect: walk the RIB in storage order (a live route never moves), keep the
// (table, prefix) key of each route the filter selects, and sort every run of
// kRunKeys keys. Emit: merge the sorted runs and look each key up again, so a
// route deleted since it was collected is skipped, never dereferenced, and a
// route is shown as it is when its part is built.
//
// What that guarantees while routes change (the contract in control.proto):
// every route present for the whole dump appears exactly once, in (table,
// family, address, length) order; a route added or deleted during the dump may
// or may not appear; no (table, prefix) appears twice.
//
// Cost: 24 bytes per selected route for the keys, held until the dump ends or
// is dropped; nothing points into the RIB between steps.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "common/result.hpp"
#include "control.pb.h"
#include "rib/rib.hpp"

namespace fpm_sink::control {

class RouteDump {
 public:
  using Clock = std::chrono::steady_clock;
  // Bounds one part: what a client that stops reading can make the daemon hold
  // beyond the keys (~100 bytes per route encoded).
  static constexpr size_t kMaxPartRoutes = 1024;
  // Sorted in one go: ~100 us of work, so a step overshoots its deadline by little.
  static constexpr size_t kRunKeys = 2048;

  // Errors: control.bad_prefix (the filter is neither a prefix nor an address).
  static Result<RouteDump> start(const ShowRoutes& req);

  // Adds the next routes to `part` until `deadline` passes, the part holds
  // kMaxPartRoutes routes or the dump is complete; always makes some progress.
  // Returns false once the dump is complete (this part is the last).
  bool step(const Rib& rib, Clock::time_point deadline, RoutesReply* part);

  // Keys held now (memory accounting and tests).
  size_t keys_held() const { return keys_.size(); }

 private:
  struct Key {
    uint32_t table = 0;
    uint8_t family = 0;
    uint8_t len = 0;
    std::array<uint8_t, 16> addr{};

    static Key of(uint32_t table, const Prefix& p);
    Prefix prefix() const;
    // The order for_each_route shows: table, family, address, length.
    bool operator<(const Key& o) const;
    bool operator==(const Key& o) const = default;
  };
  static_assert(sizeof(Key) == 24);

  struct Run {
    size_t next;  // index into keys_ of the run's smallest key not yet emitted
    size_t end;
  };

  RouteDump() = default;
  bool selects(const RibRoute& r) const;
  void collect(const RibRoute& r);
  void close_run();
  void finish_collect();
  bool later(const Run& a, const Run& b) const;  // heap order: a's next key after b's
  void release();                                // a finished dump holds nothing
  void emit_longest_matches(const Rib& rib, RoutesReply* part);
  // Pops the smallest key of the merge; false when every run is drained.
  bool pop(Key* out);

  // Filter.
  std::optional<uint32_t> table_;
  std::optional<Prefix> exact_;
  // Longest match per table: every route containing the address is collected
  // (at most 129 per table), the longest one still present is shown.
  std::optional<IpAddr> address_;

  bool collecting_ = true;
  size_t walk_pos_ = 0;
  std::vector<Key> keys_;
  size_t run_start_ = 0;     // first key of the run being collected
  std::vector<Run> heap_;    // min-heap on the runs' next keys
  std::optional<Key> last_;  // last key emitted: a route collected twice shows once
};

}  // namespace fpm_sink::control
