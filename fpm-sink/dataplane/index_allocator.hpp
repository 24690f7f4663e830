// Dense indices into fixed-size BPF arrays (next hops, groups) with deferred
// reuse: an XDP run that loaded an index just before userspace freed it may
// still read the slot, so a freed index stays quarantined for a grace period
// (comfortably longer than an RCU grace period / one XDP run) before it can
// name a different object.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <span>
#include <vector>

namespace fpm_sink {

using SteadyClock = std::function<std::chrono::steady_clock::time_point()>;

class IndexAllocator {
 public:
  // Hands out indices in [first, capacity). `clock` is injectable so tests can
  // advance time instead of sleeping.
  IndexAllocator(
      uint32_t first, uint32_t capacity, std::chrono::nanoseconds grace,
      SteadyClock clock = [] { return std::chrono::steady_clock::now(); });

  // Lowest never-used index first, then quarantined ones whose grace expired;
  // nullopt when every index is in use or still quarantined.
  std::optional<uint32_t> allocate();
  void release(uint32_t index);

  // Warm restart: indices the previous process's tables still use, which the
  // XDP program may read until the new tables are published. They count as in
  // use and are never handed out until release_held() quarantines them.
  // Only before the first allocate(); indices out of range are ignored.
  void hold(std::span<const uint32_t> indices);
  void release_held();
  // Takes one held index over as in use by the new owner, who releases it
  // like any other; false if it is not held.
  bool claim_held(uint32_t index);
  size_t held() const { return held_.size(); }

  uint32_t in_use() const { return in_use_; }
  uint32_t quarantined() const { return static_cast<uint32_t>(quarantine_.size()); }
  // Quarantined indices still inside the grace period; the others are handed
  // out again on the next allocate(), so they are as good as free.
  uint32_t in_grace() const;
  uint32_t capacity() const { return capacity_ - first_; }
  // When the oldest quarantined index becomes reusable (nullopt if none waits).
  std::optional<std::chrono::steady_clock::time_point> next_release() const;

 private:
  void reclaim();

  uint32_t first_, capacity_;
  uint32_t next_fresh_;
  uint32_t in_use_ = 0;
  std::chrono::nanoseconds grace_;
  SteadyClock clock_;
  std::vector<uint32_t> free_;  // past quarantine, reusable now
  struct Held {
    uint32_t index;
    std::chrono::steady_clock::time_point until;
  };
  std::deque<Held> quarantine_;  // FIFO: release times are monotonic
  std::vector<uint32_t> held_;
};

}  // namespace fpm_sink
