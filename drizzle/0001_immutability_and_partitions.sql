-- Events are append-only. These triggers fire for every role, superusers included, and are
-- ENABLE ALWAYS so that session_replication_role = replica does not switch them off either.
CREATE FUNCTION auditline_reject_event_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit events are immutable: % on % is not allowed', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege',
          HINT = 'Events leave the log only through the retention purge.';
END
$$;
--> statement-breakpoint
CREATE TRIGGER events_immutable BEFORE UPDATE OR DELETE ON events
  FOR EACH ROW EXECUTE FUNCTION auditline_reject_event_change();
--> statement-breakpoint
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
  FOR EACH STATEMENT EXECUTE FUNCTION auditline_reject_event_change();
--> statement-breakpoint
ALTER TABLE events ENABLE ALWAYS TRIGGER events_immutable;
--> statement-breakpoint
ALTER TABLE events ENABLE ALWAYS TRIGGER events_no_truncate;
--> statement-breakpoint
-- Statement-level TRUNCATE triggers are not inherited, and the inherited row trigger's firing mode
-- is not guaranteed to follow the parent's, so every partition gets both set explicitly.
CREATE FUNCTION auditline_protect_partition(p_partition regclass) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON %s
                  FOR EACH STATEMENT EXECUTE FUNCTION auditline_reject_event_change()', p_partition);
  EXECUTE format('ALTER TABLE %s ENABLE ALWAYS TRIGGER events_no_truncate', p_partition);
  EXECUTE format('ALTER TABLE %s ENABLE ALWAYS TRIGGER events_immutable', p_partition);
END
$$;
--> statement-breakpoint
-- One partition per UTC day of received_at, named events_pYYYYMMDD. Idempotent; returns how many
-- partitions it created.
CREATE FUNCTION auditline_ensure_partitions(p_from date, p_days integer) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  day date;
  partition_name text;
  created integer := 0;
BEGIN
  FOR i IN 0 .. p_days - 1 LOOP
    day := p_from + i;
    partition_name := 'events_p' || to_char(day, 'YYYYMMDD');
    IF to_regclass(partition_name) IS NULL THEN
      EXECUTE format('CREATE TABLE %I PARTITION OF events FOR VALUES FROM (%L) TO (%L)',
                     partition_name,
                     (day::timestamp AT TIME ZONE 'UTC'),
                     ((day + 1)::timestamp AT TIME ZONE 'UTC'));
      PERFORM auditline_protect_partition(partition_name::regclass);
      created := created + 1;
    END IF;
  END LOOP;
  RETURN created;
END
$$;
--> statement-breakpoint
-- Safety net: an event whose day has no partition yet is still stored, never refused.
CREATE TABLE events_default PARTITION OF events DEFAULT;
--> statement-breakpoint
SELECT auditline_protect_partition('events_default'::regclass);
--> statement-breakpoint
SELECT auditline_ensure_partitions((now() AT TIME ZONE 'UTC')::date - 1, 9);
--> statement-breakpoint
-- The role the service is meant to run as in production: it may add and read events, never change
-- or remove them. Creating a role needs CREATEROLE; without it, the grants are left to the operator.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'auditline_app') THEN
    CREATE ROLE auditline_app NOLOGIN;
  END IF;
  GRANT USAGE ON SCHEMA public TO auditline_app;
  GRANT SELECT, INSERT ON events, idempotency_keys TO auditline_app;
  GRANT SELECT, INSERT ON organizations TO auditline_app;
  GRANT SELECT, INSERT, UPDATE ON api_keys TO auditline_app;
EXCEPTION WHEN insufficient_privilege THEN
  RAISE NOTICE 'auditline_app role not created (no CREATEROLE privilege); grant it INSERT and SELECT on events yourself';
END
$$;
