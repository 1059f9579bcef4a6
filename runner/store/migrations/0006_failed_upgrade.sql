-- A tenant whose upgrade failed keeps working where it was: `retry` resumes the upgrade, and
-- `upgrade` may take it on or back to its old tier (engine/state_machine.cc has the same table).
INSERT INTO matih.tenant_transitions (from_status, to_status) VALUES ('FAILED', 'UPGRADING');
