#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs dependencies, configures,
# builds, and runs every CTest tier (unit, bpf, integration), then the bounded
# fuzz run in its own clang + sanitizer build.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

bash ci/setup.sh

build=${BUILD_DIR:-$root/build-ci}
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFPM_SINK_BENCH=ON
cmake --build "$build" -j"$(nproc)"

status=0
ctest --test-dir "$build" --output-on-failure --timeout 900 -L 'unit|bpf|integration' || status=$?

if [[ -x ci/fuzz.sh ]] || [[ -f ci/fuzz.sh ]]; then
  bash ci/fuzz.sh || status=$?
fi
exit $status
