// Control-API views of the fast path: counters by verdict, punt reason and
// port, and the per-route offload state added to `show routes`.
#pragma once

#include <string_view>

#include "app/fast_path_runtime.hpp"
#include "control.pb.h"

namespace fpm_sink {

std::string_view verdict_name(uint32_t verdict);  // FPM_VERDICT_*, "" if unused
std::string_view reason_name(uint32_t reason);    // FPM_REASON_*, "" if unused

// fp may be null (RIB-only daemon): the reply then says fast_path=false.
Status fill_counters(const FastPathRuntime* fp, control::CountersReply* out);
void annotate_offload(const FastPathRuntime& fp, control::RoutesReply* routes);

}  // namespace fpm_sink
