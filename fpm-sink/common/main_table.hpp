// The kernel's main routing table, in common/ because both the FPM decoders
// (a route without a table belongs there) and the dataplane (ports without a
// VRF route there) need it, and fpm/ must not depend on dataplane/.
#pragma once

#include <cstdint>

namespace fpm_sink {

// RT_TABLE_MAIN (linux/rtnetlink.h): zebra's default VRF.
constexpr uint32_t kMainTable = 254;

}  // namespace fpm_sink
