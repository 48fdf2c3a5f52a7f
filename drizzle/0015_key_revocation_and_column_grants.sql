-- A revoked (or deleted) API key is announced to every server process, which forgets it and closes
-- its connections at once instead of when a cache entry runs out. Revocation is rare, so one NOTIFY
-- per revoked row costs nothing.
CREATE FUNCTION auditline_notify_key_revoked() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('auditline_key_revoked', OLD.id::text);
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER api_keys_notify_revoked
  AFTER UPDATE OF revoked_at ON api_keys
  FOR EACH ROW WHEN (OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL)
  EXECUTE FUNCTION auditline_notify_key_revoked();
--> statement-breakpoint
CREATE TRIGGER api_keys_notify_deleted
  AFTER DELETE ON api_keys
  FOR EACH ROW EXECUTE FUNCTION auditline_notify_key_revoked();
--> statement-breakpoint
-- The service role may change only the columns the server itself changes: a compromised server
-- cannot widen a key's scopes, move it to another organization, swap its secret hash, or rewrite
-- who placed a legal hold or when a purge ran. Revoking the table-wide UPDATE also removes any
-- column grant, so each table's columns are granted afresh. See 0001 for the role itself.
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'auditline_app') THEN
    REVOKE UPDATE ON api_keys, export_destinations, retention_policies, legal_holds, purge_runs,
      merkle_logs, integrity_sealer FROM auditline_app;
    GRANT UPDATE (last_used_at, revoked_at) ON api_keys TO auditline_app;
    GRANT UPDATE (name, url, format, actions, query, options, sealed_secret, status, cursor_xid,
      cursor_id, resend_through_xid, resend_through_id, lease_owner, lease_expires_at, attempts,
      next_attempt_at, last_success_at, last_error, last_error_at, delivered_count, duplicates_count,
      updated_at) ON export_destinations TO auditline_app;
    GRANT UPDATE (retention_days, updated_at) ON retention_policies TO auditline_app;
    GRANT UPDATE (released_at, released_by) ON legal_holds TO auditline_app;
    GRANT UPDATE (finished_at, deleted_counts, dropped_partitions) ON purge_runs TO auditline_app;
    GRANT UPDATE (tree_size, compact_range, sealed_through, updated_at) ON merkle_logs TO auditline_app;
    GRANT UPDATE (xid, event_id, updated_at) ON integrity_sealer TO auditline_app;
  END IF;
EXCEPTION WHEN insufficient_privilege THEN
  RAISE NOTICE 'narrow auditline_app''s UPDATE on api_keys to (last_used_at, revoked_at) yourself (see migration 0015)';
END
$$;
