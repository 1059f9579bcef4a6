#!/usr/bin/env bash
# check_development_knobs.sh <source dir> <matih-provisioner>: every MATIH_* knob the project's
# scripts and tests read from the environment (`${MATIH_X:-...}`, `os.environ.get("MATIH_X")`,
# `getenv("MATIH_X")`) is accepted by the runner's environment check, so a developer shell that
# exports it can still run the runner. Names the local stack writes to var/stack.env are left out:
# the check takes those from the stack's own file. Fails naming each knob the runner refuses; the
# fix is a line in DevelopmentKnobs() (runner/config/environment_check.cc).
set -euo pipefail
src=$1
runner=$2

stack_names=$(grep -rhoE '\bMATIH_[A-Z0-9_]+=' "$src/scripts/stack" "$src/scripts/stack.d" | tr -d '=' | sort -u)
read_names=$(grep -rhoE '\$\{MATIH_[A-Z0-9_]+:[-=]|environ(\.get)?\(?\[?"MATIH_[A-Z0-9_]+|getenv\("MATIH_[A-Z0-9_]+' \
  "$src/scripts" "$src/tests" "$src/.ci" --exclude="$(basename "$0")" | grep -oE 'MATIH_[A-Z0-9_]+' | sort -u)
knobs=$(comm -23 <(echo "$read_names") <(echo "$stack_names"))
[[ -n "$knobs" ]] || { echo "FAIL: found no knob read by the scripts: the patterns above no longer match"; exit 1; }

failed=0
checked=0
for name in $knobs; do
  # A closed loopback port: the command stops at the database, after the environment check.
  out=$(env -i PATH="$PATH" MATIH_DATABASE_URL="postgresql://127.0.0.1:9/none?connect_timeout=1" \
    "$name=1" "$runner" status 2>&1 || true)
  checked=$((checked + 1))
  if grep -q "unknown environment variable" <<<"$out"; then
    echo "FAIL: the runner refuses $name, which the scripts read: add it to DevelopmentKnobs()"
    failed=1
  fi
done
# The check must be able to fail: a name nobody reads is refused.
out=$(env -i PATH="$PATH" MATIH_KNOB_NOBODY_READS=1 "$runner" status 2>&1 || true)
grep -q "unknown environment variable MATIH_KNOB_NOBODY_READS" <<<"$out" ||
  { echo "FAIL: the runner accepted MATIH_KNOB_NOBODY_READS: $out"; exit 1; }
((failed == 0)) || exit 1
echo "ok: the runner accepts all $checked knobs the scripts read"
