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

# Line tables only (-g1), not full debug info: every backtrace and sanitizer
# report still names file and line, and the builds take about half the time
# (-O2 -g was 488 s of a 54 min run, the sanitizer build at -O2 -g 1017 s).
build=${BUILD_DIR:-$root/build-ci}
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFPM_SINK_BENCH=ON \
  -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG"
build_start=$SECONDS
cmake --build "$build" -j"$(nproc)"
echo "ci/test.sh: build took $((SECONDS - build_start)) s"

status=0
tests_start=$SECONDS
ctest --test-dir "$build" --output-on-failure --timeout 900 -L 'unit|bpf|integration' || status=$?
echo "ci/test.sh: unit/bpf/integration run took $((SECONDS - tests_start)) s"

# ASan + UBSan (gcc): unit and bpf tiers, no benches. The packet fuzz runs
# fewer frames there (the sanitizers slow the model, not the BPF program).
# -O1, as the ASan documentation suggests: gcc compiles the instrumented code
# about twice as fast as at -O2, and the reports keep their frames.
asan_build=${ASAN_BUILD_DIR:-$root/build-ci-asan}
asan_start=$SECONDS
cmake -S "$root" -B "$asan_build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" \
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
