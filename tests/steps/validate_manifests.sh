#!/usr/bin/env bash
# validate_manifests.sh RENDERED_DIR NODE_PREFIX - offline schema validation of the Kubernetes
# objects rendered by steps 7-13 with npm kubernetes-models@4.5.1 (installed into NODE_PREFIX,
# under var/, when missing; never globally). Exit 77 (skipped) when node or npm is missing or the
# packages cannot be installed here.
set -euo pipefail
rendered=$1 prefix=$2
here=$(cd "$(dirname "$0")" && pwd)
command -v node >/dev/null && command -v npm >/dev/null || { echo "SKIPPED: node/npm not installed"; exit 77; }
if [[ ! -d "$prefix/node_modules/kubernetes-models" || ! -d "$prefix/node_modules/js-yaml" ]]; then
  mkdir -p "$prefix"
  npm install --prefix "$prefix" --no-audit --no-fund --silent kubernetes-models@4.5.1 js-yaml >/dev/null 2>&1 \
    || { echo "SKIPPED: npm could not install kubernetes-models@4.5.1 js-yaml"; exit 77; }
fi
NODE_PATH="$prefix/node_modules" node "$here/validate_manifests.js" "$rendered"
