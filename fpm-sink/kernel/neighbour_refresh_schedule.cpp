#include "kernel/neighbour_refresh_schedule.hpp"

#include <algorithm>

namespace fpm_sink {

RefreshSchedule::RefreshSchedule(NeighbourRefreshOptions options, Targets targets)
    : options_(options), targets_(std::move(targets)) {}

// Enough per tick to cover the round within one period.
size_t RefreshSchedule::share_per_tick() const {
  const size_t n = std::max(round_.size(), size_t{1});
  const auto ticks = static_cast<size_t>(std::max<int64_t>(options_.period / options_.tick, 1));
  return (n + ticks - 1) / ticks;
}

std::vector<RefreshSchedule::Key> RefreshSchedule::tick() {
  const size_t share = share_per_tick();
  const size_t budget = std::min(share, options_.max_per_tick);
  if (budget < share) {
    stats_.deferred += share - budget;
    ++stats_.capped_ticks;
  }
  return take(budget);
}

std::vector<RefreshSchedule::Key> RefreshSchedule::take(size_t budget) {
  std::vector<Key> out;
  while (out.size() < budget) {
    if (cursor_ >= round_.size()) {
      if (!out.empty()) break;  // the next round starts on the next call
      // A new round sees the next hops programmed now; one that vanished mid-round
      // only costs a refresh the kernel answers with ENOENT.
      round_ = targets_();
      cursor_ = 0;
      ++stats_.rounds;
      stats_.targets = round_.size();
      if (round_.empty()) break;
    }
    out.push_back(round_[cursor_++]);
  }
  return out;
}

}  // namespace fpm_sink
