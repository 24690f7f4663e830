#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs dependencies, configures,
# builds, and runs every CTest tier (unit, bpf, integration), then the bounded
# fuzz run in its own clang + sanitizer build.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

bash ci/setup.sh
# The host's own FRR daemons (those in the host's network namespace), if any:
# the suite must leave them running.
host_frr() {
  local host_net pid
  host_net=$(readlink /proc/self/ns/net)
  for pid in $(pgrep -x 'watchfrr|zebra|bgpd|ospfd|staticd|mgmtd' || true); do
    [[ "$(readlink "/proc/$pid/ns/net" 2>/dev/null)" == "$host_net" ]] && printf '%s ' "$pid"
  done
  return 0
}
host_frr_before=$(host_frr)

build=${BUILD_DIR:-$root/build-ci}
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFPM_SINK_BENCH=ON
cmake --build "$build" -j"$(nproc)"

status=0
ctest --test-dir "$build" --output-on-failure --timeout 900 -L 'unit|bpf|integration' || status=$?

if [[ -x ci/fuzz.sh ]] || [[ -f ci/fuzz.sh ]]; then
  bash ci/fuzz.sh || status=$?
fi
host_frr_after=$(host_frr)
if [[ "$host_frr_before" != "$host_frr_after" ]]; then
  echo "FAIL: the host's FRR daemons changed during the suite: [$host_frr_before] -> [$host_frr_after]" >&2
  status=1
fi
exit $status
