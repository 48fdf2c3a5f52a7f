-- The service role replaces an organization's action mapping rules (delete, then insert) and reads
-- them for every export and delivery batch; see 0001 for the role itself.
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'auditline_app') THEN
    GRANT SELECT, INSERT, DELETE ON action_mapping_rules TO auditline_app;
  END IF;
EXCEPTION WHEN insufficient_privilege THEN
  RAISE NOTICE 'grant SELECT, INSERT, DELETE on action_mapping_rules to auditline_app yourself';
END
$$;
