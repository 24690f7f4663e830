#!/usr/bin/env bash
# Ingest benchmark: how fast a full table gets from zebra's FPM stream into fpm-sink's
# RIB, next to how fast `ip -batch` installs IPv4 routes into a kernel FIB in the same run.
#
# Sets: the real table (@ip-location-db/asn ranges split into CIDRs, IPv4 + IPv6) and a
# synthetic 1M IPv4 table with nested more-specifics (fixed seed). Each set goes to a
# fresh fpm-sink. Called by ci/bench.sh (which configured $FPM_BENCH_BUILD); the last
# line on stdout is one JSON object.
#
# Knobs (environment): KERNEL_ROUTES (IPv4 routes for the ip -batch anchor, default
# 100000), MAX_FRAME (FPM frame size, default 8192 like zebra's buffer), SYNTH_SEED.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${FPM_BENCH_BUILD:-$repo/build-bench}
cache=$repo/.cache/prefixes
kernel_routes=${KERNEL_ROUTES:-100000}
max_frame=${MAX_FRAME:-8192}
routes_per_frame=${ROUTES_PER_FRAME:-1}  # zebra's dplane_fpm_nl: one route per frame
seed=${SYNTH_SEED:-42}
log() { echo "ingest: $*" >&2; }

ninja -C "$build" -j2 prefix_tool ingest_sender fpm-sink >&2

# --- prefix data (cached; .cache/ is git-ignored) -----------------------------------
pkg=$cache/node_modules/@ip-location-db/asn
if [[ ! -f $pkg/asn-ipv4.csv || ! -f $pkg/asn-ipv6.csv ]]; then
  log "installing @ip-location-db/asn into $cache"
  mkdir -p "$cache"
  npm install --prefix "$cache" --no-save --no-audit --no-fund @ip-location-db/asn >&2
fi
v4=$cache/real-v4.txt v6=$cache/real-v6.txt synth=$cache/synth4-1m-seed$seed.txt
[[ -s $v4 && $v4 -nt $pkg/asn-ipv4.csv ]] || "$build/bench/ingest/prefix_tool" split4 "$pkg/asn-ipv4.csv" >"$v4"
[[ -s $v6 && $v6 -nt $pkg/asn-ipv6.csv ]] || "$build/bench/ingest/prefix_tool" split6 "$pkg/asn-ipv6.csv" >"$v6"
[[ -s $synth ]] || "$build/bench/ingest/prefix_tool" synth4 1000000 "$seed" >"$synth"

# --- cleanup of everything this script starts -----------------------------------------
work=$(mktemp -d /tmp/fpm-ingest.XXXXXX)
ns=fpmbench-$$
daemon_pid=
cleanup() {
  [[ -n $daemon_pid ]] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# One fresh daemon per set, so every run starts from an empty RIB.
run_set() {
  local label=$1
  shift
  local port sock
  port=$(free_port)
  sock=$work/$label.sock
  "$build/fpm-sink/app/fpm-sink" --config /dev/null --metrics-listen off --fpm-listen "127.0.0.1:$port" --control-socket "$sock" \
    --log-level warn --sweep-delay 300 >"$work/$label.log" 2>&1 &
  daemon_pid=$!
  for _ in $(seq 100); do [[ -S $sock ]] && break; sleep 0.1; done
  [[ -S $sock ]] || { log "fpm-sink did not start:"; cat "$work/$label.log" >&2; exit 1; }
  local prefixes=()
  for f in "$@"; do prefixes+=(--prefixes "$f"); done
  "$build/bench/ingest/ingest_sender" --port "$port" --control-socket "$sock" \
    --max-frame "$max_frame" --routes-per-frame "$routes_per_frame" --label "$label" --daemon-pid "$daemon_pid" "${prefixes[@]}" >"$work/$label.json"
  kill "$daemon_pid"
  wait "$daemon_pid" 2>/dev/null || true
  daemon_pid=
  log "$label: $(cat "$work/$label.json")"
}

run_set real "$v4" "$v6"
run_set synthetic_1m "$synth"

# --- anchor: ip -batch into a fresh namespace's kernel FIB ---------------------------
ip netns add "$ns"
ip -n "$ns" link set lo up
ip -n "$ns" link add veth0 type veth peer name veth1
ip -n "$ns" addr add 192.0.2.1/30 dev veth0
ip -n "$ns" link set veth0 up
ip -n "$ns" link set veth1 up
head -n "$kernel_routes" "$v4" |
  sed 's|.*|route add & via 192.0.2.2 dev veth0 proto bgp metric 20|' >"$work/batch"
t0=$(date +%s.%N)
ip -n "$ns" -force -batch "$work/batch" 2>"$work/batch.err" || true
t1=$(date +%s.%N)
installed=$(ip -n "$ns" -4 route show proto bgp | wc -l)
log "kernel: $installed of $kernel_routes routes via ip -batch ($(grep -c . "$work/batch.err" || true) error lines)"

jq -cn --slurpfile real "$work/real.json" --slurpfile synth "$work/synthetic_1m.json" \
  --argjson load "$(cut -d" " -f1 /proc/loadavg)" --argjson kroutes "$installed" --argjson t0 "$t0" --argjson t1 "$t1" '
  ($real[0]) as $r | ($synth[0]) as $s | ($kroutes / ($t1 - $t0)) as $k |
  {
    benchmark: "ingest",
    load_avg_1m: $load,
    routes: $r.routes,
    rib_routes_per_s: ($r.rib_routes_per_s | floor),
    kernel_ip_batch_routes_per_s: ($k | floor),
    kernel_ip_batch_routes: $kroutes,
    ratio: (if $k > 0 then ($r.rib_routes_per_s / $k * 100 | round) / 100 else null end),
    rib_routes_per_daemon_cpu_s: ($r.rib_routes_per_daemon_cpu_s | floor),
    synthetic_routes: $s.routes,
    synthetic_rib_routes_per_s: ($s.rib_routes_per_s | floor),
    synthetic_rib_routes_per_daemon_cpu_s: ($s.rib_routes_per_daemon_cpu_s | floor),
    synthetic_ratio: (if $k > 0 then ($s.rib_routes_per_s / $k * 100 | round) / 100 else null end),
    target_routes_per_s: 2000000,
    meets_target: ([$r.rib_routes_per_s, $s.rib_routes_per_s] | min >= 2000000),
    sets: {real: $r, synthetic_1m: $s}
  }'
