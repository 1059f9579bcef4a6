// validate_flux_manifests.mjs RENDERED_DIR SCHEMA_DIR NODE_MODULES - see validate_flux_manifests.sh.
// Prints one line per object and per values file; exits 1 when anything is invalid, of an
// unknown kind, validated by another validator than kubernetes-models@4.5.1's, or when the folder
// holds nothing to check.
import fs from 'fs';
import path from 'path';
import { createRequire } from 'module';

const [dir, schemaDir, nodeModules] = process.argv.slice(2).map((p) => path.resolve(p));
const require = createRequire(path.join(nodeModules, 'index.js'));
const yaml = require('js-yaml');
const Ajv2020 = require('ajv/dist/2020').default;
const { HelmRelease } = await import(path.join(nodeModules, '@kubernetes-models/flux-cd/helm.toolkit.fluxcd.io/v2/index.js'));
const { HelmRepository } = await import(path.join(nodeModules, '@kubernetes-models/flux-cd/source.toolkit.fluxcd.io/v1/index.js'));
const models = {
  'helm.toolkit.fluxcd.io/v2 HelmRelease': HelmRelease,
  'source.toolkit.fluxcd.io/v1 HelmRepository': HelmRepository,
};

// The validator flux-cd resolves (node's lookup: its own node_modules, then upwards) must be the
// one kubernetes-models@4.5.1 uses.
function resolvedVersion(packageDir, name) {
  for (let d = packageDir; d !== path.dirname(d); d = path.dirname(d)) {
    const file = path.join(d, 'node_modules', name, 'package.json');
    if (fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, 'utf8')).version;
  }
  return 'none';
}
const validateVersion = resolvedVersion(path.join(nodeModules, '@kubernetes-models/flux-cd'), '@kubernetes-models/validate');
const k8sValidateVersion = resolvedVersion(path.join(nodeModules, 'kubernetes-models'), '@kubernetes-models/validate');
console.log(`flux-cd validates with @kubernetes-models/validate@${validateVersion} (kubernetes-models@4.5.1 uses ${k8sValidateVersion})`);

let checked = 0;
let failed = 0;
const fail = (what) => { console.log(`FAIL ${what}`); failed++; };
if (validateVersion !== k8sValidateVersion) fail('flux-cd does not use the validator of kubernetes-models@4.5.1');

const files = fs.readdirSync(dir).sort();
for (const file of files.filter((f) => f.endsWith('.yaml'))) {
  const docs = yaml.loadAll(fs.readFileSync(path.join(dir, file), 'utf8')).filter((d) => d);
  for (const doc of docs) {
    const where = `${file}: ${doc.kind} ${doc.metadata && doc.metadata.name}`;
    const model = models[`${doc.apiVersion} ${doc.kind}`];
    checked++;
    if (!model) { fail(`${where}: no model for ${doc.apiVersion} ${doc.kind}`); continue; }
    try {
      new model(doc).validate();
      console.log(`ok   ${where}`);
    } catch (e) {
      fail(`${where}: ${e.message}`);
    }
  }
}

const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
const compiled = {};
for (const file of files.filter((f) => f.endsWith('.values.json'))) {
  // "<tier>-<service>.values.json"
  const service = file.replace(/^[a-z]+-/, '').replace(/\.values\.json$/, '');
  const schemaFile = path.join(schemaDir, `${service}.values.schema.json`);
  checked++;
  if (!fs.existsSync(schemaFile)) { fail(`${file}: no schema ${schemaFile}`); continue; }
  compiled[service] = compiled[service] || ajv.compile(JSON.parse(fs.readFileSync(schemaFile, 'utf8')));
  const validate = compiled[service];
  if (validate(JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')))) {
    console.log(`ok   ${file} against ${path.basename(schemaFile)}`);
  } else {
    fail(`${file}: ${ajv.errorsText(validate.errors)}`);
  }
}
console.log(`${checked} objects and values checked, ${failed} invalid`);
process.exit(checked === 0 || failed > 0 ? 1 : 0);
