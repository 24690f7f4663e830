#!/usr/bin/env bash
# Installs everything fpm-sink needs to build, test, benchmark and run its demo.
# Idempotent and non-interactive; safe to run on every CI job.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  clang llvm libbpf-dev bpftool linux-libc-dev libc6-dev-i386
  libmnl-dev libprotobuf-dev protobuf-compiler libabsl-dev
  libboost-dev libspdlog-dev libfmt-dev libcli11-dev nlohmann-json3-dev libtomlplusplus-dev
  prometheus-cpp-dev libsystemd-dev systemd
  libgtest-dev libgmock-dev libbenchmark-dev libclang-rt-14-dev
  frr frr-pythontools mmdebstrap help2man man-db file iproute2 iputils-ping procps psmisc jq curl python3 python3-pytest python3-yaml
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The host's own FRR (if any) is left alone: the tests and the demo run their
# daemons inside their own namespaces with their own socket, pid and vty paths.

if ! mountpoint -q /sys/fs/bpf; then
  mount -t bpf bpf /sys/fs/bpf
fi
echo "setup: dependencies present, bpffs mounted"
