#!/usr/bin/env bash
# systemd-analyze verify of dist/fpm-sink.service, strictly: a warning (an
# unknown or misspelt key, a bad value) fails too, not only an error.
# verify wants ExecStart's binary to exist, so it checks a copy of the unit
# pointing at the build's binary instead of /usr/sbin/fpm-sink; man pages
# come with the package, not the build (--man=no).
# Usage: verify_unit.sh UNIT FPM_SINK_BINARY
set -euo pipefail
unit=$1
binary=$2
command -v systemd-analyze >/dev/null || { echo "systemd-analyze missing (Debian: systemd)"; exit 1; }

# What the unit promises (see README "Running it next to FRR").
for line in '^Type=notify$' '^ExecStart=/usr/sbin/fpm-sink --config /etc/fpm-sink/fpm-sink.toml$' \
            '^ExecReload=/bin/kill -HUP \$MAINPID$' '^WatchdogSec=' '^Before=frr.service$' \
            '^NoNewPrivileges=yes$' '^ProtectSystem=strict$' '^CapabilityBoundingSet='; do
  grep -q "$line" "$unit" || { echo "$unit: no line matching $line"; exit 1; }
done

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
sed "s#/usr/sbin/fpm-sink#$binary#" "$unit" > "$dir/fpm-sink.service"
if ! out=$(cd "$dir" && systemd-analyze verify --man=no fpm-sink.service 2>&1); then
  echo "$out"
  exit 1
fi
if [[ -n "$out" ]]; then
  echo "systemd-analyze verify warned:"
  echo "$out"
  exit 1
fi
echo "systemd-analyze verify: $unit is clean"
