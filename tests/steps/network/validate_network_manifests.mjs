// validate_network_manifests.mjs RENDERED_DIR NODE_MODULES - see validate_network_manifests.sh.
// Prints one line per object; exits 1 when an object is invalid or of an unexpected kind, when a
// kind the steps must deliver is missing, or when the folder holds nothing.
import fs from 'fs';
import path from 'path';
import { createRequire } from 'module';

const [dir, nodeModules] = process.argv.slice(2).map((p) => path.resolve(p));
const require = createRequire(path.join(nodeModules, 'index.js'));
const yaml = require('js-yaml');
// A class from a package's module, whether the module is ESM or CommonJS (then under `default`).
const load = async (p, name) => {
  const m = await import(path.join(nodeModules, p));
  return m[name] || (m.default && m.default[name]);
};
const HelmRelease = await load('@kubernetes-models/flux-cd/helm.toolkit.fluxcd.io/v2/index.js', 'HelmRelease');
const HelmRepository = await load('@kubernetes-models/flux-cd/source.toolkit.fluxcd.io/v1/index.js', 'HelmRepository');
const Certificate = await load('@kubernetes-models/cert-manager/cert-manager.io/v1/index.js', 'Certificate');
const Ingress = await load('kubernetes-models/networking.k8s.io/v1/index.js', 'Ingress');
const models = {
  'helm.toolkit.fluxcd.io/v2 HelmRelease': HelmRelease,
  'source.toolkit.fluxcd.io/v1 HelmRepository': HelmRepository,
  'cert-manager.io/v1 Certificate': Certificate,
  'networking.k8s.io/v1 Ingress': Ingress,
};

let failed = 0;
const seen = new Set();
for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort()) {
  for (const doc of yaml.loadAll(fs.readFileSync(path.join(dir, file), 'utf8')).filter((d) => d)) {
    const key = `${doc.apiVersion} ${doc.kind}`;
    const where = `${file}: ${doc.kind} ${doc.metadata && doc.metadata.name}`;
    const model = models[key];
    if (!model) { console.log(`FAIL ${where}: no model for ${key}`); failed++; continue; }
    try {
      new model(doc).validate();
      seen.add(key);
      console.log(`ok   ${where}`);
    } catch (e) {
      console.log(`FAIL ${where}: ${e.message}`);
      failed++;
    }
  }
}
for (const key of Object.keys(models)) {
  if (!seen.has(key)) { console.log(`FAIL no valid ${key} in ${dir}`); failed++; }
}
console.log(`${seen.size} kinds checked, ${failed} failure(s)`);
process.exit(failed ? 1 : 0);
