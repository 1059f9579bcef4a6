#!/usr/bin/env bash
# Checks the /etc/cron.d line: five time fields, a user, flock -n around the runner, one pass.
#   check_crontab.sh <cron file>
set -euo pipefail
file=$1
mapfile -t jobs < <(grep -vE '^\s*(#|$)|^[A-Z_]+=' "$file")
[[ ${#jobs[@]} -eq 1 ]] || { echo "FAIL: expected one job line, found ${#jobs[@]}"; exit 1; }
read -r -a f <<<"${jobs[0]}"
field='^(\*|[0-9]+(-[0-9]+)?)(/[0-9]+)?(,(\*|[0-9]+(-[0-9]+)?)(/[0-9]+)?)*$'
for i in 0 1 2 3 4; do
  [[ ${f[i]} =~ $field ]] || { echo "FAIL: time field $((i + 1)) '${f[i]}' is not valid"; exit 1; }
done
[[ ${f[5]} =~ ^[a-z_][a-z0-9_-]*$ && ${f[5]} != root ]] || { echo "FAIL: user field '${f[5]}' (expect a non-root user)"; exit 1; }
[[ ${f[6]} == flock && ${f[7]} == -n ]] || { echo "FAIL: the command does not start with 'flock -n'"; exit 1; }
[[ "${jobs[0]}" == *" matih-provisioner "*" run"* || "${jobs[0]}" == */matih-provisioner\ *" run"* ]] \
  || { echo "FAIL: the command is not 'matih-provisioner ... run'"; exit 1; }
command -v flock >/dev/null && flock --help 2>&1 | grep -q -- '--nonblock' || { echo "FAIL: flock here has no -n"; exit 1; }
echo "ok: ${f[*]:0:5} as ${f[5]}, under flock -n ${f[8]}"
