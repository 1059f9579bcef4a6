#!/usr/bin/env bash
# Renders the Kubernetes base offline with `kubectl kustomize` and validates the result.
#   check_kustomize.sh <kustomize dir> <validate_k8s.js>
set -euo pipefail
dir=$1 validator=$2
if ! command -v kubectl >/dev/null; then
  echo "SKIPPED: kubectl is not installed (Debian 12 does not package it), so the base was not rendered"
  exit 77
fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
kubectl kustomize "$dir" >"$out"
echo "rendered $dir: $(grep -c '^kind:' "$out") objects"
kinds=$(grep '^kind:' "$out" | awk '{print $2}' | sort | tr '\n' ' ')
[[ "$kinds" == "ConfigMap CronJob ServiceAccount " ]] || { echo "FAIL: unexpected kinds: $kinds"; exit 1; }
# The CronJob must mount the generated ConfigMap (its name carries a content hash).
cm=$(awk '/^kind: ConfigMap/{f=1} f&&/^  name:/{print $2; exit}' "$out")
grep -q "name: $cm\$" <(awk '/^kind: CronJob/{f=1} f' "$out") || { echo "FAIL: the CronJob does not use ConfigMap $cm"; exit 1; }
node "$validator" - <"$out"
