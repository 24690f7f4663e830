// Deterministic synthetic routing tables for the programming benchmark:
// Internet-like length mixes with nested more-specifics, from a fixed seed.
#pragma once

#include <cstdint>
#include <vector>

#include "common/ip.hpp"

namespace fpm_bench {

// IPv4: ~1% /8-/15 aggregates, ~20% /16-/23, ~70% /24, ~9% /25-/32 in clusters
// of 1-6 inside generated /24s (~30k tbl8 groups per million routes).
std::vector<fpm_sink::Prefix> synth_v4(size_t n, uint64_t seed);
// IPv6: /29-/32 allocations, /36-/48 inside them (mostly /48), a few /56-/64.
std::vector<fpm_sink::Prefix> synth_v6(size_t n, uint64_t seed);

}  // namespace fpm_bench
