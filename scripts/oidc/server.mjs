// scripts/oidc/server.mjs - the local OpenID Connect provider of the stack (npm oidc-provider@8.8.1).
//
// Started by scripts/stack.d/oidc.sh. What it enables, and why:
//   - Dynamic Client Registration (RFC 7591), protected by an initial access token read from a
//     file (the stack generates it; the runner gets it as the secret setting
//     identity.initial_access_token), and its management (RFC 7592: GET/PUT/DELETE of a client
//     with its registration access token, rotated on every PUT);
//   - the client_credentials grant (managed identities, the service principal);
//   - resource indicators (RFC 8707): a client may obtain a token for resource URI R only when R
//     is listed in its client metadata `matih_access` (step 20 records the grants there), so a
//     token request for another tenant's resource is refused with invalid_target;
//   - introspection, so a holder can check its token;
//   - registration by a unique name (the idea Entra ID's app registrations give through their
//     unique names): a registration carrying client metadata `matih_registration_key` while a
//     live client registered under that key exists gets that client's client_id back (the record
//     is replaced, a new secret and registration access token issued, the client's older
//     registration access tokens revoked). A registration whose answer was lost, or a client
//     whose rotated registration access token was lost, is so adopted, not made twice. RFC 7591
//     leaves the choice of client_id to the server; without the key, ids are random.
// Every model (clients, registration access tokens, tokens) is persisted by FileAdapter below as
// one JSON file per record under the data folder, written atomically (temp file + rename), so
// registrations survive a restart. A service principal (static client) may be seeded from a file.
//
// Usage: MATIH_NODE_MODULES=var/node/node_modules node server.mjs --port P --data DIR --initial-access-token-file F
//                       [--service-principal-file F] [--keys-file F]
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

// node_modules live in var/node (scripts/install-deps --node), outside this script's parents.
const nodeModules = process.env.MATIH_NODE_MODULES;
const { default: Provider, errors } = await import(
  nodeModules ? path.join(nodeModules, 'oidc-provider', 'lib', 'index.js') : 'oidc-provider');

function argument(name, required = true) {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0 || i + 1 >= process.argv.length) {
    if (required) {
      console.error(`oidc: missing --${name}`);
      process.exit(2);
    }
    return undefined;
  }
  return process.argv[i + 1];
}

const port = Number(argument('port'));
const dataDir = argument('data');
const initialAccessToken = fs.readFileSync(argument('initial-access-token-file'), 'utf8').trim();
const servicePrincipalFile = argument('service-principal-file', false);
const keysFile = argument('keys-file', false);
if (!initialAccessToken) {
  console.error('oidc: the initial access token file is empty');
  process.exit(2);
}

