-- Envelope encryption of the built-in secret store (runner/secrets/envelope.h): each tenant has
-- one random 32-byte data key, kept here wrapped (XChaCha20-Poly1305, tenant id as associated
-- data) by the runner's master key; the tenant's values are sealed with the data key. Rotating the
-- master key (`matih-provisioner secrets rotate-key`) re-wraps these rows only. Deleting a row
-- destroys every value sealed with it (crypto-shredding): the store does so when the tenant's last
-- secret goes.
CREATE TABLE matih.tenant_data_keys (
  tenant_id     text        PRIMARY KEY CHECK (tenant_id <> ''),
  key_id        text        NOT NULL,  -- public fingerprint of the (unwrapped) data key
  master_key_id text        NOT NULL,  -- public fingerprint of the master key that wraps it
  nonce         bytea       NOT NULL CHECK (length(nonce) = 24),
  wrapped_key   bytea       NOT NULL CHECK (length(wrapped_key) = 48),
  created_at    timestamptz NOT NULL DEFAULT now(),
  rewrapped_at  timestamptz
);

-- How a value is sealed: 'master' (rows written before this migration: directly by the master
-- key, key_id = the master key's fingerprint; still readable, re-sealed on their next write and
-- by the rotation command) or 'data-key' (key_id = the tenant data key's fingerprint).
ALTER TABLE matih.tenant_secrets
  ADD COLUMN sealed_by text NOT NULL DEFAULT 'master' CHECK (sealed_by IN ('master', 'data-key'));
