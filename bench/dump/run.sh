#!/usr/bin/env bash
# Dump benchmark: FPM ingest rate while `fpm-sinkctl show routes` dumps a full table,
# next to the quiet ingest rate in the same run (windows before and after the dump).
#
# Table: a synthetic IPv4 set with nested more-specifics (bench/ingest's prefix_tool,
# fixed seed, ROUTES routes, default 1200000). One fresh fpm-sink; dump_bench loads the
# table, keeps a zebra-like update stream running, and measures (see dump_bench.cpp);
# idle_dump_seconds is the same dump once the update stream stopped.
# Called by ci/bench.sh (which configured $FPM_BENCH_BUILD); the last line on stdout is
# one JSON object.
#
# Knobs (environment): ROUTES (1200000), SYNTH_SEED (42), CHURN_ROUTES (routes per
# update lap, 200000), QUIET_SECONDS (each quiet window, 4), TARGET_RATIO (0.8),
# FPM_SINK_BIN (daemon to measure, default the one built here: set it to another
# build to compare, e.g. before and after a change).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${FPM_BENCH_BUILD:-$repo/build-bench}
cache=$repo/.cache/prefixes
routes=${ROUTES:-1200000}
seed=${SYNTH_SEED:-42}
target=${TARGET_RATIO:-0.8}
log() { echo "dump: $*" >&2; }

ninja -C "$build" -j2 prefix_tool dump_bench fpm-sink >&2
daemon=${FPM_SINK_BIN:-$build/fpm-sink/app/fpm-sink}

mkdir -p "$cache"
synth=$cache/synth4-$routes-seed$seed.txt
[[ -s $synth ]] || "$build/bench/ingest/prefix_tool" synth4 "$routes" "$seed" >"$synth"

work=$(mktemp -d /tmp/fpm-dump.XXXXXX)
daemon_pid=
cleanup() {
  [[ -n $daemon_pid ]] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
sock=$work/control.sock
"$daemon" --config /dev/null --metrics-listen off --fpm-listen "127.0.0.1:$port" --control-socket "$sock" --log-level warn \
  --sweep-delay 300 >"$work/daemon.log" 2>&1 &
daemon_pid=$!
for _ in $(seq 100); do [[ -S $sock ]] && break; sleep 0.1; done
[[ -S $sock ]] || { log "fpm-sink did not start:"; cat "$work/daemon.log" >&2; exit 1; }

"$build/bench/dump/dump_bench" --port "$port" --control-socket "$sock" --prefixes "$synth" \
  --churn-routes "${CHURN_ROUTES:-200000}" --quiet "${QUIET_SECONDS:-4}" >"$work/result.json"
log "$(cat "$work/result.json")"

jq -cn --slurpfile r "$work/result.json" --argjson load "$(cut -d" " -f1 /proc/loadavg)" \
  --argjson target "$target" --arg daemon "$daemon" '
  ($r[0]) as $r |
  {
    benchmark: "dump",
    load_avg_1m: $load,
    daemon: $daemon,
    routes: $r.routes,
    ingest_quiet_rps: ($r.ingest_quiet_rps | floor),
    ingest_during_dump_rps: ($r.ingest_during_dump_rps | floor),
    ratio: (($r.ratio * 100 | round) / 100),
    dump_routes: $r.dump_routes,
    dump_seconds: (($r.dump_seconds * 100 | round) / 100),
    dump_parts: $r.dump_parts,
    idle_dump_seconds: (($r.idle_dump_seconds * 100 | round) / 100),
    target_ratio: $target,
    meets_target: ($r.ratio >= $target and $r.dump_routes >= $r.routes),
    detail: $r
  }'
