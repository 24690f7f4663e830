#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs dependencies, configures,
# builds, and runs every CTest tier (unit, bpf, integration), then the unit and
# bpf tiers again in an ASan + UBSan build, then the bounded fuzz run in its own
# clang + sanitizer build. Any failing step makes the script fail.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

bash ci/setup.sh

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
exit $status
