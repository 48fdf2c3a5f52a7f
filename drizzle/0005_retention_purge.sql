-- Retention purge: the only path by which events ever leave the log.
--
-- The immutability trigger lets a DELETE through only while a row keyed by the current transaction's
-- id exists in auditline_purge_grants. Only the purge functions below (SECURITY DEFINER, owned by the
-- migration owner) write that table; each inserts its row on entry and deletes it before returning,
-- so the row is never visible to another transaction and is gone by the time the caller regains
-- control. A role without rights on that table (auditline_app) cannot make the trigger pass, whatever
-- it sets, and it has no DELETE, UPDATE or TRUNCATE privilege on events to begin with.
CREATE TABLE auditline_purge_grants (
  xid xid8 PRIMARY KEY
);
--> statement-breakpoint
REVOKE ALL ON auditline_purge_grants FROM PUBLIC;
--> statement-breakpoint
CREATE FUNCTION auditline_purge_authorized() RETURNS boolean
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT EXISTS (SELECT 1 FROM auditline_purge_grants WHERE xid = pg_current_xact_id())
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION auditline_reject_event_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND TG_LEVEL = 'ROW' AND public.auditline_purge_authorized() THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'audit events are immutable: % on % is not allowed', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege',
          HINT = 'Events leave the log only through the retention purge.';
END
$$;
--> statement-breakpoint
-- Partition upkeep can run as the app role: partitions are created as, and owned by, the owner.
ALTER FUNCTION auditline_ensure_partitions(date, integer) SECURITY DEFINER SET search_path = public, pg_temp;
--> statement-breakpoint
REVOKE EXECUTE ON FUNCTION auditline_ensure_partitions(date, integer) FROM PUBLIC;
--> statement-breakpoint
CREATE FUNCTION auditline_check_purge_arguments(p_default_days integer, p_limit integer) RETURNS void
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF p_default_days IS NULL OR p_default_days NOT BETWEEN 1 AND 3650 THEN
    RAISE EXCEPTION 'default retention must be 1 to 3650 days, got %', p_default_days
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF p_limit IS NULL OR p_limit < 1 THEN
    RAISE EXCEPTION 'purge batch limit must be positive, got %', p_limit USING ERRCODE = 'invalid_parameter_value';
  END IF;
END
$$;
--> statement-breakpoint
-- An event is expired when received_at < cutoff: one received exactly retention_days * 24 hours
-- before p_as_of is still kept.
CREATE FUNCTION auditline_retention_cutoff(p_organization uuid, p_as_of timestamptz, p_default_days integer)
RETURNS timestamptz
LANGUAGE sql STABLE AS $$
  SELECT p_as_of - make_interval(hours => 24 * coalesce(
    (SELECT retention_days FROM public.retention_policies WHERE organization_id = p_organization),
    p_default_days))
$$;
--> statement-breakpoint
-- A hold applies to events by occurred_at, in [from_at, to_at). One released after p_as_of still
-- counts: keeping too much is the safe mistake.
CREATE FUNCTION auditline_event_held(p_organization uuid, p_occurred_at timestamptz, p_as_of timestamptz)
RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT EXISTS (
    SELECT 1 FROM public.legal_holds h
    WHERE h.organization_id = p_organization
      AND (h.released_at IS NULL OR h.released_at > p_as_of)
      AND (h.from_at IS NULL OR p_occurred_at >= h.from_at)
      AND (h.to_at IS NULL OR p_occurred_at < h.to_at))
$$;
--> statement-breakpoint
-- Whether any of the organization's events in the partition falls inside one of its active holds;
-- each probe is a seek on the (organization_id, occurred_at) index.
CREATE FUNCTION auditline_partition_held(p_partition regclass, p_organization uuid, p_as_of timestamptz)
RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
DECLARE
  hold record;
  found_one boolean;
BEGIN
  FOR hold IN
    SELECT coalesce(h.from_at, '-infinity') AS from_at, coalesce(h.to_at, 'infinity') AS to_at
    FROM public.legal_holds h
    WHERE h.organization_id = p_organization AND (h.released_at IS NULL OR h.released_at > p_as_of)
  LOOP
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s WHERE organization_id = $1 AND occurred_at >= $2 AND occurred_at < $3)',
                   p_partition)
      INTO found_one USING p_organization, hold.from_at, hold.to_at;
    IF found_one THEN
      RETURN true;
    END IF;
  END LOOP;
  RETURN false;
