-- The Merkle log is append-only like the events it seals: leaves, stored subtree roots and signed
-- checkpoints are never changed or removed, retention included (purged events keep their leaves).
-- ENABLE ALWAYS, so session_replication_role = replica does not switch the triggers off either.
CREATE FUNCTION auditline_reject_log_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the integrity log is append-only: % on % is not allowed', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END
$$;
--> statement-breakpoint
CREATE TRIGGER merkle_leaves_append_only BEFORE UPDATE OR DELETE ON merkle_leaves
  FOR EACH ROW EXECUTE FUNCTION auditline_reject_log_change();
--> statement-breakpoint
CREATE TRIGGER merkle_leaves_no_truncate BEFORE TRUNCATE ON merkle_leaves
  FOR EACH STATEMENT EXECUTE FUNCTION auditline_reject_log_change();
--> statement-breakpoint
CREATE TRIGGER merkle_nodes_append_only BEFORE UPDATE OR DELETE ON merkle_nodes
  FOR EACH ROW EXECUTE FUNCTION auditline_reject_log_change();
--> statement-breakpoint
CREATE TRIGGER merkle_nodes_no_truncate BEFORE TRUNCATE ON merkle_nodes
  FOR EACH STATEMENT EXECUTE FUNCTION auditline_reject_log_change();
--> statement-breakpoint
CREATE TRIGGER checkpoints_append_only BEFORE UPDATE OR DELETE ON checkpoints
  FOR EACH ROW EXECUTE FUNCTION auditline_reject_log_change();
--> statement-breakpoint
CREATE TRIGGER checkpoints_no_truncate BEFORE TRUNCATE ON checkpoints
  FOR EACH STATEMENT EXECUTE FUNCTION auditline_reject_log_change();
--> statement-breakpoint
ALTER TABLE merkle_leaves ENABLE ALWAYS TRIGGER merkle_leaves_append_only;
--> statement-breakpoint
ALTER TABLE merkle_leaves ENABLE ALWAYS TRIGGER merkle_leaves_no_truncate;
--> statement-breakpoint
ALTER TABLE merkle_nodes ENABLE ALWAYS TRIGGER merkle_nodes_append_only;
--> statement-breakpoint
ALTER TABLE merkle_nodes ENABLE ALWAYS TRIGGER merkle_nodes_no_truncate;
--> statement-breakpoint
ALTER TABLE checkpoints ENABLE ALWAYS TRIGGER checkpoints_append_only;
--> statement-breakpoint
ALTER TABLE checkpoints ENABLE ALWAYS TRIGGER checkpoints_no_truncate;
--> statement-breakpoint
-- The sealer starts at the beginning of the stream, so events stored before this migration are sealed too.
INSERT INTO integrity_sealer (id, xid, event_id) VALUES (1, '0', '00000000-0000-0000-0000-000000000000')
ON CONFLICT DO NOTHING;
--> statement-breakpoint
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'auditline_app') THEN
    GRANT SELECT, INSERT ON merkle_leaves, merkle_nodes, checkpoints, integrity_signing_key TO auditline_app;
    GRANT SELECT, INSERT, UPDATE ON merkle_logs, integrity_sealer TO auditline_app;
  END IF;
EXCEPTION WHEN insufficient_privilege THEN
  RAISE NOTICE 'grant auditline_app SELECT and INSERT on the integrity tables (and UPDATE on merkle_logs, integrity_sealer) yourself';
END
$$;
