// validate_monitoring_objects.js FILE... - validates the ServiceMonitor and PrometheusRule objects
// in the given YAML files against the Prometheus Operator's schemas, offline (npm
// @kubernetes-models/prometheus-operator@4.4.4 on kubernetes-models' validator). Prints one line
// per object; exits 1 when any object is invalid or of another kind, or when there is none.
'use strict';
const fs = require('fs');
const yaml = require('js-yaml');
const models = require('@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1');

let checked = 0;
let failed = 0;
for (const file of process.argv.slice(2)) {
  for (const doc of yaml.loadAll(fs.readFileSync(file, 'utf8')).filter((d) => d)) {
    const where = `${file}: ${doc.kind} ${doc.metadata && doc.metadata.namespace}/${doc.metadata && doc.metadata.name}`;
    checked++;
    const model = doc.apiVersion === 'monitoring.coreos.com/v1' && models[doc.kind];
    if (!model) {
      console.log(`FAIL ${where}: not a monitoring.coreos.com/v1 kind`);
      failed++;
      continue;
    }
    try {
      new model(doc).validate();
      console.log(`ok   ${where}`);
    } catch (e) {
      console.log(`FAIL ${where}: ${e.message}`);
      failed++;
    }
  }
}
console.log(`${checked} objects checked, ${failed} invalid`);
process.exit(checked === 0 || failed > 0 ? 1 : 0);
