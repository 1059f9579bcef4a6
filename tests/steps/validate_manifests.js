// validate_manifests.js DIR - validates every Kubernetes object in DIR/*.yaml against the
// OpenAPI schemas of kubernetes-models@4.5.1, offline. Prints one line per object; exits 1 when
// any object is invalid or of an unknown kind, or when DIR holds no object.
'use strict';
const fs = require('fs');
const path = require('path');
const yaml = require('js-yaml');

const modules = {
  v1: require('kubernetes-models/v1'),
  'networking.k8s.io/v1': require('kubernetes-models/networking.k8s.io/v1'),
  'rbac.authorization.k8s.io/v1': require('kubernetes-models/rbac.authorization.k8s.io/v1'),
};

const dir = process.argv[2];
let checked = 0;
let failed = 0;
for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort()) {
  const docs = yaml.loadAll(fs.readFileSync(path.join(dir, file), 'utf8')).filter((d) => d);
  for (const doc of docs) {
    const where = `${file}: ${doc.kind} ${doc.metadata && doc.metadata.name}`;
    const model = modules[doc.apiVersion] && modules[doc.apiVersion][doc.kind];
    checked++;
    if (!model) {
      console.log(`FAIL ${where}: no model for ${doc.apiVersion} ${doc.kind}`);
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
