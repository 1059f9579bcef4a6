-- Indexes for `matih-provisioner status` and `history --all` (runner/store/fleet_status.cc,
-- store/audit_log.cc), so both stay fast at 100,000 tenants and millions of audit events.
-- Columns that change on every claim or heartbeat (lease_*, updated_at) are deliberately not
-- indexed: that would cost every update its HOT path; their aggregates scan the table instead.

-- The oldest PENDING tenant: one index probe. created_at never changes.
CREATE INDEX tenants_status_created ON matih.tenants (status, created_at);
-- ACTIVE tenants past their drift interval, never-reconciled first. Changes once per drift pass.
CREATE INDEX tenants_status_reconciled ON matih.tenants (status, last_reconciled_at NULLS FIRST);
-- The last runs.
CREATE INDEX runs_started ON matih.runs (started_at);
-- Steps that failed most in the last day; history --all --event E --since D.
CREATE INDEX audit_events_event_time ON matih.audit_events (event, created_at);
-- history --all --since D.
CREATE INDEX audit_events_time ON matih.audit_events (created_at);
