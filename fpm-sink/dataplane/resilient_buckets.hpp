// Resilient bucket assignment for ECMP groups: a fixed number of hash buckets,
// each naming one member. Changing the member set or the weights moves the
// fewest buckets that reach the new weighted quotas, so flows on surviving
// members keep their path (removing 1 of N members moves ~1/N of the flows).
//
// Pure functions over plain vectors: no I/O, unit tested on their own.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace fpm_sink {

// A member as the bucket table sees it: an opaque key (the next-hop index in the
// fast path) and its weight. Keys are unique within one call.
struct BucketMember {
  uint32_t key = 0;
  uint32_t weight = 1;
};

constexpr uint32_t kNoMember = 0xffffffffu;

// Number of buckets each member should own: floor(n * w / W) plus one more for
// the largest remainders (ties go to the smaller key, so the result is
// deterministic). Every member with weight > 0 gets at least one bucket when
// n >= number of members. Returned in the order of `members`.
std::vector<uint32_t> bucket_quotas(std::span<const BucketMember> members, uint32_t n_buckets);

// Rebalances `buckets` in place towards `members`. Buckets that name a key not
// in `members` (or kNoMember) are freed; members over quota give up their
// surplus buckets; the freed buckets go to members under quota. Buckets of a
// member that is within quota never move. Returns the indices of the buckets
// whose owner changed, in increasing order (what a map writer must rewrite).
// With no members, every bucket becomes kNoMember.
std::vector<uint32_t> rebalance_buckets(std::vector<uint32_t>& buckets,
                                        std::span<const BucketMember> members);

}  // namespace fpm_sink
