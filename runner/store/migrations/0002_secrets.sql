-- The built-in secret store (runner/secrets/sodium_secret_store.cc): one row per tenant secret,
-- sealed with XChaCha20-Poly1305 under the runner's key; tenant id and name are the associated
-- data, so a ciphertext moved to another row does not open. Plaintext never reaches this table.
-- tenant_id deliberately does not reference matih.tenants: the store works on its own, and
-- secrets outlive a tenant row only until deprovisioning calls DeleteAll.
CREATE SCHEMA IF NOT EXISTS matih;

CREATE TABLE matih.tenant_secrets (
  tenant_id  text        NOT NULL CHECK (tenant_id <> ''),
  name       text        NOT NULL CHECK (name <> '' AND length(name) <= 256),
  key_id     text        NOT NULL,  -- public fingerprint of the key that sealed the value
  nonce      bytea       NOT NULL CHECK (length(nonce) = 24),
  ciphertext bytea       NOT NULL CHECK (length(ciphertext) >= 16),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, name)
);
