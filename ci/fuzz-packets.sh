#!/usr/bin/env bash
# Long packet-fuzz campaign of the XDP program against the C++ reference model
# (tests/bpf/fuzz). Needs root (BPF_PROG_TEST_RUN in a private netns).
#   bash ci/fuzz-packets.sh [SEED] [FRAMES]     default seed 1, 10000000 frames
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-$root/build}
seed=${1:-1}
frames=${2:-10000000}

if [[ ! -f "$build/CMakeCache.txt" ]]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
fi
cmake --build "$build" -j"${JOBS:-2}" --target xdp_packet_fuzz
FPM_PACKET_FUZZ_SEED=$seed FPM_PACKET_FUZZ_FRAMES=$frames \
  "$build/tests/bpf/fuzz/xdp_packet_fuzz" --gtest_brief=1
