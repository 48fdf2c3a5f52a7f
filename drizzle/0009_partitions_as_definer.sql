-- Lets a server that runs as the least-privileged app role keep partitions ahead without owning the
-- table: the function runs with its owner's rights, and only the app role may call it.
ALTER FUNCTION auditline_ensure_partitions(date, integer) SECURITY DEFINER SET search_path = public, pg_temp;
--> statement-breakpoint
REVOKE EXECUTE ON FUNCTION auditline_ensure_partitions(date, integer) FROM PUBLIC;
--> statement-breakpoint
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'auditline_app') THEN
    GRANT EXECUTE ON FUNCTION auditline_ensure_partitions(date, integer) TO auditline_app;
  END IF;
END
$$;
