#!/usr/bin/env bash
# validate_external_secrets.sh RENDERED_DIR NODE_PREFIX - offline schema check of the ExternalSecret
# objects step 17 delivers (written by steps_vault_test's
# Vault.TenantSecretsAreCopiedAndReferencedByExternalSecrets when MATIH_RENDER_DIR is set) against
# npm @kubernetes-models/external-secrets@2.0.0 (external-secrets.io/v1beta1). Packages go into
# NODE_PREFIX (var/node), never globally. Exit 77 (skipped) when node or npm is missing or the
# packages cannot be installed here.
set -euo pipefail
rendered=$1 prefix=$2
here=$(cd "$(dirname "$0")" && pwd)
command -v node >/dev/null && command -v npm >/dev/null || { echo "SKIPPED: node/npm not installed"; exit 77; }
need=()
for t in js-yaml@4.1.0 @kubernetes-models/external-secrets@2.0.0; do
  name=${t%@*} version=${t##*@}
  grep -q "\"version\": \"$version\"" "$prefix/node_modules/$name/package.json" 2>/dev/null || need+=("$t")
done
if ((${#need[@]})); then
  mkdir -p "$prefix"
  npm install --prefix "$prefix" --no-audit --no-fund --silent --no-save "${need[@]}" >/dev/null 2>&1 \
    || { echo "SKIPPED: npm could not install ${need[*]}"; exit 77; }
fi
node "$here/validate_external_secrets.mjs" "$rendered" "$prefix/node_modules"
