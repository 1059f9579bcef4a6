#!/usr/bin/env node
// Checks the Helm chart's files offline without rendering them (check_helm_render.sh renders
// them; there is no helm binary on the build machines). What it checks: Chart.yaml (apiVersion v2, name, SemVer version, appVersion), values.yaml (parses, has
// the values the chart promises: schedule, image, config, secrets, resources, concurrencyPolicy),
// every .Values path a template uses exists in values.yaml, every included template is defined,
// and template actions are balanced ({{ }} pairs; if/with/range/define against end).
//
//   node check_helm_chart.js CHART_DIR
//
// Exits 0 when it passes, 1 when not, 77 when js-yaml is missing (scripts/install-deps).
"use strict";
const fs = require("fs");
const path = require("path");

let yaml;
try {
  yaml = require("js-yaml");
} catch (e) {
  console.error("check_helm_chart: js-yaml not found (run scripts/install-deps): " + e.message);
  process.exit(77);
}

const dir = process.argv[2];
if (!dir) {
  console.error("usage: check_helm_chart.js CHART_DIR");
  process.exit(2);
}
const problems = [];
const load = (name) => yaml.load(fs.readFileSync(path.join(dir, name), "utf8"));

const chart = load("Chart.yaml") || {};
if (chart.apiVersion !== "v2") problems.push(`Chart.yaml: apiVersion is ${chart.apiVersion}, expected v2`);
if (chart.name !== path.basename(path.resolve(dir))) problems.push(`Chart.yaml: name ${chart.name} differs from the folder name`);
if (!/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/.test(String(chart.version))) {
  problems.push(`Chart.yaml: version ${chart.version} is not SemVer 2`);
}
if (!chart.appVersion) problems.push("Chart.yaml: appVersion is missing");
if (chart.type && !["application", "library"].includes(chart.type)) problems.push(`Chart.yaml: type ${chart.type}`);

const values = load("values.yaml") || {};
const get = (obj, keys) => keys.reduce((o, k) => (o !== null && typeof o === "object" && k in o ? o[k] : undefined), obj);
for (const key of ["schedule", "image.repository", "image.pullPolicy", "config", "secrets.existingSecret",
  "resources", "concurrencyPolicy", "backoffLimit", "activeDeadlineSeconds", "podSecurityContext", "securityContext"]) {
  if (get(values, key.split(".")) === undefined) problems.push(`values.yaml: ${key} is missing`);
}
if (!["Allow", "Forbid", "Replace"].includes(values.concurrencyPolicy)) {
  problems.push(`values.yaml: concurrencyPolicy ${values.concurrencyPolicy} is not Allow, Forbid or Replace`);
}
if (String(values.schedule).trim().split(/\s+/).length !== 5) problems.push("values.yaml: schedule is not 5 cron fields");
if (get(values, ["podSecurityContext", "runAsNonRoot"]) !== true) problems.push("values.yaml: podSecurityContext.runAsNonRoot is not true");
if (get(values, ["securityContext", "readOnlyRootFilesystem"]) !== true) problems.push("values.yaml: securityContext.readOnlyRootFilesystem is not true");

const tdir = path.join(dir, "templates");
const templates = fs.readdirSync(tdir).filter((f) => /\.(yaml|yml|tpl|txt)$/.test(f));
const defined = new Set();
const included = [];
for (const f of templates) {
  const text = fs.readFileSync(path.join(tdir, f), "utf8");
  const opens = (text.match(/\{\{/g) || []).length;
  const closes = (text.match(/\}\}/g) || []).length;
  if (opens !== closes) problems.push(`${f}: ${opens} '{{' but ${closes} '}}'`);
  let depth = 0;
  for (const m of text.matchAll(/\{\{-?\s*(\w+)?/g)) {
    if (["if", "with", "range", "define", "block"].includes(m[1])) depth++;
    if (m[1] === "end") depth--;
    if (depth < 0) { problems.push(`${f}: an 'end' closes nothing`); depth = 0; }
  }
  if (depth !== 0) problems.push(`${f}: ${depth} block(s) not closed by 'end'`);
  for (const m of text.matchAll(/define\s+"([^"]+)"/g)) defined.add(m[1]);
  for (const m of text.matchAll(/include\s+"([^"]+)"/g)) included.push([f, m[1]]);
  for (const m of text.matchAll(/\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)/g)) {
    const keys = m[1].slice(1).split(".");
    if (get(values, keys) === undefined) problems.push(`${f}: .Values.${keys.join(".")} is not in values.yaml`);
  }
}
for (const [f, name] of included) {
  if (!defined.has(name)) problems.push(`${f}: includes "${name}", which no template defines`);
}

if (problems.length) {
  console.log(`FAIL ${dir}\n  - ${problems.join("\n  - ")}`);
  console.log("0 passed, 1 failed");
  process.exit(1);
}
console.log(`ok   ${dir}: Chart.yaml, values.yaml and ${templates.length} templates are consistent`);
console.log("1 passed, 0 failed");
