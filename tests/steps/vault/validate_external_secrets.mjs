// validate_external_secrets.mjs RENDERED_DIR NODE_MODULES - see validate_external_secrets.sh.
// Prints one line per object; exits 1 when an object is invalid or not an ExternalSecret, when a
// Secret (plaintext) is among them, or when the folder holds none.
import fs from 'fs';
import path from 'path';
import { createRequire } from 'module';

const [dir, nodeModules] = process.argv.slice(2).map((p) => path.resolve(p));
const require = createRequire(path.join(nodeModules, 'index.js'));
const yaml = require('js-yaml');
const m = await import(path.join(nodeModules, '@kubernetes-models/external-secrets/external-secrets.io/v1beta1/index.js'));
const ExternalSecret = m.ExternalSecret || (m.default && m.default.ExternalSecret);

let failed = 0, checked = 0;
for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort()) {
  for (const doc of yaml.loadAll(fs.readFileSync(path.join(dir, file), 'utf8')).filter((d) => d)) {
    const where = `${file}: ${doc.kind} ${doc.metadata && doc.metadata.name}`;
    if (`${doc.apiVersion} ${doc.kind}` !== 'external-secrets.io/v1beta1 ExternalSecret') {
      console.log(`FAIL ${where}: only external-secrets.io/v1beta1 ExternalSecret objects are expected`);
      failed++;
      continue;
    }
    try {
      new ExternalSecret(doc).validate();
      checked++;
      console.log(`ok   ${where}`);
    } catch (e) {
      console.log(`FAIL ${where}: ${e.message}`);
      failed++;
    }
  }
}
if (!checked) { console.log(`FAIL no ExternalSecret in ${dir}`); failed++; }
console.log(`${checked} ExternalSecret(s) valid, ${failed} failure(s)`);
process.exit(failed ? 1 : 0);
