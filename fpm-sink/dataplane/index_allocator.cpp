#include "dataplane/index_allocator.hpp"

#include <algorithm>

namespace fpm_sink {

IndexAllocator::IndexAllocator(uint32_t first, uint32_t capacity, std::chrono::nanoseconds grace,
                               SteadyClock clock)
    : first_(first),
      capacity_(std::max(first, capacity)),
      next_fresh_(first),
      grace_(grace),
      clock_(std::move(clock)) {}

void IndexAllocator::reclaim() {
  if (quarantine_.empty()) return;
  const auto now = clock_();
  while (!quarantine_.empty() && quarantine_.front().until <= now) {
    free_.push_back(quarantine_.front().index);
    quarantine_.pop_front();
  }
}

std::optional<uint32_t> IndexAllocator::allocate() {
  // Fresh indices first keeps the arrays dense and the quarantine honest.
  if (next_fresh_ < capacity_) {
    ++in_use_;
    return next_fresh_++;
  }
  if (free_.empty()) reclaim();
  if (free_.empty()) return std::nullopt;
  const uint32_t index = free_.back();
  free_.pop_back();
  ++in_use_;
  return index;
}

uint32_t IndexAllocator::in_grace() const {
  // FIFO with monotonic release times: the ones still waiting are at the back.
  const auto now = clock_();
  uint32_t n = 0;
  for (auto it = quarantine_.rbegin(); it != quarantine_.rend() && it->until > now; ++it) ++n;
  return n;
}

void IndexAllocator::release(uint32_t index) {
  --in_use_;
  quarantine_.push_back({index, clock_() + grace_});
}

void IndexAllocator::hold(std::span<const uint32_t> indices) {
  if (indices.empty() || next_fresh_ != first_) return;
  std::vector<bool> taken(capacity_ - first_);
  for (uint32_t i : indices) {
    if (i < first_ || i >= capacity_ || taken[i - first_]) continue;
    taken[i - first_] = true;
    held_.push_back(i);
  }
  in_use_ += static_cast<uint32_t>(held_.size());
  // Everything else is free now; the lowest is handed out first.
  next_fresh_ = capacity_;
  for (uint32_t i = capacity_; i-- > first_;)
    if (!taken[i - first_]) free_.push_back(i);
}

void IndexAllocator::release_held() {
  for (uint32_t i : held_) release(i);
  held_.clear();
}

bool IndexAllocator::claim_held(uint32_t index) {
  auto it = std::find(held_.begin(), held_.end(), index);
  if (it == held_.end()) return false;
  held_.erase(it);
  return true;
}

std::optional<std::chrono::steady_clock::time_point> IndexAllocator::next_release() const {
  if (quarantine_.empty()) return std::nullopt;
  return quarantine_.front().until;
}

}  // namespace fpm_sink