END
$$;
--> statement-breakpoint
-- The organizations with rows in a partition, by a loose index scan: one seek per organization.
CREATE FUNCTION auditline_partition_organizations(p_partition regclass) RETURNS SETOF uuid
LANGUAGE plpgsql STABLE AS $$
DECLARE
  org uuid;
BEGIN
  EXECUTE format('SELECT organization_id FROM %s ORDER BY organization_id LIMIT 1', p_partition) INTO org;
  WHILE org IS NOT NULL LOOP
    RETURN NEXT org;
    EXECUTE format('SELECT organization_id FROM %s WHERE organization_id > $1 ORDER BY organization_id LIMIT 1',
                   p_partition)
      INTO org USING org;
  END LOOP;
END
$$;
--> statement-breakpoint
-- Day partitions (events_pYYYYMMDD) with the range their name stands for, oldest first.
CREATE FUNCTION auditline_day_partitions()
RETURNS TABLE (partition regclass, starts_at timestamptz, ends_at timestamptz)
LANGUAGE sql STABLE AS $$
  SELECT c.oid::regclass,
         (d::timestamp AT TIME ZONE 'UTC'),
         ((d + 1)::timestamp AT TIME ZONE 'UTC')
  FROM pg_catalog.pg_inherits i
  JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
  CROSS JOIN LATERAL to_date(substr(c.relname, 9), 'YYYYMMDD') AS d
  WHERE i.inhparent = 'public.events'::regclass AND c.relname ~ '^events_p[0-9]{8}$'
  ORDER BY 2
$$;
--> statement-breakpoint
-- Detaches and drops up to p_max_partitions day partitions in which every event is expired for its
-- organization and outside every active hold of that organization. Returns, per dropped (or, for a
-- dry run, droppable) partition, the events it held per organization; an empty partition gives one
-- row with a null organization. A partition whose lock cannot be had within a second is left for
-- the next run, so a long reader never makes ingest queue behind the purge for long.
CREATE FUNCTION auditline_purge_partitions(p_as_of timestamptz, p_default_days integer,
                                           p_max_partitions integer, p_dry_run boolean DEFAULT false)
