#!/usr/bin/env bash
# Renders the Helm chart offline and validates what it renders. There is no helm binary here, so
# helm_render/ (Go text/template + sprig, the libraries Helm's engine is built on, from Debian's
# packages) does the rendering: see the caveats at the top of helm_render/main.go. Renders twice:
# with the chart's values, and with helm_render/other-values.yaml, which takes the optional branches.
#   check_helm_render.sh <chart dir> <validate_k8s.js> <scratch dir>
set -euo pipefail
chart=$1 validator=$2 work=$3
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
gocode=/usr/share/gocode/src/github.com
if ! command -v go >/dev/null || [[ ! -d $gocode/Masterminds/sprig || ! -d $gocode/ghodss/yaml ]]; then
  echo "SKIPPED: go, or Debian's sprig / ghodss-yaml Go sources, are not installed (scripts/install-deps), so the chart was not rendered"
  exit 77
fi
# Debian ships semver v3 without the /v3 folder that sprig's import path names.
mkdir -p "$work/gopath/src/github.com/Masterminds/semver"
ln -sfn "$gocode/Masterminds/semver" "$work/gopath/src/github.com/Masterminds/semver/v3"
(cd "$here/helm_render" && GO111MODULE=off GOFLAGS= GOPROXY=off GOPATH="$work/gopath:/usr/share/gocode" \
  GOCACHE="$work/gocache" go build -o "$work/helm_render" .)

fail=0
render() {  # render <label> <helm_render args...>
  local label=$1 out="$work/rendered-$1.yaml"; shift
  echo "-- $label"
  "$work/helm_render" "$@" "$chart" >"$out" || { echo "FAIL: $label did not render"; fail=1; return; }
  kinds=$(grep '^kind:' "$out" | awk '{print $2}' | sort | tr '\n' ' ')
  echo "rendered: $kinds"
  node "$validator" - <"$out" || fail=1
}
render defaults -name matih-provisioner -namespace matih-system
render other-values -name batch -f "$here/helm_render/other-values.yaml"
grep -q '^kind: ServiceAccount' "$work/rendered-other-values.yaml" && { echo "FAIL: serviceAccount.create=false still renders a ServiceAccount"; fail=1; }
grep -q 'serviceAccountName: platform-jobs' "$work/rendered-other-values.yaml" || { echo "FAIL: serviceAccount.name not used"; fail=1; }
grep -q 'image: "registry.example.com/matih/matih-provisioner:1.2.3"' "$work/rendered-other-values.yaml" || { echo "FAIL: image.tag not used"; fail=1; }
grep -q 'image: "registry.example.com/matih/matih-provisioner:0.1.0"' "$work/rendered-defaults.yaml" || { echo "FAIL: image tag does not default to appVersion"; fail=1; }
((fail == 0)) || exit 1
echo "ok: the chart renders (Go text/template + sprig, not helm itself) and validates, with both value sets"
