#!/usr/bin/env bash
# Installs the runtime component into a scratch root (as the .deb would lay it out) and checks the
# units there with `systemd-analyze verify`, which also checks that ExecStart's binary exists.
# Any warning fails the check. Skipped when systemd-analyze is not installed.
#   check_systemd.sh <build dir> <scratch root>
set -euo pipefail
build=$1 root=$2
if ! command -v systemd-analyze >/dev/null; then
  echo "SKIPPED: systemd-analyze is not installed, so the units were not verified"
  exit 77
fi
rm -rf "$root"
mkdir -p "$root/lib/systemd"
# systemd resolves the units' dependencies (sysinit.target, ...) inside the root.
cp -a /lib/systemd/system "$root/lib/systemd/"
DESTDIR="$root" cmake --install "$build" --component runtime --prefix /usr >/dev/null
units=("$root"/lib/systemd/system/matih-provisioner.service "$root"/lib/systemd/system/matih-provisioner.timer)
out=$(systemd-analyze verify --man=no --root="$root" "${units[@]}" 2>&1) || { echo "$out"; echo "FAIL: systemd-analyze verify"; exit 1; }
if [[ -n "$out" ]]; then echo "$out"; echo "FAIL: systemd-analyze verify printed warnings"; exit 1; fi
echo "ok: systemd-analyze verify (systemd $(systemd-analyze --version | awk 'NR==1{print $2}')) accepts ${units[*]##*/}"
