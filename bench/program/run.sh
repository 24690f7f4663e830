#!/usr/bin/env bash
# Programming benchmark: a full synthetic IPv4 table (1M routes, nested
# more-specifics, fixed seed) and an IPv6 table go from RIB events through
# FibOffload into the real BPF maps; then the cost of one next-hop change at 10k
# and at full-table size. Needs root (BPF maps). Called by ci/bench.sh, which
# configured $FPM_BENCH_BUILD; the last stdout line is one JSON object.
# Arguments go to the driver: --v4 N --v6 N --seed S --tbl8 G --v6-nodes N --random
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${FPM_BENCH_BUILD:-$repo/build-bench}
if [[ ! -f $build/build.ninja ]]; then
  cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DFPM_SINK_TESTS=OFF \
    -DFPM_SINK_BENCH=ON >&2
fi
ninja -C "$build" -j2 program_bench >&2
exec "$build/bench/program/program_bench" "$@"
