#!/usr/bin/env bash
# Forwarding benchmark: fpm-sink's XDP fast path next to Linux forwarding, same run,
# same table, same destinations.
#
#   gen-ns [g0] ---- [d0] dut-ns [d1] ---- [s1] sink-ns
#                              [d2] ---- [s2]
#
# The table: the real IPv4 prefix set (bench/ingest's prefix_tool over the npm
# @ip-location-db/asn ranges, cached in .cache/prefixes; a synthetic set if npm is
# unreachable), every prefix via 10.255.2.2 on d1 (permanent neighbour in dut), loaded
#   (a) into fpm-sink in dut-ns over one FPM session (fwdbench feed plays zebra), and
#   (b) into dut-ns's kernel FIB with ip -batch (bounded by KERNEL_BATCH_TIMEOUT).
# Plus 256 /24s in 198.18.0.0/16 over an ECMP group {d1, d2} for the failover part.
#
# Traffic: fwdbench gen (BPF_PROG_TEST_RUN + BPF_F_TEST_XDP_LIVE_FRAMES) on g0, pinned to
# one CPU, cycling over one random address in each of DSTS random prefixes; the sink's
# XDP program on s1/s2 counts what arrives. Measured in this order:
#   1. xdp_pps     fpm-sink attached natively on d0/d1/d2, redirect d0 -> d1
#   1b. xdp_connected_pps  the same, to 200 resolved hosts (permanent neighbours, the
#                  sink's MAC) on 10.255.2.0/24, a connected subnet of d1: host entries
#   2. failover    paced traffic over the ECMP prefixes, d2 set down mid-run; lost =
#                  sent - received at the sinks (after a baseline run without failure)
#   3. kernel_pps  fpm-sink stopped (XDP detached), ip_forward=1, kernel FIB lookup
# Rates are packets counted at the sink / seconds the generator ran.
#
# Called by ci/bench.sh forward (which configured $FPM_BENCH_BUILD); progress on
# stderr, the last line on stdout is one JSON object.
#
# Knobs (environment): DURATION (s per throughput run, 5), DSTS (destinations, 100000),
# GEN_CPU (CPU for the generator, 1; "" = no pinning), FRAME_SIZE (64),
# KERNEL_ROUTES (cap on routes for ip -batch, default all), KERNEL_BATCH_TIMEOUT (s, 240),
# FAILOVER_RATE (pps, 200000), FAILOVER_DURATION (s, 3), XDP_MODE (native).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${FPM_BENCH_BUILD:-$repo/build-bench}
cache=$repo/.cache/prefixes
duration=${DURATION:-5}
ndsts=${DSTS:-100000}
gen_cpu=${GEN_CPU-1}
frame=${FRAME_SIZE:-64}
kernel_cap=${KERNEL_ROUTES:-0}
batch_timeout=${KERNEL_BATCH_TIMEOUT:-240}
fo_rate=${FAILOVER_RATE:-200000}
fo_duration=${FAILOVER_DURATION:-3}
xdp_mode=${XDP_MODE:-native}
log() { echo "forward: $*" >&2; }

ninja -C "$build" -j2 fwdbench fpm-sink fpm-sinkctl prefix_tool >&2
fwd=$build/bench/forward/fwdbench
sinkd=$build/fpm-sink/app/fpm-sink
ctl=$build/fpm-sink/control/fpm-sinkctl
[[ -x $ctl ]] || ctl=$(find "$build" -name fpm-sinkctl -type f -perm -u+x | head -1)

# --- prefix data: the real set, else a synthetic one ------------------------------------
pkg=$cache/node_modules/@ip-location-db/asn
table=$cache/real-v4.txt
table_source=real
if [[ ! -s $table ]]; then
  if [[ ! -f $pkg/asn-ipv4.csv ]]; then
    log "installing @ip-location-db/asn into $cache"
    mkdir -p "$cache"
    npm install --prefix "$cache" --no-save --no-audit --no-fund @ip-location-db/asn >&2 || true
  fi
  if [[ -f $pkg/asn-ipv4.csv ]]; then
    "$build/bench/ingest/prefix_tool" split4 "$pkg/asn-ipv4.csv" >"$table.tmp" && mv "$table.tmp" "$table"
  else
    log "npm unreachable: using a synthetic 600k IPv4 table"
    mkdir -p "$cache"
    table=$cache/synth4-600k-seed42.txt
    table_source=synthetic
    [[ -s $table ]] || "$build/bench/ingest/prefix_tool" synth4 600000 42 >"$table"
  fi