// Writes `text` to `file` atomically: a reader sees the old content or the new, never a part.
function writeAtomically(file, text) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.${crypto.randomBytes(6).toString('hex')}.tmp`;
  const fd = fs.openSync(temp, 'w', 0o600);
  try {
    fs.writeSync(fd, text);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(temp, file);
}

function readJson(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  }
}

// One file per record: DIR/<Model>/<sha256(id)>.json holding { id, payload, expiresAt }. Lookups
// by session uid, user code and grant id go through small index files beside the records.
class FileAdapter {
  constructor(model) {
    this.model = model;
    this.dir = path.join(dataDir, model);
  }

  file(kind, key) {
    const digest = crypto.createHash('sha256').update(String(key)).digest('hex');
    return path.join(this.dir, `${kind}-${digest}.json`);
  }

  async upsert(id, payload, expiresIn) {
    const expiresAt = expiresIn ? Date.now() + expiresIn * 1000 : undefined;
    writeAtomically(this.file('record', id), JSON.stringify({ id, payload, expiresAt }));
    if (payload.uid) writeAtomically(this.file('uid', payload.uid), JSON.stringify({ id, expiresAt }));
    if (payload.userCode) writeAtomically(this.file('usercode', payload.userCode), JSON.stringify({ id, expiresAt }));
    // Registration access tokens by client, so a registration under the client's key can revoke them.
    if (this.model === 'RegistrationAccessToken' && payload.clientId) {
      const index = this.file('client', payload.clientId);
      const ids = readJson(index)?.ids ?? [];
      if (!ids.includes(id)) ids.push(id);
      writeAtomically(index, JSON.stringify({ ids }));
    }
    if (payload.grantId) {
      const index = this.file('grant', payload.grantId);
      const ids = readJson(index)?.ids ?? [];
      if (!ids.includes(id)) ids.push(id);
      writeAtomically(index, JSON.stringify({ ids }));
    }
  }

  async find(id) {
    const record = readJson(this.file('record', id));
    if (!record) return undefined;
    if (record.expiresAt && record.expiresAt < Date.now()) {
      await this.destroy(id);
      return undefined;
    }
    return record.payload;
  }

  async findByUid(uid) {
    const index = readJson(this.file('uid', uid));
    return index ? this.find(index.id) : undefined;
  }

  async findByUserCode(userCode) {
    const index = readJson(this.file('usercode', userCode));
    return index ? this.find(index.id) : undefined;
  }

  async consume(id) {
    const record = readJson(this.file('record', id));
    if (!record) return;
    record.payload.consumed = Math.floor(Date.now() / 1000);
    writeAtomically(this.file('record', id), JSON.stringify(record));
  }

  async destroy(id) {
    // A deleted client's unique name no longer leads to it (see registrationClientId).
    const key = this.model === 'Client' ? readJson(this.file('record', id))?.payload?.matih_registration_key : undefined;
    if (key !== undefined && readJson(this.file('key', key))?.id === id) fs.rmSync(this.file('key', key), { force: true });
    fs.rmSync(this.file('record', id), { force: true });
  }

  async revokeByGrantId(grantId) {
    const index = this.file('grant', grantId);
    for (const id of readJson(index)?.ids ?? []) await this.destroy(id);
    fs.rmSync(index, { force: true });
  }
}

// The record and index files of FileAdapter, for the synchronous idFactory below.
function adapterFile(model, kind, key) {
  const digest = crypto.createHash('sha256').update(String(key)).digest('hex');
  return path.join(dataDir, model, `${kind}-${digest}.json`);
}

function validRegistrationKey(value) {
  return typeof value === 'string' && value.length > 0 && value.length <= 200;
}

// client_id of a registration: the live client registered under the same matih_registration_key
// (its registration access tokens revoked: the new registration issues the only valid one), or a
// new random id, recorded under the key. Every file is written before the answer is sent.
function registrationClientId(ctx) {
  const key = ctx.oidc.body?.matih_registration_key;
  const fresh = crypto.randomBytes(18).toString('base64url');
  if (!validRegistrationKey(key)) return fresh;
  const index = adapterFile('Client', 'key', key);
  const known = readJson(index)?.id;
  if (known && readJson(adapterFile('Client', 'record', known))) {
    const tokens = adapterFile('RegistrationAccessToken', 'client', known);
    for (const id of readJson(tokens)?.ids ?? []) {
      fs.rmSync(adapterFile('RegistrationAccessToken', 'record', id), { force: true });
    }
    fs.rmSync(tokens, { force: true });
    return known;
  }
  writeAtomically(index, JSON.stringify({ id: fresh }));
  return fresh;
}

// Expired records (tokens, sessions) would otherwise stay until someone looks them up: sweep them.
function sweepExpired() {
  const now = Date.now();
  for (const model of fs.readdirSync(dataDir, { withFileTypes: true })) {
    if (!model.isDirectory()) continue;
    const dir = path.join(dataDir, model.name);
    for (const name of fs.readdirSync(dir)) {
      if (!name.endsWith('.json')) continue;
      const file = path.join(dir, name);
      try {
        const { expiresAt } = JSON.parse(fs.readFileSync(file, 'utf8'));
        if (expiresAt && expiresAt < now) fs.rmSync(file, { force: true });
      } catch (err) {
        if (err.code !== 'ENOENT') console.error(`oidc: cannot sweep ${file}: ${err.message}`);
      }
    }
  }
}

// Signing keys survive restarts too (tokens issued before a restart stay verifiable).
function signingKeys() {
  if (!keysFile) return undefined;
  const existing = readJson(keysFile);
  if (existing) return existing;
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid: crypto.randomBytes(8).toString('hex'), use: 'sig', alg: 'RS256' };
  const keys = { keys: [jwk] };
  writeAtomically(keysFile, JSON.stringify(keys));
  return keys;
}

function staticClients() {
  if (!servicePrincipalFile) return [];
  const sp = readJson(servicePrincipalFile);
  if (!sp?.client_id || !sp?.client_secret) {
    console.error(`oidc: ${servicePrincipalFile} must hold client_id and client_secret`);
    process.exit(2);
  }
  return [{
    client_id: sp.client_id,
    client_secret: sp.client_secret,
    client_name: 'matih service principal (dedicated infrastructure)',
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'client_secret_basic',
  }];
}

function accessList(client) {
  const list = client.metadata().matih_access;
  return Array.isArray(list) ? list : [];
}

const cookieKey = readJson(path.join(dataDir, 'cookie-key.json'))?.key ?? (() => {
  const key = crypto.randomBytes(32).toString('hex');
  writeAtomically(path.join(dataDir, 'cookie-key.json'), JSON.stringify({ key }));
  return key;
})();

const configuration = {
  adapter: FileAdapter,
  clients: staticClients(),
  jwks: signingKeys(),
  cookies: { keys: [cookieKey] },
  extraClientMetadata: {
    properties: ['matih_tenant', 'matih_access', 'matih_registration_key'],
    validator(ctx, key, value) {
      if (value === undefined) return;
      if (key === 'matih_registration_key' && !validRegistrationKey(value)) {
        throw new errors.InvalidClientMetadata('matih_registration_key must be a string of 1 to 200 characters');
      }
      if (key === 'matih_tenant' && typeof value !== 'string') {
        throw new errors.InvalidClientMetadata('matih_tenant must be a string');
      }
      if (key === 'matih_access') {
        if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || !URL.canParse(v))) {
          throw new errors.InvalidClientMetadata('matih_access must be a list of absolute resource URIs');
        }
      }
    },
  },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    registration: {
      enabled: true,
      initialAccessToken,
      issueRegistrationAccessToken: true,
      idFactory: registrationClientId,
    },
    registrationManagement: { enabled: true, rotateRegistrationAccessToken: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: async () => undefined,
      useGrantedResource: async () => false,
      async getResourceServerInfo(ctx, resourceIndicator, client) {
        if (!accessList(client).includes(resourceIndicator)) {
          throw new errors.InvalidTarget(`client is not granted access to ${resourceIndicator}`);
        }
        return { scope: 'read write', audience: resourceIndicator, accessTokenFormat: 'opaque', accessTokenTTL: 600 };
      },
    },
  },
  ttl: { ClientCredentials: 600, AccessToken: 600 },
};

fs.mkdirSync(dataDir, { recursive: true });
const provider = new Provider(`http://127.0.0.1:${port}`, configuration);
provider.on('server_error', (ctx, err) => console.error('oidc: server error', err));
setInterval(sweepExpired, 60_000).unref();
const server = provider.listen(port, '127.0.0.1', () => {
  console.log(`oidc: listening on http://127.0.0.1:${port} (data in ${dataDir})`);
});
// Every record is written synchronously (temp file + rename) before its request is answered, so
// stopping at once loses nothing; waiting for idle keep-alive connections would only be slower.
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    server.closeAllConnections();
    process.exit(0);
  });
}
