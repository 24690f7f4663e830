#!/usr/bin/env bash
# Lookup benchmark: ns per lookup of fpm-sink's BPF tables (bpf/lpm4.h DIR-24-8,
# bpf/lpm6.h 24-8-8 trie) over random destinations inside the table, next to
# anchors measured in the same run and the same way (BPF_PROG_TEST_RUN of an XDP
# program looping with bpf_loop over 65536 destinations per run; ns = duration /
# lookups, raw, nothing subtracted):
#   bpf_fib_lookup   the same routes in a netns kernel FIB (via a resolved gateway)
#   LPM_TRIE         BPF_MAP_TYPE_LPM_TRIE with the same routes
#   array read       one random read of a 64 MiB BPF array
# v4_vs_array_read / v6_vs_array_read: lookup ns over the array read ns of the
# same run; v6_reads_per_lookup: dependent table reads per IPv6 lookup;
# load_avg_1m: the machine's load before and after (a loaded machine slows the
# IPv6 lookup, whose nodes live in the shared L3, more than the array read).
# Sets: the real table (@ip-location-db/asn split into CIDRs by bench/ingest's
# prefix_tool) and the synthetic 1M IPv4 table with nested more-specifics.
#
# Knobs: FIB4_ROUTES / FIB6_ROUTES (leading routes of each list installed in the
# kernel FIB; default all; destinations are then drawn from those routes for
# every method), PASSES (times over the 1M destinations, default 4), SYNTH_SEED.
# Needs root. Progress on stderr; the last stdout line is one JSON object.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${FPM_BENCH_BUILD:-$repo/build-bench}
cache=$repo/.cache/prefixes
seed=${SYNTH_SEED:-42}
passes=${PASSES:-4}
log() { echo "lookup: $*" >&2; }

[[ $(id -u) -eq 0 ]] || { log "needs root"; exit 2; }
[[ -f $build/build.ninja ]] || cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >&2
ninja -C "$build" -j2 prefix_tool lookup_bench_driver >&2

pkg=$cache/node_modules/@ip-location-db/asn
if [[ ! -f $pkg/asn-ipv4.csv || ! -f $pkg/asn-ipv6.csv ]]; then
  log "installing @ip-location-db/asn into $cache"
  mkdir -p "$cache"
  npm install --prefix "$cache" --no-save --no-audit --no-fund @ip-location-db/asn >&2
fi
tool=$build/bench/ingest/prefix_tool
v4=$cache/real-v4.txt v6=$cache/real-v6.txt synth=$cache/synth4-1m-seed$seed.txt
[[ -s $v4 && $v4 -nt $pkg/asn-ipv4.csv ]] || "$tool" split4 "$pkg/asn-ipv4.csv" >"$v4"
[[ -s $v6 && $v6 -nt $pkg/asn-ipv6.csv ]] || "$tool" split6 "$pkg/asn-ipv6.csv" >"$v6"
[[ -s $synth ]] || "$tool" synth4 1000000 "$seed" >"$synth"
fib4=${FIB4_ROUTES:-$(wc -l <"$v4")}
fib6=${FIB6_ROUTES:-$(wc -l <"$v6")}

ns=fpmlookup-$$
work=$(mktemp -d /tmp/fpm-lookup.XXXXXX)
cleanup() {
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# A netns whose FIB holds the routes via a resolved gateway on veth0; the XDP
# test run's ingress_ifindex is veth0 (forwarding on, or bpf_fib_lookup refuses).
ip netns add "$ns"
ip -n "$ns" link add veth0 type veth peer name veth1
ip -n "$ns" link set lo up
ip -n "$ns" link set veth0 up
ip -n "$ns" link set veth1 up
ip -n "$ns" addr add 198.18.0.1/30 dev veth0
ip -n "$ns" -6 addr add fd00:ffff::1/64 dev veth0 nodad
ip -n "$ns" neigh add 198.18.0.2 lladdr 02:00:00:00:00:02 dev veth0 nud permanent
ip -n "$ns" -6 neigh add fd00:ffff::2 lladdr 02:00:00:00:00:02 dev veth0 nud permanent
ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.forwarding=1 net.ipv6.conf.all.forwarding=1 \
  net.ipv4.conf.veth0.forwarding=1
head -n "$fib4" "$v4" | awk '{print "route add " $1 " via 198.18.0.2 dev veth0"}' >"$work/r4"
head -n "$fib6" "$v6" | awk '{print "route add " $1 " via fd00:ffff::2 dev veth0"}' >"$work/r6"
t0=$(date +%s.%N)
ip -n "$ns" -force -batch "$work/r4" 2>"$work/r4.err" || true
ip -n "$ns" -6 -force -batch "$work/r6" 2>"$work/r6.err" || true
t1=$(date +%s.%N)
got4=$(ip -n "$ns" route show | wc -l)
got6=$(ip -n "$ns" -6 route show | wc -l)
log "kernel FIB: $got4 IPv4 / $got6 IPv6 routes in $(echo "$t1 - $t0" | bc) s"

load_before=$(cut -d" " -f1 /proc/loadavg)
ip netns exec "$ns" "$build/bench/lookup/lookup_bench_driver" --v4 "$v4" --v6 "$v6" \
  --synth "$synth" --dev veth0 --fib4 "$fib4" --fib6 "$fib6" --passes "$passes" >"$work/out"
tail -n 1 "$work/out" | python3 -c '
import json, sys
j = json.loads(sys.stdin.read())
j["kernel_fib_v4_routes_installed"] = int(sys.argv[1])
j["kernel_fib_v6_routes_installed"] = int(sys.argv[2])
# Other work on the machine evicts the trie nodes from the shared L3, which
# the IPv6 lookup relies on and the array read (always a miss) does not.
j["load_avg_1m"] = {"before": float(sys.argv[3]), "after": float(sys.argv[4])}
print(json.dumps(j))' "$got4" "$got6" "$load_before" "$(cut -d" " -f1 /proc/loadavg)"
