#!/usr/bin/env bash
# Runs one benchmark: ci/bench.sh NAME. Installs dependencies, configures a Release
# build in build-bench/, then hands over to bench/NAME/run.sh, which builds the
# targets it needs there. Progress goes to stderr; the last line on stdout is one
# JSON object with the results.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
name=${1:-}
shift || true

usage() {
  echo "usage: ci/bench.sh {ingest|lookup|program|forward|dump} [args for the benchmark]" >&2
  exit 2
}

case "$name" in
  ingest | lookup | program | forward | dump) ;;
  *) usage ;;
esac
script="$repo/bench/$name/run.sh"
[[ -x "$script" ]] || { echo "bench: $script is missing or not executable" >&2; exit 2; }

# FPM_BENCH_SKIP_SETUP=1 skips the dependency check (setup.sh) on a machine already set up.
[[ ${FPM_BENCH_SKIP_SETUP:-0} == 1 ]] || "$repo/ci/setup.sh" >&2
export FPM_BENCH_BUILD="$repo/build-bench"
cmake -S "$repo" -B "$FPM_BENCH_BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DFPM_SINK_TESTS=OFF -DFPM_SINK_BENCH=ON >&2

exec "$script" "$@"
