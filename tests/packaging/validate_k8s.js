#!/usr/bin/env node
// Validates Kubernetes manifests offline against the API schemas of kubernetes-models, and checks
// what this project asks of its CronJob (no overlap policy left implicit, deadlines, non-root,
// read-only root filesystem, database URL from a Secret, config from a ConfigMap).
//
//   node validate_k8s.js FILE.yaml... ('-' reads standard input, e.g. kubectl kustomize output)
//
// Needs kubernetes-models and js-yaml (scripts/install-deps puts them in var/node; NODE_PATH
// points there). Exits 0 when every document passes, 1 otherwise, 77 when the modules are missing.
"use strict";
const fs = require("fs");

let yaml;
try {
  yaml = require("js-yaml");
  require.resolve("kubernetes-models/package.json");
} catch (e) {
  console.error("validate_k8s: kubernetes-models or js-yaml not found (run scripts/install-deps): " + e.message);
  process.exit(77);
}

function modelFor(doc) {
  // apiVersion "batch/v1" -> kubernetes-models/batch/v1/CronJob; "v1" -> kubernetes-models/v1/Secret
  const path = `kubernetes-models/${doc.apiVersion}/${doc.kind}`;
  try {
    const mod = require(path);
    return mod[doc.kind] || mod.default;
  } catch (e) {
    return null;
  }
}

function cronJobPolicy(doc) {
  const problems = [];
  const spec = doc.spec || {};
  const job = (spec.jobTemplate || {}).spec || {};
  const pod = (job.template || {}).spec || {};
  if (!spec.concurrencyPolicy) problems.push("spec.concurrencyPolicy is not set");
  if (job.backoffLimit === undefined) problems.push("jobTemplate.spec.backoffLimit is not set");
  if (!job.activeDeadlineSeconds) problems.push("jobTemplate.spec.activeDeadlineSeconds is not set");
  const psc = pod.securityContext || {};
  if (psc.runAsNonRoot !== true) problems.push("pod securityContext.runAsNonRoot is not true");
  if (psc.runAsUser === 0) problems.push("pod securityContext.runAsUser is 0");
  const volumes = pod.volumes || [];
  if (!volumes.some((v) => v.configMap)) problems.push("no volume comes from a ConfigMap");
  for (const c of pod.containers || []) {
    const sc = c.securityContext || {};
    if (sc.readOnlyRootFilesystem !== true) problems.push(`container ${c.name}: readOnlyRootFilesystem is not true`);
    if (sc.allowPrivilegeEscalation !== false) problems.push(`container ${c.name}: allowPrivilegeEscalation is not false`);
    const db = (c.env || []).find((e) => e.name === "MATIH_DATABASE_URL");
    if (!db || !db.valueFrom || !db.valueFrom.secretKeyRef) {
      problems.push(`container ${c.name}: MATIH_DATABASE_URL does not come from a Secret`);
    }
    if (!(c.volumeMounts || []).some((m) => volumes.some((v) => v.name === m.name && v.secret))) {
      problems.push(`container ${c.name}: no Secret is mounted (the secret key)`);
    }
  }
  return problems;
}

let passed = 0;
let failed = 0;
const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: validate_k8s.js FILE.yaml... ('-' for standard input)");
  process.exit(2);
}
for (const file of files) {
  const text = fs.readFileSync(file === "-" ? 0 : file, "utf8");
  let docs;
  try {
    docs = yaml.loadAll(text).filter((d) => d !== null && d !== undefined);
  } catch (e) {
    console.log(`FAIL ${file}: not YAML: ${e.message}`);
    failed++;
    continue;
  }
  if (docs.length === 0) {
    console.log(`FAIL ${file}: no documents`);
    failed++;
  }
  for (const doc of docs) {
    const what = `${file}: ${doc.kind}/${(doc.metadata || {}).name}`;
    const Model = modelFor(doc);
    if (!Model) {
      console.log(`FAIL ${what}: no schema for apiVersion ${doc.apiVersion} kind ${doc.kind}`);
      failed++;
      continue;
    }
    const problems = [];
    try {
      new Model(doc).validate();
    } catch (e) {
      problems.push(e.message.split("\n").join("\n    "));
    }
    if (doc.kind === "CronJob") problems.push(...cronJobPolicy(doc));
    if (problems.length) {
      console.log(`FAIL ${what}\n  - ${problems.join("\n  - ")}`);
      failed++;
    } else {
      console.log(`ok   ${what}`);
      passed++;
    }
  }
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
