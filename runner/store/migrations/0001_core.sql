-- The runner's own tables: tenants, their step records, runs and the audit trail.
CREATE SCHEMA IF NOT EXISTS matih;

-- The legal status transitions. The code's table (engine/state_machine.cc) must agree; a test
-- compares the two. A trigger on matih.tenants refuses any other change of status.
CREATE TABLE matih.tenant_transitions (
  from_status text NOT NULL,
  to_status   text NOT NULL,
  PRIMARY KEY (from_status, to_status)
);
INSERT INTO matih.tenant_transitions (from_status, to_status) VALUES
  ('PENDING', 'PROVISIONING'),
  ('PROVISIONING', 'ACTIVE'), ('PROVISIONING', 'FAILED'), ('PROVISIONING', 'ROLLING_BACK'),
  ('FAILED', 'PROVISIONING'), ('FAILED', 'ROLLING_BACK'), ('FAILED', 'PENDING_DELETION'),
  ('ROLLING_BACK', 'ROLLED_BACK'), ('ROLLING_BACK', 'FAILED'),
  ('ROLLED_BACK', 'PROVISIONING'), ('ROLLED_BACK', 'PENDING_DELETION'),
  ('ACTIVE', 'ACTIVE'), ('ACTIVE', 'UPGRADING'), ('ACTIVE', 'SUSPENDED'), ('ACTIVE', 'PENDING_DELETION'),
  ('UPGRADING', 'ACTIVE'), ('UPGRADING', 'FAILED'),
  ('SUSPENDED', 'ACTIVE'), ('SUSPENDED', 'PENDING_DELETION'),
  ('PENDING_DELETION', 'DEPROVISIONING'), ('PENDING_DELETION', 'ACTIVE'),
  ('DEPROVISIONING', 'DELETED'), ('DEPROVISIONING', 'FAILED');

CREATE TABLE matih.tenants (
  id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  slug                text NOT NULL UNIQUE,
  tier                text NOT NULL CHECK (tier IN ('free', 'starter', 'professional', 'enterprise')),
  region              text NOT NULL,
  admin_email         text NOT NULL,
  status              text NOT NULL DEFAULT 'PENDING' CHECK (status IN (
                        'PENDING', 'PROVISIONING', 'ACTIVE', 'UPGRADING', 'SUSPENDED',
                        'PENDING_DELETION', 'FAILED', 'DELETED', 'ROLLING_BACK', 'ROLLED_BACK',
                        'DEPROVISIONING')),
  spec                jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(spec) = 'object'),
  generation          bigint NOT NULL DEFAULT 1,
  observed_generation bigint NOT NULL DEFAULT 0,
  attempts            integer NOT NULL DEFAULT 0,
  next_attempt_at     timestamptz NOT NULL DEFAULT now(),
  last_error          text,
  lease_owner         text,
  lease_epoch         bigint NOT NULL DEFAULT 0,
  lease_expires_at    timestamptz,
  last_reconciled_at  timestamptz,
  deletion_due_at     timestamptz,
  resume_from_step    integer,
  audit_seq           bigint NOT NULL DEFAULT 0,
  audit_head          text NOT NULL DEFAULT '',
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tenants_due ON matih.tenants (status, next_attempt_at);

CREATE FUNCTION matih.check_tenant_transition() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.status IS DISTINCT FROM OLD.status AND NOT EXISTS (
       SELECT 1 FROM matih.tenant_transitions
        WHERE from_status = OLD.status AND to_status = NEW.status) THEN
    RAISE EXCEPTION 'illegal tenant transition % -> %', OLD.status, NEW.status
      USING ERRCODE = 'check_violation';
  END IF;
  NEW.updated_at := now();
  RETURN NEW;
END $$;
CREATE TRIGGER tenants_transition BEFORE UPDATE ON matih.tenants
  FOR EACH ROW EXECUTE FUNCTION matih.check_tenant_transition();

-- One row per tenant per catalog step.
CREATE TABLE matih.tenant_steps (
  tenant_id   uuid NOT NULL REFERENCES matih.tenants (id),
  step_number integer NOT NULL,
  step_name   text NOT NULL,
  phase       integer NOT NULL,
  status      text NOT NULL DEFAULT 'PENDING' CHECK (status IN (
                'PENDING', 'RUNNING', 'DONE', 'FAILED', 'SKIPPED', 'REMOVING', 'REMOVED')),
  attempts    integer NOT NULL DEFAULT 0,
  outputs     jsonb NOT NULL DEFAULT '{}'::jsonb,
  last_error  text,
  diff        text,
  started_at  timestamptz,
  finished_at timestamptz,
  observed_at timestamptz,
  PRIMARY KEY (tenant_id, step_number)
);

CREATE TABLE matih.runs (
  id              uuid PRIMARY KEY,
  runner          text NOT NULL,
  mode            text NOT NULL,
  started_at      timestamptz NOT NULL DEFAULT now(),
  finished_at     timestamptz,
  tenants_claimed integer NOT NULL DEFAULT 0,
  tenants_ok      integer NOT NULL DEFAULT 0,
  tenants_failed  integer NOT NULL DEFAULT 0,
  exit_code       integer
);

-- Append-only, hash-chained per tenant: hash = sha256(prev_hash || canonical event).
CREATE TABLE matih.audit_events (
  id             bigserial PRIMARY KEY,
  tenant_id      uuid NOT NULL REFERENCES matih.tenants (id),
  seq            bigint NOT NULL,
  created_at     timestamptz NOT NULL,
  run_id         text NOT NULL DEFAULT '',
  runner         text NOT NULL DEFAULT '',
  event          text NOT NULL,
  step_number    integer,
  step_name      text NOT NULL DEFAULT '',
  plugin         text NOT NULL DEFAULT '',
  plugin_version text NOT NULL DEFAULT '',
  details        jsonb NOT NULL DEFAULT '{}'::jsonb,
  prev_hash      text NOT NULL,
  hash           text NOT NULL,
  UNIQUE (tenant_id, seq)
);

CREATE FUNCTION matih.refuse_audit_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'matih.audit_events is append-only (% refused)', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON matih.audit_events
  FOR EACH ROW EXECUTE FUNCTION matih.refuse_audit_change();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON matih.audit_events
  FOR EACH STATEMENT EXECUTE FUNCTION matih.refuse_audit_change();
