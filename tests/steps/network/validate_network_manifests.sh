#!/usr/bin/env bash
# validate_network_manifests.sh RENDERED_DIR NODE_PREFIX - offline schema check of what steps 40 and
# 42 deliver (written by steps_network_test's Ingress.RendersItsClusterObjectsIntoFolder):
# HelmRelease (helm.toolkit.fluxcd.io/v2) and HelmRepository (source.toolkit.fluxcd.io/v1) against
# npm @kubernetes-models/flux-cd@3.0.1, Certificate (cert-manager.io/v1) against
# @kubernetes-models/cert-manager@4.4.4, Ingress (networking.k8s.io/v1) against
# kubernetes-models@4.5.1, every one run by kubernetes-models@4.5.1's validator. Packages go into
# NODE_PREFIX (var/node), never globally; flux-cd's pins are those tests/steps/services sets.
# Exit 77 (skipped) when node or npm is missing or the packages cannot be installed here.
set -euo pipefail
rendered=$1 prefix=$2
here=$(cd "$(dirname "$0")" && pwd)
command -v node >/dev/null && command -v npm >/dev/null || { echo "SKIPPED: node/npm not installed"; exit 77; }
mkdir -p "$prefix"
node - "$prefix/package.json" <<'JS'
const fs = require('fs');
const file = process.argv[2];
const pkg = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : {};
pkg.overrides = pkg.overrides || {};
pkg.overrides['@kubernetes-models/flux-cd'] = {
  '@kubernetes-models/validate': '4.0.0',
  '@kubernetes-models/base': '5.0.1',
  '@kubernetes-models/apimachinery': '2.2.0',
};
fs.writeFileSync(file, JSON.stringify(pkg, null, 2) + '\n');
JS
need=()
for t in kubernetes-models@4.5.1 js-yaml@4.1.0 @kubernetes-models/flux-cd@3.0.1 @kubernetes-models/cert-manager@4.4.4; do
  name=${t%@*} version=${t##*@}
  grep -q "\"version\": \"$version\"" "$prefix/node_modules/$name/package.json" 2>/dev/null || need+=("$t")
done
if ((${#need[@]})); then
  npm install --prefix "$prefix" --no-audit --no-fund --silent "${need[@]}" >/dev/null 2>&1 \
    || { echo "SKIPPED: npm could not install ${need[*]}"; exit 77; }
fi
node "$here/validate_network_manifests.mjs" "$rendered" "$prefix/node_modules"
