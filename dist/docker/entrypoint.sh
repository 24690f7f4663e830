#!/bin/bash
# Router container entrypoint: fpm-sink next to FRR, without systemd.
# fpm-sink starts first so that it already listens when zebra connects (zebra
# would retry every ~3 s anyway). Then watchfrr runs in the foreground as the
# container's main process and starts and watches the daemons enabled in
# /etc/frr/daemons, as FRR's own container image does.
# FPM_SINK_OPTS (environment) adds options, e.g. "--interface eth1 --interface eth2".
set -euo pipefail

# BPF pins need bpffs; containerlab runs linux nodes privileged, so it mounts.
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf ||
  echo "entrypoint: cannot mount bpffs (not privileged?): fpm-sink may fail to start" >&2
mkdir -p /run/fpm-sink

# The config file holds fpm-sink's settings; FPM_SINK_OPTS overrides them.
# shellcheck disable=SC2086  # FPM_SINK_OPTS is a list of options
/usr/sbin/fpm-sink --config /etc/fpm-sink/fpm-sink.toml ${FPM_SINK_OPTS:-} &

# daemon_list reads /etc/frr/daemons and prepares each enabled daemon's files.
# FRR's script is not written for -e / -u (it reads unset variables).
set +eu
# shellcheck source=/dev/null
source /usr/lib/frr/frrcommon.sh
# shellcheck disable=SC2046,SC2086  # word lists by design
exec /usr/lib/frr/watchfrr ${watchfrr_options:-} $(daemon_list)
