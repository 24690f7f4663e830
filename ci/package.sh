#!/usr/bin/env bash
# Builds the Debian package (CPack DEB, cmake/Packaging.cmake) and prints its
# path as the last line of stdout.
#   BUILD_DIR=build bash ci/package.sh   # package an existing build (nothing is
#                                        # rebuilt if it is up to date)
#   bash ci/package.sh                   # configure a Release build in build-package
# Needs dpkg-dev (dpkg-shlibdeps computes Depends), file (CPack finds the ELF
# files with it) and help2man (man pages):
# ci/setup.sh installs them.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

build=${BUILD_DIR:-}
if [[ -z "$build" ]]; then
  build=$root/build-package
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DFPM_SINK_TESTS=OFF -DFPM_SINK_BENCH=OFF >&2
fi
build=$(cd "$build" && pwd)
cmake --build "$build" -j"$(nproc)" >&2

out=$build/package
rm -f "$out"/fpm-sink_*.deb
# cpack's own output goes to stderr: stdout ends with the package's path.
(cd "$build" && cpack -G DEB -B "$out") >&2
debs=("$out"/fpm-sink_*.deb)
if [[ ${#debs[@]} -ne 1 || ! -f "${debs[0]}" ]]; then
  echo "ci/package.sh: expected one fpm-sink_*.deb in $out, found: ${debs[*]}" >&2
  exit 1
fi
echo "${debs[0]}"
