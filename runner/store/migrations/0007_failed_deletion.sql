-- `retry` of a tenant whose deletion failed resumes the deletion instead of provisioning (or
-- upgrading) it again: a FAILED tenant remembers the status it failed in, kept by a trigger so
-- that every writer of the status (runs, operator commands) keeps it alike.
ALTER TABLE matih.tenants ADD COLUMN failed_from text;

CREATE FUNCTION matih.remember_failed_from() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.status = 'FAILED' AND OLD.status <> 'FAILED' THEN
    NEW.failed_from := OLD.status;
  ELSIF NEW.status <> 'FAILED' THEN
    NEW.failed_from := NULL;
  END IF;
  RETURN NEW;
END $$;

CREATE TRIGGER tenants_failed_from BEFORE UPDATE OF status ON matih.tenants
  FOR EACH ROW EXECUTE FUNCTION matih.remember_failed_from();

-- Tenants that failed before this migration: their last transition event says where.
UPDATE matih.tenants t SET failed_from = e.details->>'from'
FROM (SELECT DISTINCT ON (tenant_id) tenant_id, details FROM matih.audit_events
      WHERE event = 'transition' AND details->>'to' = 'FAILED' ORDER BY tenant_id, seq DESC) e
WHERE t.id = e.tenant_id AND t.status = 'FAILED';

INSERT INTO matih.tenant_transitions (from_status, to_status) VALUES ('FAILED', 'DEPROVISIONING');
