// How long one slice of a long control reply may run on the io thread before
// it yields to other handlers (FPM ingest first of all).
//
// Before each slice the reply yields (posts itself to the back of the io
// queue) and measures how long it waited: the time the handlers queued ahead
// of it took. A tiny wait means nothing else needed the thread, and a slice may
// run max_slice. Otherwise the slice gets `share` of the loop,
// waited * share / (1 - share), so a full-table dump next to a saturated FPM
// session costs ingest about `share` of its rate, whatever the size of
// ingest's reads.
#pragma once

#include <chrono>

namespace fpm_sink::control {

struct PacerConfig {
  double share = 0.15;
  std::chrono::microseconds min_slice{20};
  std::chrono::microseconds max_slice{2000};
  // A wait shorter than this was only the loop polling for events.
  std::chrono::microseconds idle_wait{20};
};

std::chrono::steady_clock::duration slice_length(std::chrono::steady_clock::duration waited,
                                                 const PacerConfig& config);

}  // namespace fpm_sink::control
