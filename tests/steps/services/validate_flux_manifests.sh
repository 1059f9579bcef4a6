#!/usr/bin/env bash
# validate_flux_manifests.sh RENDERED_DIR SCHEMA_DIR NODE_PREFIX - offline validation of what steps
# 26-38 render, in RENDERED_DIR (written by steps_services_test's
# RenderFluxManifests.*):
#   *.yaml         HelmRelease (helm.toolkit.fluxcd.io/v2) and HelmRepository
#                  (source.toolkit.fluxcd.io/v1) against the schemas of npm
#                  @kubernetes-models/flux-cd@3.0.1, run by kubernetes-models@4.5.1's validator
#                  (@kubernetes-models/validate@4.0.0: package.json overrides pin flux-cd's
#                  validate/base/apimachinery to the versions kubernetes-models@4.5.1 uses);
#   *.values.json  each release's values against SCHEMA_DIR/<service>.values.schema.json with ajv
#                  (draft 2020-12), a full JSON Schema implementation that cross-checks the
#                  plugin's own subset checker.
# Packages go into NODE_PREFIX (var/node), never globally. Exit 77 (skipped) when node or npm is
# missing or the packages cannot be installed here.
set -euo pipefail
rendered=$1 schemas=$2 prefix=$3
here=$(cd "$(dirname "$0")" && pwd)
command -v node >/dev/null && command -v npm >/dev/null || { echo "SKIPPED: node/npm not installed"; exit 77; }

# The pins of kubernetes-models@4.5.1, applied to flux-cd's dependencies (npm "overrides").
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
for t in kubernetes-models@4.5.1 js-yaml@4.1.0 @kubernetes-models/flux-cd@3.0.1 ajv@8.20.0; do
  name=${t%@*} version=${t##*@}
  grep -q "\"version\": \"$version\"" "$prefix/node_modules/$name/package.json" 2>/dev/null || need+=("$t")
done
if ((${#need[@]})); then
  npm install --prefix "$prefix" --no-audit --no-fund --silent "${need[@]}" >/dev/null 2>&1 \
    || { echo "SKIPPED: npm could not install ${need[*]}"; exit 77; }
fi
NODE_PATH="$prefix/node_modules" node "$here/validate_flux_manifests.mjs" "$rendered" "$schemas" "$prefix/node_modules"
