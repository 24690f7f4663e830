#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs dependencies, configures,
# builds, and runs every CTest tier (unit, bpf, integration), then the unit and
# bpf tiers again in an ASan + UBSan build, then the bounded fuzz run in its own
# clang + sanitizer build. Any failing step makes the script fail.
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

# ASan + UBSan (gcc): unit and bpf tiers, no benches. The packet fuzz runs
# fewer frames there (the sanitizers slow the model, not the BPF program).
asan_build=${ASAN_BUILD_DIR:-$root/build-ci-asan}
asan_start=$SECONDS
cmake -S "$root" -B "$asan_build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DFPM_SINK_SANITIZE=ON -DFPM_SINK_BENCH=OFF || status=$?
cmake --build "$asan_build" -j"$(nproc)" || status=$?
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  FPM_PACKET_FUZZ_FRAMES=${ASAN_PACKET_FUZZ_FRAMES:-100000} \
  ctest --test-dir "$asan_build" --output-on-failure --timeout 900 -L 'unit|bpf' || status=$?
echo "ci/test.sh: sanitizer build + unit/bpf run took $((SECONDS - asan_start)) s"

if [[ -x ci/fuzz.sh ]] || [[ -f ci/fuzz.sh ]]; then
  bash ci/fuzz.sh || status=$?
fi
host_frr_after=$(host_frr)
if [[ "$host_frr_before" != "$host_frr_after" ]]; then
  echo "FAIL: the host's FRR daemons changed during the suite: [$host_frr_before] -> [$host_frr_after]" >&2
  status=1
fi
exit $status
