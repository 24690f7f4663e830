// Keeps the neighbours behind the fast path's next hops fresh, as switchdev
// drivers do (neigh_event_send on the entries their hardware used): the kernel
// sees none of the traffic XDP forwards, so without this a next hop's entry goes
// STALE and stays there, and a neighbour that died is never probed and never
// goes FAILED. Each refresh is an RTM_NEWNEIGH with NTF_USE, which makes the
// kernel treat the entry as used: STALE -> DELAY -> PROBE, and FAILED if nobody
// answers (which fails the next hop, see NeighState).
//
// Which of the next hops XDP really used is not cheap to know, so every
// neighbour referenced by a programmed next hop is refreshed, spread over a
// period and capped per tick so that a large table costs a bounded rate
// (RefreshSchedule decides which; this class sends and counts).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

#include "common/ip.hpp"
#include "common/result.hpp"
#include "kernel/neighbour_refresh_schedule.hpp"

struct mnl_socket;

namespace fpm_sink {

struct NeighbourRefreshStats {
  uint64_t sent = 0;
  uint64_t rejected = 0;  // the kernel answered with an error other than "no such entry"
  RefreshScheduleStats schedule;
};

// Whether marking a neighbour in kernel state `nud` (NUD_* bits) used makes
// sense: PERMANENT and NOARP entries are never probed by the kernel, and NTF_USE
// on a PERMANENT one drops its address: it turns INCOMPLETE, then FAILED
// (kernel 6.18, checked with a permanent entry on veth). Those are left alone.
bool worth_refreshing(uint16_t nud);

class NeighbourRefresher {
 public:
  using Key = RefreshSchedule::Key;
  using Targets = RefreshSchedule::Targets;

  NeighbourRefresher(boost::asio::io_context& io, NeighbourRefreshOptions options, Targets targets);
  ~NeighbourRefresher();
  NeighbourRefresher(const NeighbourRefresher&) = delete;
  NeighbourRefresher& operator=(const NeighbourRefresher&) = delete;

  Status start();  // opens the socket and arms the tick (no-op when the period is zero)
  void stop();

  // One tick's work: marks the next neighbours of the round used, at most
  // `budget` of them. Returns how many were sent.
  size_t refresh_some(size_t budget);
  // Marks one neighbour used now.
  Status mark_used(const Key& key);

  NeighbourRefreshStats stats() const { return {sent_, rejected_, schedule_.stats()}; }
  const NeighbourRefreshOptions& options() const { return options_; }

 private:
  void arm();
  size_t send(const std::vector<Key>& keys);
  void drain_replies();

  boost::asio::io_context& io_;
  NeighbourRefreshOptions options_;
  RefreshSchedule schedule_;
  boost::asio::steady_timer timer_;
  mnl_socket* sock_ = nullptr;
  uint32_t seq_ = 0;
  uint64_t sent_ = 0;
  uint64_t rejected_ = 0;
};

}  // namespace fpm_sink
