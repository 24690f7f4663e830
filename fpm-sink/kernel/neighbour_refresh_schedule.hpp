// Which neighbours a refresh tick marks used: every target once per period,
// spread evenly over the period's ticks, and never more than max_per_tick in a
// tick. With more targets than the cap allows, a round takes longer than the
// period; the refreshes the cap moved to later ticks are counted (deferred), so
// an operator can see the cap biting. Pure: no I/O, no clock.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

#include "common/ip.hpp"

namespace fpm_sink {

struct NeighbourRefreshOptions {
  // Every referenced neighbour is marked used once per period; zero turns it off.
  // Keep it below the kernel's base_reachable_time/2 (15 s by default) so that an
  // entry in use never ages to STALE for long.
  std::chrono::milliseconds period{std::chrono::seconds(10)};
  std::chrono::milliseconds tick{std::chrono::milliseconds(500)};
  size_t max_per_tick = 512;
};

struct RefreshScheduleStats {
  uint64_t rounds = 0;        // rounds started (each sees the targets of that moment)
  uint64_t deferred = 0;      // refreshes a tick owed to keep the period, moved on by the cap
  uint64_t capped_ticks = 0;  // ticks in which the cap held refreshes back
  uint64_t targets = 0;       // size of the current round
};

class RefreshSchedule {
 public:
  using Key = std::pair<IpAddr, uint32_t>;  // gateway, ifindex
  using Targets = std::function<std::vector<Key>()>;

  RefreshSchedule(NeighbourRefreshOptions options, Targets targets);

  // One timer tick: the neighbours to mark used now (the per-tick share of the
  // round, capped; the cap's shortfall counts as deferred).
  std::vector<Key> tick();
  // The next `budget` neighbours of the round; a call that finds the round done
  // starts the next one (a call that finishes it does not).
  std::vector<Key> take(size_t budget);

  const RefreshScheduleStats& stats() const { return stats_; }

 private:
  size_t share_per_tick() const;

  NeighbourRefreshOptions options_;
  Targets targets_;
  std::vector<Key> round_;  // the targets of the current round, walked by cursor_
  size_t cursor_ = 0;
  RefreshScheduleStats stats_;
};

}  // namespace fpm_sink
