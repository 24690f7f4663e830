#include "app/metrics_snapshot.hpp"

#include "app/control_handler.hpp"
#include "app/fast_path_views.hpp"

namespace fpm_sink {

MetricsSnapshot take_metrics_snapshot(const Rib& rib, const FpmServer& fpm,
                                      const XdpDataplane* fp) {
  MetricsSnapshot s;
  s.fpm = fpm_reply(rib, fpm);
  if (auto st = fill_counters(fp, &s.counters); !st) {
    s.counters_error = st.error().to_string();
    s.counters.Clear();
    s.counters.set_fast_path(fp != nullptr);
  }
  rib.for_each_group(
      [&](const RibGroup& g) { ++(g.spec.family == Family::V4 ? s.groups.v4 : s.groups.v6); });
  if (fp) {
    s.fast_path = FastPathSnapshot{.stats = fp->offload().stats(),
                                   .staging = fp->staging(),
                                   .withheld = fp->offload().withheld(),
                                   .incomplete = fp->offload().incomplete()};
  }
  return s;
}

}  // namespace fpm_sink