fi

# --- everything this script creates goes in cleanup ------------------------------------
tag=fwd$$
gen=$tag-gen dut=$tag-dut snk=$tag-sink
pins=/sys/fs/bpf/$tag
work=$(mktemp -d /tmp/fpm-forward.XXXXXX)
sink_pid= feed_pid= gen_pid=
cleanup() {
  set +e
  exec 7>&- 2>/dev/null
  for p in $gen_pid $feed_pid $sink_pid; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
  for s in s1 s2; do "$fwd" sink detach --pin "$pins/$s" 2>/dev/null; done
  rmdir "$pins" 2>/dev/null
  for n in $gen $dut $snk; do ip netns del "$n" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

inns() { ip netns exec "$1" "${@:2}"; }  # (background jobs: call ip netns exec directly, so $! is the process)
mac() { ip -n "$1" -j link show dev "$2" | jq -r '.[0].address'; }
ifindex() { ip -n "$1" -j link show dev "$2" | jq -r '.[0].ifindex'; }

for n in $gen $dut $snk; do ip netns add "$n"; ip -n "$n" link set lo up; done
ip link add g0 netns "$gen" type veth peer name d0 netns "$dut"
ip link add d1 netns "$dut" type veth peer name s1 netns "$snk"
ip link add d2 netns "$dut" type veth peer name s2 netns "$snk"
ip -n "$gen" addr add 10.255.1.2/24 dev g0
ip -n "$dut" addr add 10.255.1.1/24 dev d0
ip -n "$dut" addr add 10.255.2.1/24 dev d1
ip -n "$dut" addr add 10.255.3.1/24 dev d2
ip -n "$snk" addr add 10.255.2.2/24 dev s1
ip -n "$snk" addr add 10.255.3.2/24 dev s2
for l in "$gen g0" "$dut d0" "$dut d1" "$dut d2" "$snk s1" "$snk s2"; do
  ip -n ${l% *} link set ${l#* } up
done
inns "$dut" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 \
  net.ipv4.conf.default.rp_filter=0 net.ipv4.conf.d0.rp_filter=0
ip -n "$dut" neigh replace 10.255.2.2 lladdr "$(mac "$snk" s1)" dev d1 nud permanent
ip -n "$dut" neigh replace 10.255.3.2 lladdr "$(mac "$snk" s2)" dev d2 nud permanent
# d0 receives the generator's XDP_TX frames: veth takes them only in NAPI mode, which
# an XDP program (fpm-sink) or GRO switches on; GRO keeps it on once XDP is detached.
"$fwd" gro --netns "$dut" --dev d0 on
mkdir -p "$pins"
for s in s1 s2; do "$fwd" sink attach --netns "$snk" --dev "$s" --pin "$pins/$s"; done
received() { echo $(($("$fwd" sink read --pin "$pins/s1") + $("$fwd" sink read --pin "$pins/s2"))); }

# --- the table ---------------------------------------------------------------------------
# The real set never covers 10/8 or 198.18/15; a synthetic one might: keep them ours.
awk -F/ '$1 !~ /^10\./ && $1 !~ /^198\.1[89]\./' "$table" >"$work/table.txt"
for i in $(seq 0 255); do echo "198.18.$i.0/24"; done >"$work/ecmp.txt"
routes=$(wc -l <"$work/table.txt")

# (b) kernel FIB, bounded in time
kernel_lines=$routes
((kernel_cap > 0 && kernel_cap < routes)) && kernel_lines=$kernel_cap
{
  sed 's|.*|route add & proto bgp metric 20 nexthop via 10.255.2.2 dev d1 nexthop via 10.255.3.2 dev d2|' "$work/ecmp.txt"
  head -n "$kernel_lines" "$work/table.txt" | sed 's|.*|route add & via 10.255.2.2 dev d1 proto bgp metric 20|'
} >"$work/batch"
log "kernel FIB: ip -batch with $kernel_lines routes (bounded to ${batch_timeout}s)"
t0=$(date +%s.%N)
timeout "$batch_timeout" ip -n "$dut" -force -batch "$work/batch" 2>"$work/batch.err" || true
t1=$(date +%s.%N)
ip -n "$dut" -4 route show proto bgp | awk '$1 ~ /^[0-9]/ && $1 !~ /^198\.18\./ {print $1}' >"$work/kernel-routes.txt"
kernel_routes=$(wc -l <"$work/kernel-routes.txt")
kernel_load_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b - a}')
log "kernel FIB: $kernel_routes routes in ${kernel_load_s}s ($(grep -c . "$work/batch.err" || true) error lines)"

# Destinations: only inside prefixes both FIBs hold.
"$fwd" dsts --prefixes "$work/kernel-routes.txt" --count "$ndsts" --seed 7 \
  --exclude 10.0.0.0/8 --exclude 198.18.0.0/15 >"$work/dsts.txt"
"$fwd" dsts --prefixes "$work/ecmp.txt" --count 4096 --seed 7 >"$work/ecmp-dsts.txt"

# --- (a) fpm-sink with the fast path on d0/d1/d2 ------------------------------------------
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
sock=$work/fpm-sink.sock
ip netns exec "$dut" "$sinkd" --config /dev/null --fpm-listen "127.0.0.1:$port" --control-socket "$sock" \
  --interface d0 --interface d1 --interface d2 --xdp-mode "$xdp_mode" \
  --bpffs "/sys/fs/bpf/fpm-sink-$tag" --log-level warn --sweep-delay 300 >"$work/fpm-sink.log" 2>&1 &
sink_pid=$!
for _ in $(seq 100); do [[ -S $sock ]] && break; sleep 0.1; done
[[ -S $sock ]] || { log "fpm-sink did not start:"; cat "$work/fpm-sink.log" >&2; exit 1; }
counters() { "$ctl" --socket "$sock" show counters --json; }
counters >/dev/null || { log "fpm-sink has no fast path (show counters failed)"; exit 1; }
ip -n "$dut" link show d0 | grep -q xdp || { log "no XDP program on d0"; cat "$work/fpm-sink.log" >&2; exit 1; }

mkfifo "$work/feed.in"
ip netns exec "$dut" "$fwd" feed --port "$port" --control-socket "$sock" <"$work/feed.in" >"$work/feed.out" 2>"$work/feed.err" &
feed_pid=$!
exec 7>"$work/feed.in"
feed_wait() {  # waits for the n-th "synced" line
  local n=$1
  for _ in $(seq 3000); do
    (($(grep -c '^synced' "$work/feed.out" || true) >= n)) && return 0
    grep -q '^timeout' "$work/feed.out" && break
    kill -0 "$feed_pid" 2>/dev/null || break
    sleep 0.1
  done
  log "feed failed: $(cat "$work/feed.out" "$work/feed.err")"; exit 1
}
d1=$(ifindex "$dut" d1) d2=$(ifindex "$dut" d2)
{
  echo "nh 1 10.255.2.2 $d1"
  echo "nh 2 10.255.3.2 $d2"
  echo "group 10 1"
  echo "group 20 1,2"
  echo "routes $work/ecmp.txt 20"
  echo "routes $work/table.txt 10"
  echo "nh 3 - $d1"  # 10.255.2.0/24 is connected on d1: zebra sends no gateway
  echo "group 30 3"
  echo "route 10.255.2.0/24 30"
  echo "sync 300"
} >&7
# Resolved hosts on the connected subnet: fpm-sink mirrors them into fpm_hosts4.
s1mac=$(mac "$snk" s1)
for i in $(seq 10 209); do
  echo "neigh replace 10.255.2.$i lladdr $s1mac dev d1 nud permanent"
  echo "10.255.2.$i" >>"$work/connected-dsts.txt"
done | grep '^neigh' | ip -n "$dut" -batch -
feed_wait 1
fpm_load_s=$(grep '^synced' "$work/feed.out" | head -1 | sed 's/.*seconds=//')
log "fpm-sink: $(grep '^synced' "$work/feed.out" | head -1)"
# Give the fast path a moment to finish programming the LPM after the RIB is complete.
for _ in $(seq 100); do
  off=$("$ctl" --socket "$sock" show routes 198.18.255.0/24 --json 2>/dev/null | jq -r '[.. | .offload? // empty] | first // empty' 2>/dev/null || true)
  [[ -z $off || $off == installed || $off == true ]] && break
  sleep 0.1
done

pin=()
[[ -n $gen_cpu ]] && pin=(taskset -c "$gen_cpu")
g0mac=$(mac "$gen" g0) d0mac=$(mac "$dut" d0)
run_gen() {  # run_gen DSTS_FILE SECONDS [RATE] -> generator JSON
  local extra=()
  [[ -n ${3:-} ]] && extra=(--rate "$3")
  "${pin[@]}" "$fwd" gen --netns "$gen" --dev g0 --src-mac "$g0mac" --dst-mac "$d0mac" \
    --src-ip 10.255.1.2 --dsts "$1" --duration "$2" --size "$frame" "${extra[@]}"
}
measure() {  # measure LABEL [DSTS_FILE] -> JSON with sent/received/seconds/gen_pps/pps/loss
  local before after g
  before=$(received)
  g=$(run_gen "${2:-$work/dsts.txt}" "$duration")
  sleep 0.3
  after=$(received)
  jq -cn --argjson g "$g" --argjson rx $((after - before)) --arg l "$1" '
    {label: $l, sent: $g.packets, received: $rx, seconds: $g.seconds, gen_pps: ($g.pps | floor),
     pps: ($rx / $g.seconds | floor), loss: (if $g.packets > 0 then (1 - $rx / $g.packets) * 10000 | round / 10000 else null end)}'
}
verdicts() { counters | jq -c '.counters.verdicts'; }

# --- 1. XDP ----------------------------------------------------------------------------
run_gen "$work/dsts.txt" 0.5 >/dev/null  # warm-up (page in the tables, neighbour state)
v0=$(verdicts)
xdp=$(measure xdp)
v1=$(verdicts)
xdp=$(jq -c --argjson a "$v0" --argjson b "$v1" '. + {fast_path: ($b | with_entries(.value -= ($a[.key] // 0)))}' <<<"$xdp")
log "xdp: $xdp"
counters | jq -c '.counters.reasons' >"$work/reasons.json" || echo null >"$work/reasons.json"
log "xdp punt reasons: $(cat "$work/reasons.json")"

# --- 1b. XDP to resolved hosts on a connected subnet --------------------------------------
run_gen "$work/connected-dsts.txt" 0.5 >/dev/null
r0=$(counters | jq -c '.counters.reasons')
connected=$(measure xdp_connected "$work/connected-dsts.txt")
r1=$(counters | jq -c '.counters.reasons')
connected=$(jq -c --argjson a "$r0" --argjson b "$r1" '. + {connected_punts: (($b.connected // 0) - ($a.connected // 0))}' <<<"$connected")
log "xdp to connected hosts: $connected"

# --- 2. failover: ECMP {d1, d2}, d2 goes down mid-run -------------------------------------
# Three paced runs over the ECMP prefixes: baseline (no failure: must lose nothing, else the
# rate is too high for this machine), "link" (d2 set down; nothing but fpm-sink's own
# link/neighbour mirror reacts: the reported failover_lost_packets), "zebra" (d2 set down,
# then the group update zebra would send right away: one member left).
fo_down_at=$(awk -v d="$fo_duration" 'BEGIN {printf "%.2f", d / 3}')
syncs=1
failover() {  # failover none|link|zebra -> JSON (runs in a subshell)
  local before after
  before=$(received)
  v0=$(verdicts)
  run_gen "$work/ecmp-dsts.txt" "$fo_duration" "$fo_rate" >"$work/fo-gen.json" &
  gen_pid=$!
  if [[ $1 != none ]]; then
    sleep "$fo_down_at"
    ip -n "$dut" link set d2 down
    if [[ $1 == zebra ]]; then
      printf 'group 20 1\nsync 30\n' >&7  # the caller counts this sync
    fi
  fi
  wait "$gen_pid"
  gen_pid=
  sleep 0.3
  after=$(received)
  v1=$(verdicts)
  jq -cn --slurpfile g "$work/fo-gen.json" --argjson rx $((after - before)) \
    --argjson a "$v0" --argjson b "$v1" --arg mode "$1" '
    {mode: $mode, sent: $g[0].packets, received: $rx, lost: ($g[0].packets - $rx),
     seconds: $g[0].seconds, gen_pps: ($g[0].pps | floor),
     fast_path: ($b | with_entries(.value -= ($a[.key] // 0)))}'
}
restore_d2() {
  ip -n "$dut" link set d2 up
  ip -n "$dut" neigh replace 10.255.3.2 lladdr "$(mac "$snk" s2)" dev d2 nud permanent
  printf 'group 20 1,2\nsync 30\n' >&7
  syncs=$((syncs + 1))
  feed_wait "$syncs"
  sleep 1  # link + neighbour events reach fpm-sink's mirror
}
fo_base=$(failover none)
log "failover baseline (no failure): $fo_base"
fo_link=$(failover link)
log "failover, d2 down after ${fo_down_at}s, fpm-sink alone: $fo_link"
restore_d2
fo_zebra=$(failover zebra)
syncs=$((syncs + 1))
feed_wait "$syncs"
log "failover, d2 down after ${fo_down_at}s + zebra group update: $fo_zebra"
ip -n "$dut" link set d2 up

# --- 3. kernel: fpm-sink stopped, XDP detached -------------------------------------------
exec 7>&-
wait "$feed_pid" 2>/dev/null || true
feed_pid=
kill "$sink_pid"
wait "$sink_pid" 2>/dev/null || true
sink_pid=
for _ in $(seq 50); do ip -n "$dut" link show d0 | grep -q xdp || break; sleep 0.1; done
if ip -n "$dut" link show d0 | grep -q xdp; then
  log "XDP still attached on d0 after fpm-sink stopped; fpm-sink log:"
  tail -20 "$work/fpm-sink.log" >&2
  ip -n "$dut" link show d0 >&2
  exit 1
fi
run_gen "$work/dsts.txt" 0.5 >/dev/null
kernel=$(measure kernel)
log "kernel: $kernel"

jq -cn --argjson x "$xdp" --argjson c "$connected" --argjson k "$kernel" --argjson fo "$fo_link" --argjson foz "$fo_zebra" \
  --argjson fob "$fo_base" \
  --argjson routes "$routes" --arg src "$table_source" --argjson kroutes "$kernel_routes" \
  --argjson kload "$kernel_load_s" --argjson fload "$fpm_load_s" --argjson dsts "$ndsts" \
  --argjson frame "$frame" --arg cpu "$gen_cpu" --arg mode "$xdp_mode" \
  --argjson load "$(cut -d" " -f1 /proc/loadavg)" --slurpfile reasons "$work/reasons.json" '
  {
    benchmark: "forward",
    xdp_pps: $x.pps,
    xdp_connected_pps: $c.pps,
    xdp_connected_punts: $c.connected_punts,
    kernel_pps: $k.pps,
    ratio: (if $k.pps > 0 then ($x.pps / $k.pps * 100 | round) / 100 else null end),
    target_ratio: 3,
    meets_target: ($k.pps > 0 and $x.pps >= 3 * $k.pps),
    anchor: "XDP paper (Hoiland-Jorgensen et al., CoNEXT 2018): XDP forwarding ~2.5x Linux forwarding per core; target >= 3x",
    routes: $routes,
    routes_source: $src,
    kernel_routes: $kroutes,
    kernel_ip_batch_s: $kload,
    fpm_load_s: $fload,
    destinations: $dsts,
    frame_bytes: $frame,
    gen_cpu: $cpu,
    xdp_mode: $mode,
    xdp_gen_pps: $x.gen_pps,
    xdp_loss: $x.loss,
    kernel_gen_pps: $k.gen_pps,
    kernel_loss: $k.loss,
    failover_lost_packets: $fo.lost,
    failover_with_zebra_update_lost_packets: $foz.lost,
    failover_baseline_lost_packets: $fob.lost,
    failover: {rate_pps: $fo.gen_pps, link_only: $fo, zebra_update: $foz, baseline: $fob,
               note: "ECMP group of 2 (d1, d2) behind 256 /24s, paced traffic; d2 set down after a third of the run. failover_lost_packets: fpm-sink reacting alone (link/neighbour mirror); with_zebra_update: plus the one-member group update zebra sends"},
    load_avg_1m: $load,
    xdp: $x,
    kernel: $k,
    punt_reasons: ($reasons[0] // null)
  }'
