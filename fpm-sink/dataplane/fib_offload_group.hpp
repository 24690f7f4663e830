// FibOffload's next-hop groups as it tracks them: private to the fib_offload*.cpp
// files (the class only declares `struct Group` and `struct GroupOutcome`).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "dataplane/fib_offload.hpp"
#include "dataplane/resilient_buckets.hpp"

namespace fpm_sink {

struct FibOffload::Group {
  // Punt: some member has no gateway (connected: the kernel resolves each
  // host) or mixes blackhole with gateways; the kernel forwards such groups.
  enum class Kind : uint8_t { Forward, Drop, Punt, Failed };
  Kind kind = Kind::Failed;
  OffloadReason fail_reason = OffloadReason::None;
  std::optional<uint32_t> index;  // fpm_nhg slot while forwarding
  std::array<uint32_t, FPM_NHG_BUCKETS> buckets;
  std::vector<uint32_t> nh_refs;  // one acquire() per member, released on change
  FibGroup spec;                  // kept to retry after a capacity failure

  Group() { buckets.fill(kNoMember); }
};

// What program_group made of a group: Forward, or the kind it must take
// instead and why (Failed carries the capacity or write error).
struct FibOffload::GroupOutcome {
  Group::Kind kind;
  OffloadReason reason;
};

}  // namespace fpm_sink
