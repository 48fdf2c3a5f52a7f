-- The service role reads and moves destination cursors; see 0001 for the role itself.
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'auditline_app') THEN
    GRANT SELECT, INSERT, UPDATE, DELETE ON export_destinations TO auditline_app;
  END IF;
EXCEPTION WHEN insufficient_privilege THEN
  RAISE NOTICE 'grant SELECT, INSERT, UPDATE, DELETE on export_destinations to auditline_app yourself';
END
$$;