RETURNS TABLE (partition_name text, organization_id uuid, event_count bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  part record;
  org uuid;
  droppable boolean;
  chosen text[] := '{}';
  chosen_counts jsonb[] := '{}';
  counts jsonb;
  previous_lock_timeout text := current_setting('lock_timeout');
BEGIN
  PERFORM auditline_check_purge_arguments(p_default_days, p_max_partitions);
  -- Policies and holds cannot change between the check and the drop.
  LOCK TABLE legal_holds, retention_policies IN SHARE MODE;
  FOR part IN SELECT * FROM auditline_day_partitions() p WHERE p.ends_at <= p_as_of - interval '24 hours' LOOP
    EXIT WHEN cardinality(chosen) >= p_max_partitions;
    droppable := true;
    FOR org IN SELECT auditline_partition_organizations(part.partition) LOOP
      IF part.ends_at > auditline_retention_cutoff(org, p_as_of, p_default_days)
         OR auditline_partition_held(part.partition, org, p_as_of) THEN
        droppable := false;
        EXIT;
      END IF;
    END LOOP;
    CONTINUE WHEN NOT droppable;
    EXECUTE format('SELECT coalesce(jsonb_object_agg(organization_id::text, n), ''{}'')
                    FROM (SELECT organization_id, count(*) AS n FROM %s GROUP BY organization_id) s',
                   part.partition)
      INTO STRICT counts;
    chosen := chosen || part.partition::text;
    chosen_counts := chosen_counts || counts;
  END LOOP;

  -- Counting is done: from the first DETACH on, the parent's lock is held only for catalog changes.
  FOR i IN 1 .. cardinality(chosen) LOOP
    IF NOT p_dry_run THEN
      BEGIN
        PERFORM set_config('lock_timeout', '1s', true);
        EXECUTE format('ALTER TABLE events DETACH PARTITION %s', chosen[i]);
        EXECUTE format('DROP TABLE %s', chosen[i]);
        PERFORM set_config('lock_timeout', previous_lock_timeout, true);
      EXCEPTION WHEN lock_not_available THEN
        PERFORM set_config('lock_timeout', previous_lock_timeout, true);
        RAISE NOTICE 'partition % is busy; a later purge will drop it', chosen[i];
        CONTINUE;
      END;
    END IF;
    partition_name := chosen[i];
    IF chosen_counts[i] = '{}'::jsonb THEN
      organization_id := NULL;
      event_count := 0;
      RETURN NEXT;
    ELSE
      FOR organization_id, event_count IN
        SELECT e.key::uuid, e.value::text::bigint FROM jsonb_each(chosen_counts[i]) e
      LOOP
        RETURN NEXT;
      END LOOP;
    END IF;
  END LOOP;
END
$$;
--> statement-breakpoint
-- Deletes up to p_batch expired, unheld events (the tail where organizations' windows differ, and
-- whatever sits in events_default), one short transaction per call; the caller repeats while a call
-- returns p_batch rows in total. For a dry run it counts every such event instead (no limit).
CREATE FUNCTION auditline_purge_events(p_as_of timestamptz, p_default_days integer, p_batch integer,
                                       p_dry_run boolean DEFAULT false)
RETURNS TABLE (organization_id uuid, event_count bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  part record;
  org uuid;
  cutoff timestamptz;
  budget integer := p_batch;
  n bigint;
  totals jsonb := '{}';
BEGIN
  PERFORM auditline_check_purge_arguments(p_default_days, p_batch);
  LOCK TABLE legal_holds, retention_policies IN SHARE MODE;
  IF NOT p_dry_run THEN
    INSERT INTO auditline_purge_grants VALUES (pg_current_xact_id()) ON CONFLICT DO NOTHING;
  END IF;
  <<partitions>>
  FOR part IN
    SELECT d.partdefid::regclass AS partition, '-infinity'::timestamptz AS starts_at
    FROM pg_catalog.pg_partitioned_table d
    WHERE d.partrelid = 'public.events'::regclass AND d.partdefid <> 0
    UNION ALL
    (SELECT p.partition, p.starts_at FROM auditline_day_partitions() p
     WHERE p.starts_at < p_as_of - interval '24 hours')
  LOOP
    FOR org IN SELECT auditline_partition_organizations(part.partition) LOOP
      cutoff := auditline_retention_cutoff(org, p_as_of, p_default_days);
      CONTINUE WHEN part.starts_at >= cutoff;
      IF p_dry_run THEN
        EXECUTE format('SELECT count(*) FROM %s e WHERE e.organization_id = $1 AND e.received_at < $2
                          AND NOT auditline_event_held($1, e.occurred_at, $3)', part.partition)
          INTO n USING org, cutoff, p_as_of;
      ELSE
        EXECUTE format('DELETE FROM %1$s WHERE ctid = ANY (ARRAY(
                          SELECT e.ctid FROM %1$s e WHERE e.organization_id = $1 AND e.received_at < $2
                            AND NOT auditline_event_held($1, e.occurred_at, $3) LIMIT $4))', part.partition)
          USING org, cutoff, p_as_of, budget;
        GET DIAGNOSTICS n = ROW_COUNT;
        budget := budget - n;
      END IF;
      IF n > 0 THEN
        totals := jsonb_set(totals, ARRAY[org::text], to_jsonb(coalesce((totals ->> org::text)::bigint, 0) + n));
      END IF;
      EXIT partitions WHEN budget <= 0;
    END LOOP;
  END LOOP;
  DELETE FROM auditline_purge_grants WHERE xid = pg_current_xact_id();
  RETURN QUERY SELECT e.key::uuid, e.value::text::bigint FROM jsonb_each(totals) e;
END
$$;
--> statement-breakpoint
-- Idempotency keys outlive nothing: once an event is purged its key goes too (a retry after that
-- stores a new event). Up to p_batch keys per call.
CREATE FUNCTION auditline_purge_idempotency_keys(p_as_of timestamptz, p_default_days integer, p_batch integer)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  n bigint;
BEGIN
  PERFORM auditline_check_purge_arguments(p_default_days, p_batch);
  DELETE FROM idempotency_keys WHERE ctid = ANY (ARRAY(
    SELECT k.ctid FROM idempotency_keys k
    WHERE k.received_at < auditline_retention_cutoff(k.organization_id, p_as_of, p_default_days)
      AND NOT EXISTS (SELECT 1 FROM events e WHERE e.id = k.event_id AND e.received_at = k.received_at)
    LIMIT p_batch));
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END
$$;
--> statement-breakpoint
-- The same purge on the database's own clock: what the app role may call. Only the owner may pass a
-- clock (tests and tools travel in time with it; the app must not be able to purge "next year").
CREATE FUNCTION auditline_purge_partitions_now(p_default_days integer, p_max_partitions integer,
                                               p_dry_run boolean DEFAULT false)
RETURNS TABLE (partition_name text, organization_id uuid, event_count bigint)
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT * FROM auditline_purge_partitions(now(), p_default_days, p_max_partitions, p_dry_run)
$$;
--> statement-breakpoint
CREATE FUNCTION auditline_purge_events_now(p_default_days integer, p_batch integer,
                                           p_dry_run boolean DEFAULT false)
RETURNS TABLE (organization_id uuid, event_count bigint)
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT * FROM auditline_purge_events(now(), p_default_days, p_batch, p_dry_run)
$$;
--> statement-breakpoint
CREATE FUNCTION auditline_purge_idempotency_keys_now(p_default_days integer, p_batch integer)
RETURNS bigint
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT auditline_purge_idempotency_keys(now(), p_default_days, p_batch)
$$;
--> statement-breakpoint
REVOKE EXECUTE ON FUNCTION auditline_purge_partitions(timestamptz, integer, integer, boolean),
  auditline_purge_events(timestamptz, integer, integer, boolean),
  auditline_purge_idempotency_keys(timestamptz, integer, integer),
  auditline_purge_partitions_now(integer, integer, boolean),
  auditline_purge_events_now(integer, integer, boolean),
  auditline_purge_idempotency_keys_now(integer, integer),
  auditline_purge_authorized()
  FROM PUBLIC;
--> statement-breakpoint
-- A legal hold is evidence too: never deleted, and released at most once.
CREATE FUNCTION auditline_guard_legal_hold() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND OLD.released_at IS NULL AND NEW.released_at IS NOT NULL
     AND (NEW.id, NEW.organization_id, NEW.reason, NEW.from_at, NEW.to_at, NEW.placed_at, NEW.placed_by)
         IS NOT DISTINCT FROM (OLD.id, OLD.organization_id, OLD.reason, OLD.from_at, OLD.to_at, OLD.placed_at, OLD.placed_by) THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'legal holds can only be released, once: % on legal_holds is not allowed', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END
$$;
--> statement-breakpoint
CREATE TRIGGER legal_holds_release_only BEFORE UPDATE OR DELETE ON legal_holds
  FOR EACH ROW EXECUTE FUNCTION auditline_guard_legal_hold();
--> statement-breakpoint
CREATE TRIGGER legal_holds_no_truncate BEFORE TRUNCATE ON legal_holds
  FOR EACH STATEMENT EXECUTE FUNCTION auditline_guard_legal_hold();
--> statement-breakpoint
ALTER TABLE legal_holds ENABLE ALWAYS TRIGGER legal_holds_release_only;
--> statement-breakpoint
ALTER TABLE legal_holds ENABLE ALWAYS TRIGGER legal_holds_no_truncate;
--> statement-breakpoint
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'auditline_app') THEN
    GRANT SELECT, INSERT, UPDATE ON retention_policies, legal_holds, purge_runs TO auditline_app;
    GRANT EXECUTE ON FUNCTION auditline_ensure_partitions(date, integer),
      auditline_purge_partitions_now(integer, integer, boolean),
      auditline_purge_events_now(integer, integer, boolean),
      auditline_purge_idempotency_keys_now(integer, integer)
      TO auditline_app;
  END IF;
END
$$;
