#!/usr/bin/env node
// Compares the rule groups of a rendered PrometheusRule with a Prometheus rules file, and
// validates the PrometheusRule against the Prometheus Operator's schema
// (@kubernetes-models/prometheus-operator). Strings are compared with their whitespace
// collapsed: YAML folding differs between the two files, the text must not.
//   node compare_rules.js RENDERED.yaml RULES.yml   (exit 0 equal and valid, 1 not, 77 modules missing)
//   node compare_rules.js --extract RENDERED.yaml OUT.yml   (writes spec.groups as a rules file)
"use strict";
const fs = require("fs");
let yaml, PrometheusRule;
try {
  yaml = require("js-yaml");
  ({ PrometheusRule } = require("@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule"));
} catch (e) {
  console.error("compare_rules: js-yaml or @kubernetes-models/prometheus-operator missing: " + e.message);
  process.exit(77);
}

function ruleDoc(file) {
  const docs = yaml.loadAll(fs.readFileSync(file, "utf8")).filter((d) => d && d.kind === "PrometheusRule");
  if (docs.length !== 1) {
    console.error(`FAIL: ${file} renders ${docs.length} PrometheusRule(s), expected 1`);
    process.exit(1);
  }
  return docs[0];
}

function normalise(v) {
  if (typeof v === "string") return v.replace(/\s+/g, " ").trim();
  if (Array.isArray(v)) return v.map(normalise);
  if (v && typeof v === "object") {
    const out = {};
    for (const k of Object.keys(v).sort()) out[k] = normalise(v[k]);
    return out;
  }
  return v;
}

if (process.argv[2] === "--extract") {
  const doc = ruleDoc(process.argv[3]);
  fs.writeFileSync(process.argv[4], yaml.dump({ groups: doc.spec.groups }, { lineWidth: -1 }));
  process.exit(0);
}

const [rendered, rulesFile] = process.argv.slice(2);
const doc = ruleDoc(rendered);
let fail = false;
try {
  new PrometheusRule(doc).validate();
  console.log(`ok   PrometheusRule/${doc.metadata.name} validates against the Prometheus Operator schema`);
} catch (e) {
  console.log(`FAIL PrometheusRule/${doc.metadata.name}: ${e.message}`);
  fail = true;
}
const want = normalise(yaml.load(fs.readFileSync(rulesFile, "utf8")).groups);
const got = normalise(doc.spec.groups);
if (JSON.stringify(want) === JSON.stringify(got)) {
  console.log(`ok   its rule groups equal ${rulesFile}`);
} else {
  fail = true;
  const w = want.flatMap((g) => g.rules), gr = got.flatMap((g) => g.rules);
  for (let i = 0; i < Math.max(w.length, gr.length); i++) {
    if (JSON.stringify(w[i]) !== JSON.stringify(gr[i])) {
      console.log(`FAIL rule ${i} (${(w[i] || gr[i] || {}).alert}) differs:\n  file:     ${JSON.stringify(w[i])}\n  rendered: ${JSON.stringify(gr[i])}`);
    }
  }
}
process.exit(fail ? 1 : 0);
