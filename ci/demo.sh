#!/usr/bin/env bash
# fpm-sink demo: FRR (zebra -M dplane_fpm_nl, staticd, bgpd) in network
# namespaces streams its FIB over FPM into fpm-sink; zebra's view and
# fpm-sink's are shown next to each other, then everything is torn down.
#
#   sudo bash ci/demo.sh              # setup, build, run, tear down
#   sudo bash ci/demo.sh --hold       # keep the lab up until Ctrl-C
#   SKIP_SETUP=1 SKIP_BUILD=1 BUILD_DIR=build sudo -E bash ci/demo.sh
#
# Extra arguments go to `python3 -m fpmtest demo` (--bgp-v4 N, --bgp-v6 N,
# --hold). The topology is frr-config/clab/demo.clab.yml, the containerlab
# file a user deploys, here deployed into namespaces (fpmtest/clab.py); the
# steps are in fpmtest/demo.py.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export BUILD_DIR=${BUILD_DIR:-$repo/build-demo}
export PYTHONPATH=$repo/tests/integration/lib
export PYTHONDONTWRITEBYTECODE=1
py=/usr/bin/python3  # Debian's python3: the one apt's python3-pytest belongs to

if [[ $EUID -ne 0 ]]; then
  echo "demo: needs root for network namespaces: sudo bash ci/demo.sh" >&2
  exit 1
fi

# The demo's own process tears down on exit, Ctrl-C and failure; this catches
# anything left behind if it was killed hard (removes only runs whose owner
# process is gone).
cleanup() { "$py" -m fpmtest cleanup >/dev/null 2>&1 || true; }
trap cleanup EXIT
trap 'exit 130' INT TERM

[[ ${SKIP_SETUP:-0} == 1 ]] || bash "$repo/ci/setup.sh"

if [[ ${SKIP_BUILD:-0} != 1 ]]; then
  echo "demo: building fpm-sink in $BUILD_DIR"
  cmake -S "$repo" -B "$BUILD_DIR" -G Ninja -DFPM_SINK_TESTS=OFF -DFPM_SINK_BENCH=OFF >/dev/null
  ninja -C "$BUILD_DIR" -j"$(nproc)" fpm-sink fpm-sinkctl
fi

"$py" -m fpmtest cleanup
"$py" -m fpmtest demo "$@"
