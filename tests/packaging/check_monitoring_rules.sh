#!/usr/bin/env bash
# The runner's alerting rules and dashboard (packaging/monitoring/, issue 15):
#   1. `promtool check rules` on the rules file, and `promtool test rules` on its unit tests
#      (series that fire and that do not fire each alert);
#   2. every alert has a runbook section in docs/operations.md, and its annotation points there;
#      every dashboard query parses as PromQL (promtool checks them as recording rules);
#   3. the Helm chart's PrometheusRule, rendered with the default thresholds, validates against
#      the Prometheus Operator's schema and equals the rules file, and passes the same promtool
#      check and unit tests; rendered with other thresholds, it carries them; off by default.
#   check_monitoring_rules.sh <repo root> <scratch dir>
# Exit 0 passed, 1 failed, 77 skipped (promtool, node modules or Go missing).
set -euo pipefail
root=$1 work=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mon=$root/packaging/monitoring chart=$root/packaging/helm/matih-provisioner
command -v promtool >/dev/null || { echo "SKIPPED: promtool (Debian package prometheus) is not installed"; exit 77; }
command -v node >/dev/null || { echo "SKIPPED: node is not installed"; exit 77; }
rm -rf "$work" && mkdir -p "$work"
fail=0

echo "-- promtool check rules + test rules: $mon"
promtool check rules "$mon/matih-provisioner.rules.yml" || fail=1
(cd "$mon" && promtool test rules matih-provisioner.rules.test.yml) || fail=1

echo "-- every alert has its runbook section in docs/operations.md"
for alert in $(grep -oP '^\s*- alert: \K\w+' "$mon/matih-provisioner.rules.yml"); do
  grep -qx "### $alert" "$root/docs/operations.md" || { echo "FAIL: docs/operations.md has no section '### $alert'"; fail=1; }
  grep -q "runbook: docs/operations.md#${alert,,}\$" "$mon/matih-provisioner.rules.yml" \
    || { echo "FAIL: $alert has no runbook annotation pointing at its section"; fail=1; }
done

echo "-- dashboard queries parse as PromQL"
node -e '
  const d = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const exprs = [];
  const walk = (p) => { for (const t of p.targets || []) if (t.expr) exprs.push(t.expr); (p.panels || []).forEach(walk); };
  (d.panels || []).forEach(walk);
  if (!exprs.length) { console.error("no queries in the dashboard"); process.exit(1); }
  console.log("groups:\n  - name: dashboard\n    rules:");
  exprs.forEach((e, i) => console.log(`      - record: dashboard:query_${i}\n        expr: ${JSON.stringify(e)}`));
' "$mon/matih-provisioner.dashboard.json" >"$work/dashboard-queries.yml" || fail=1
promtool check rules "$work/dashboard-queries.yml" || fail=1

gocode=/usr/share/gocode/src/github.com
if ! command -v go >/dev/null || [[ ! -d $gocode/Masterminds/sprig || ! -d $gocode/ghodss/yaml ]]; then
  echo "SKIPPED (partly): go or Debian's sprig / ghodss-yaml Go sources are missing, so the PrometheusRule was not rendered"
  ((fail == 0)) && exit 77 || exit 1
fi
mkdir -p "$work/gopath/src/github.com/Masterminds/semver"
ln -sfn "$gocode/Masterminds/semver" "$work/gopath/src/github.com/Masterminds/semver/v3"
(cd "$here/helm_render" && GO111MODULE=off GOFLAGS= GOPROXY=off GOPATH="$work/gopath:/usr/share/gocode" \
  GOCACHE="$work/gocache" go build -o "$work/helm_render" .)

echo "-- Helm PrometheusRule, default thresholds"
"$work/helm_render" -name matih-provisioner -namespace matih-system -f "$here/monitoring/prometheusrule-values.yaml" \
  "$chart" >"$work/rendered.yaml" || { echo "FAIL: the chart did not render"; exit 1; }
node "$here/monitoring/compare_rules.js" "$work/rendered.yaml" "$mon/matih-provisioner.rules.yml" || fail=1
grep -q 'release: kube-prometheus-stack' "$work/rendered.yaml" || { echo "FAIL: monitoring.prometheusRule.labels not used"; fail=1; }
node "$here/monitoring/compare_rules.js" --extract "$work/rendered.yaml" "$work/matih-provisioner.rules.yml"
cp "$mon/matih-provisioner.rules.test.yml" "$work/"
promtool check rules "$work/matih-provisioner.rules.yml" || fail=1
(cd "$work" && promtool test rules matih-provisioner.rules.test.yml) || fail=1

echo "-- Helm PrometheusRule, other thresholds"
"$work/helm_render" -name batch -f "$here/monitoring/prometheusrule-other-values.yaml" "$chart" >"$work/rendered-other.yaml" \
  || { echo "FAIL: the chart did not render with other thresholds"; exit 1; }
node "$here/monitoring/compare_rules.js" --extract "$work/rendered-other.yaml" "$work/other.rules.yml"
promtool check rules "$work/other.rules.yml" || fail=1
for want in '> 172800)' '> 7200' '> 0.5' '>= 20' '< 86400)' ') > 3' 'last 2880 minutes' 'more than 120 minutes' \
            'alert above 50%' 'at least 20 executions' 'alert above 3)'; do
  grep -qF -- "$want" "$work/other.rules.yml" || { echo "FAIL: '$want' not in the rules rendered with other thresholds"; fail=1; }
done

echo "-- off by default"
"$work/helm_render" -name matih-provisioner "$chart" >"$work/rendered-default.yaml"
if grep -q '^kind: PrometheusRule' "$work/rendered-default.yaml"; then echo "FAIL: PrometheusRule rendered while disabled"; fail=1; fi

((fail == 0)) || exit 1
echo "ok: rules pass promtool check and unit tests, dashboard queries parse, the chart's PrometheusRule equals the rules file"
