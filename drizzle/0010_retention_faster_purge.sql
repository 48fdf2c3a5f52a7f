-- Faster purge paths: the hold check is skipped for an organization without active holds and is a
-- plain anti-join otherwise, and the trigger reads the grant table itself.
CREATE OR REPLACE FUNCTION auditline_reject_event_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  -- Only the migration owner can read this table, so for anyone else this check fails closed.
  IF TG_OP = 'DELETE' AND TG_LEVEL = 'ROW'
     AND EXISTS (SELECT 1 FROM public.auditline_purge_grants g
                 WHERE g.xid OPERATOR(pg_catalog.=) pg_catalog.pg_current_xact_id()) THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'audit events are immutable: % on % is not allowed', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege',
          HINT = 'Events leave the log only through the retention purge.';
END
$$;
--> statement-breakpoint
CREATE FUNCTION auditline_has_active_hold(p_organization uuid, p_as_of timestamptz) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT EXISTS (SELECT 1 FROM public.legal_holds h
                 WHERE h.organization_id = p_organization AND (h.released_at IS NULL OR h.released_at > p_as_of))
$$;
--> statement-breakpoint
-- The rows of one organization in one partition that the purge removes: expired (a condition left
-- out when the whole partition is, so counting it is an index-only scan) and, when the organization
-- has active holds, outside all of them. Parameters: $1 organization, $2 cutoff, $3 as-of.
CREATE FUNCTION auditline_expired_rows_sql(p_partition regclass, p_whole boolean, p_held boolean) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT format('SELECT e.ctid FROM %s e WHERE e.organization_id = $1', p_partition)
    || CASE WHEN p_whole THEN '' ELSE ' AND e.received_at < $2' END
    || CASE WHEN p_held THEN
         ' AND NOT EXISTS (SELECT 1 FROM public.legal_holds h WHERE h.organization_id = $1'
         || ' AND (h.released_at IS NULL OR h.released_at > $3)'
         || ' AND (h.from_at IS NULL OR e.occurred_at >= h.from_at)'
         || ' AND (h.to_at IS NULL OR e.occurred_at < h.to_at))'
       ELSE '' END
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION auditline_purge_events(p_as_of timestamptz, p_default_days integer, p_batch integer,
                                                  p_dry_run boolean DEFAULT false)
RETURNS TABLE (organization_id uuid, event_count bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  part record;
  org uuid;
  cutoff timestamptz;
  budget integer := p_batch;
  n bigint;
  rows_sql text;
  totals jsonb := '{}';
BEGIN
  PERFORM auditline_check_purge_arguments(p_default_days, p_batch);
  LOCK TABLE legal_holds, retention_policies IN SHARE MODE;
  IF NOT p_dry_run THEN
    INSERT INTO auditline_purge_grants VALUES (pg_current_xact_id()) ON CONFLICT DO NOTHING;
  END IF;
  <<partitions>>
  FOR part IN
    SELECT d.partdefid::regclass AS partition, '-infinity'::timestamptz AS starts_at,
           'infinity'::timestamptz AS ends_at
    FROM pg_catalog.pg_partitioned_table d
    WHERE d.partrelid = 'public.events'::regclass AND d.partdefid <> 0
    UNION ALL
    (SELECT p.partition, p.starts_at, p.ends_at FROM auditline_day_partitions() p
     WHERE p.starts_at < p_as_of - interval '24 hours')
  LOOP
    FOR org IN SELECT auditline_partition_organizations(part.partition) LOOP
      cutoff := auditline_retention_cutoff(org, p_as_of, p_default_days);
      CONTINUE WHEN part.starts_at >= cutoff;
      rows_sql := auditline_expired_rows_sql(part.partition, part.ends_at <= cutoff,
                                             auditline_has_active_hold(org, p_as_of));
      IF p_dry_run THEN
        EXECUTE format('SELECT count(*) FROM (%s) expired', replace(rows_sql, 'SELECT e.ctid', 'SELECT 1'))
          INTO n USING org, cutoff, p_as_of;
      ELSE
        EXECUTE format('DELETE FROM %s WHERE ctid = ANY (ARRAY(%s LIMIT $4))', part.partition, rows_sql)
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
-- The trigger now reads the grant table itself; the helper it used is gone.
DROP FUNCTION auditline_purge_authorized();
