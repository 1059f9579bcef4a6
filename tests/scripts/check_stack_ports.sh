#!/usr/bin/env bash
# check_stack_ports.sh <source dir>: scripts/stack refuses a port base whose ports another process
# holds, with one clear message and nothing started, and the running stack's ports lie below the
# kernel's ephemeral range. Runs a copy of the stack scripts in a scratch folder, so the running
# stack is never touched.
set -euo pipefail
src=$1
env_file="$src/var/stack.env"
[[ -f "$env_file" ]] || { echo "SKIPPED: no running stack ($env_file missing)"; exit 77; }
pg_port=$(sed -n 's/^MATIH_PG_PORT=//p' "$env_file")
[[ -n "$pg_port" ]] || { echo "FAIL: MATIH_PG_PORT missing from $env_file"; exit 1; }

fail() { echo "FAIL: $*"; exit 1; }

ephemeral_low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range)
if [[ -f "$src/var/stack.port-base" ]]; then
  base=$(cat "$src/var/stack.port-base")
  ((base + 20 <= ephemeral_low)) || fail "the stack's base $base reaches the ephemeral range ($ephemeral_low up)"
  echo "ok: the stack's ports $base..$((base + 19)) are below the ephemeral range ($ephemeral_low)"
fi

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/scripts"
cp -r "$src/scripts/stack" "$src/scripts/stack.d" "$scratch/scripts/"

# The running stack's PostgreSQL holds $pg_port: a base there must be refused before anything starts.
set +e
out=$(MATIH_PORT_BASE=$pg_port "$scratch/scripts/stack" up 2>&1)
rc=$?
set -e
((rc != 0)) || fail "stack up on a taken port base exited 0"
grep -q "port $pg_port .*already in use" <<<"$out" || fail "the refusal does not name port $pg_port: $out"
if compgen -G "$scratch/var/run/*.pid" >/dev/null; then fail "a server was started: $(ls "$scratch/var/run")"; fi
[[ ! -e "$scratch/var/stack.env" ]] || fail "var/stack.env was written for a stack that did not start"
echo "ok: a taken port base is refused: $(tail -1 <<<"$out")"

# A base that is not a port number is refused too.
set +e
out=$(MATIH_PORT_BASE=70000 "$scratch/scripts/stack" status 2>&1)
rc=$?
set -e
((rc != 0)) && grep -q "not a port number" <<<"$out" || fail "MATIH_PORT_BASE=70000 was not refused clearly: $out"
echo "ok: MATIH_PORT_BASE=70000 refused: $out"
