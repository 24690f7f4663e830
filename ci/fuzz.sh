#!/usr/bin/env bash
# Bounded fuzz run of the FPM input path in its own clang + sanitizer build:
# configures build-fuzz, builds only the fuzz targets, runs `ctest -L fuzz`
# (seed corpus generation, then fpm_fuzz for 60 s).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${FUZZ_BUILD_DIR:-$root/build-fuzz}
jobs=${JOBS:-2}

# fuzzer-no-link gives the libraries (decoder, builder, RIB) the coverage instrumentation
# libFuzzer steers by; FPM_SINK_SANITIZE adds ASan + UBSan everywhere; the fuzz executable
# itself links with -fsanitize=fuzzer (tests/fuzz/fpm/CMakeLists.txt).
CC=clang CXX=clang++ cmake -S "$root" -B "$build" -G Ninja \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_FLAGS="-fsanitize=fuzzer-no-link" \
  -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link" \
  -DFPM_SINK_SANITIZE=ON \
  -DFPM_SINK_FUZZ=ON -DFPM_SINK_TESTS=ON -DFPM_SINK_BENCH=OFF

ninja -C "$build" -j"$jobs" fpm_fuzz fpm_fuzz_seeds
ctest --test-dir "$build" --output-on-failure -L fuzz
