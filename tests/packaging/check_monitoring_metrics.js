#!/usr/bin/env node
// Every metric that the runner's dashboard and alerting rules query must be one the runner
// really exports (issue 15). Collects the exported names from the runner's telemetry sources
// (prometheus-cpp Build<Type>().Name("...") calls; a histogram also exports _bucket, _sum and
// _count), extracts every metric name from each PromQL expression of the Grafana dashboard and of
// the rules file, and fails on any name the runner does not export. The dashboard must also
// cover what the issue lists: runs, tenants by status, step durations by phase, failures, drift
// found and corrected.
//
//   node check_monitoring_metrics.js TELEMETRY_DIR DASHBOARD.json RULES.yml
// Exits 0 when it passes, 1 when not, 77 when js-yaml is missing.
"use strict";
const fs = require("fs");
const path = require("path");
let yaml;
try {
  yaml = require("js-yaml");
} catch (e) {
  console.error("check_monitoring_metrics: js-yaml not found (run scripts/install-deps): " + e.message);
  process.exit(77);
}

const [telemetryDir, dashboardFile, rulesFile] = process.argv.slice(2);
if (!rulesFile) {
  console.error("usage: check_monitoring_metrics.js TELEMETRY_DIR DASHBOARD.json RULES.yml");
  process.exit(2);
}

// --- what the runner exports -------------------------------------------------------------------
function exportedNames(dir) {
  const names = new Set();
  for (const f of fs.readdirSync(dir).filter((f) => /\.(cc|h)$/.test(f))) {
    const text = fs.readFileSync(path.join(dir, f), "utf8");
    const re = /Build(Counter|Gauge|Histogram|Summary)\(\)\s*\.Name\(\s*"([a-zA-Z_:][a-zA-Z0-9_:]*)"\s*\)/g;
    for (let m; (m = re.exec(text));) {
      names.add(m[2]);
      if (m[1] === "Histogram") ["_bucket", "_sum", "_count"].forEach((s) => names.add(m[2] + s));
      if (m[1] === "Summary") ["_sum", "_count"].forEach((s) => names.add(m[2] + s));
    }
  }
  return names;
}

// --- metric names in a PromQL expression -------------------------------------------------------
const KEYWORDS = new Set(["and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right",
  "bool", "offset", "atan2", "inf", "nan"]);
function metricNames(expr) {
  let e = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""') // string literals
    .replace(/\{[^}]*\}/g, " ") // label matchers
    .replace(/\[[^\]]*\]/g, " ") // range and subquery windows
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ") // label lists
    .replace(/\$\{?[A-Za-z_][A-Za-z0-9_]*\}?/g, " "); // Grafana variables
  const names = [];
  const re = /[a-zA-Z_:][a-zA-Z0-9_:]*/g;
  for (let m; (m = re.exec(e));) {
    const word = m[0];
    const before = e[m.index - 1];
    if (before && /[0-9.]/.test(before)) continue; // 1e3, 5m inside numbers/durations
    const rest = e.slice(m.index + word.length);
    if (/^\s*\(/.test(rest)) continue; // a function or aggregation
    if (KEYWORDS.has(word.toLowerCase())) continue;
    names.push(word);
  }
  return names;
}

// --- the expressions ---------------------------------------------------------------------------
function dashboardExprs(file) {
  const d = JSON.parse(fs.readFileSync(file, "utf8"));
  const out = [];
  const walk = (p) => {
    for (const t of p.targets || []) if (t.expr) out.push({ where: `panel "${p.title}" ${t.refId}`, expr: t.expr });
    (p.panels || []).forEach(walk);
  };
  (d.panels || []).forEach(walk);
  return out;
}
function ruleExprs(file) {
  const doc = yaml.load(fs.readFileSync(file, "utf8"));
  return (doc.groups || []).flatMap((g) =>
    (g.rules || []).map((r) => ({ where: `rule ${r.alert || r.record}`, expr: String(r.expr) })));
}

const exported = exportedNames(telemetryDir);
const problems = [];
if (exported.size < 5) problems.push(`only ${exported.size} metric names found in ${telemetryDir}: the scan is broken`);

// The extractor must catch a name that is not exported: prove it on known expressions first.
const probe = metricNames('sum by (step) (rate(matih_provisioner_not_exported_total{step="x"}[5m])) / on (step) up');
if (JSON.stringify(probe) !== JSON.stringify(["matih_provisioner_not_exported_total", "up"])) {
  problems.push(`self-check: the extractor read ${JSON.stringify(probe)} from the probe expression`);
}

const dash = dashboardExprs(dashboardFile);
const rules = ruleExprs(rulesFile);
if (dash.length === 0) problems.push(`${dashboardFile}: no queries found`);
if (rules.length === 0) problems.push(`${rulesFile}: no rules found`);
const used = new Set();
for (const { where, expr } of [...dash, ...rules]) {
  const names = metricNames(expr);
  if (names.length === 0) problems.push(`${where}: no metric name in ${expr}`);
  for (const n of names) {
    used.add(n);
    if (!exported.has(n)) problems.push(`${where}: ${n} is not a metric the runner exports`);
  }
}

// What the dashboard must show.
const dashUsed = new Set(dash.flatMap((q) => metricNames(q.expr)));
for (const [what, name] of [["runs", "matih_provisioner_last_success_timestamp_seconds"],
  ["runs", "matih_provisioner_run_duration_seconds"], ["tenants by status", "matih_provisioner_tenants"],
  ["step durations by phase", "matih_provisioner_step_duration_seconds_bucket"],
  ["failures", "matih_provisioner_step_runs_total"], ["drift found", "matih_provisioner_drift_detected_total"],
  ["drift corrected", "matih_provisioner_drift_corrected_total"]]) {
  if (!dashUsed.has(name)) problems.push(`dashboard: nothing shows ${what} (${name})`);
}

for (const p of problems) console.log("FAIL " + p);
console.log(`${problems.length ? "FAIL" : "ok  "} ${dash.length} dashboard queries and ${rules.length} rules use ` +
  `${used.size} metric names: ${[...used].sort().join(", ")}; the runner exports ${exported.size}`);
process.exit(problems.length ? 1 : 0);
