-- Lifecycle: attempts counted at claim, runs of dead runners closed, the provisioning deadline
-- kept across runs, the status a deletion can be cancelled back to, and claim indexes.

-- The run whose runner holds the lease (so a takeover can close that run's row), how many
-- claims ended with the runner lost, when the current provisioning was first claimed, and the
-- status a tenant had when `delete` made it PENDING_DELETION.
ALTER TABLE matih.tenants
  ADD COLUMN lease_run              text,
  ADD COLUMN crashes                integer NOT NULL DEFAULT 0,
  ADD COLUMN first_claimed_at       timestamptz,
  ADD COLUMN status_before_deletion text;

-- Why a run's row was closed by someone else than its runner ("the runner was lost ...").
ALTER TABLE matih.runs ADD COLUMN closed_reason text;

-- A deletion cancelled returns the tenant to where it was; a PENDING tenant can be cancelled.
INSERT INTO matih.tenant_transitions (from_status, to_status) VALUES
  ('PENDING_DELETION', 'FAILED'), ('PENDING_DELETION', 'ROLLED_BACK'),
  ('PENDING_DELETION', 'SUSPENDED'), ('PENDING', 'DELETED');

-- One partial index per claim statement (store/claim_query.cc), each read in claim order.
CREATE INDEX tenants_claim_onboarding ON matih.tenants (next_attempt_at, created_at)
  WHERE status IN ('PENDING', 'PROVISIONING', 'UPGRADING', 'ROLLING_BACK', 'DEPROVISIONING',
                   'PENDING_DELETION');
CREATE INDEX tenants_claim_upgrade ON matih.tenants (next_attempt_at, created_at)
  WHERE status = 'ACTIVE' AND generation <> observed_generation;
CREATE INDEX tenants_claim_drift ON matih.tenants ((COALESCE(last_reconciled_at, '-infinity'::timestamptz)))
  WHERE status = 'ACTIVE';
