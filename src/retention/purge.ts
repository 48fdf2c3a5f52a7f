import { eq, inArray, type SQL, sql } from 'drizzle-orm';
import type { Database, DatabaseHandle } from '../db/client.ts';
import { PARTITION_DAYS_AHEAD } from '../db/migrate.ts';
import { rowsOf } from '../db/rows.ts';
import { fromPublicId, toPublicId, uuidv7 } from '../ids.ts';
import { recordRetentionEvents, SYSTEM_ACTOR } from './audit-trail.ts';
import { checkRetentionDays, DAY_MS } from './policies.ts';
import { purgeRuns, retentionPolicies } from './tables.ts';

export type PurgeTrigger = 'schedule' | 'cli' | 'api' | 'bench';

export interface PurgeOptions {
  /** The server-wide window for organizations without a policy (DEFAULT_RETENTION_DAYS). */
  defaultRetentionDays: number;
  /**
   * The clock windows end relative to. Omitted: the database's own clock, through the functions the
   * app role may call. Given: only the migration owner may run it (tests, tools, benchmarks).
   */
  asOf?: Date;
  /** Count what would go, change nothing. */
  dryRun?: boolean;
  /** Rows per DELETE transaction in the tail. */
  batchSize?: number;
  /** Partitions dropped per transaction. */
  partitionsPerStep?: number;
  trigger?: PurgeTrigger;
}

export interface OrganizationPurge {
  organizationId: string;
  /** Events removed (or that would be): dropped with their partition plus deleted row by row. */
  deletedCount: number;
  droppedWithPartitions: number;
  deletedRows: number;
  retentionDays: number;
  /** Events received before this instant are expired; one received exactly at it is kept. */
  cutoff: Date;
}

export interface PurgeReport {
  runId: string;
  asOf: Date;
  dryRun: boolean;
  startedAt: Date;
  finishedAt: Date;
  /** Day partitions dropped (or droppable, for a dry run), oldest first. */
  droppedPartitions: string[];
  /** Those of them that held no events. */
  emptyPartitions: string[];
  organizations: OrganizationPurge[];
  deletedCount: number;
  idempotencyKeysDeleted: number;
  /** Closed days counted for a later purge (see `tallyClosedPartitions`). */
  talliedPartitions: number;
  /** Wall time of each step, in milliseconds. */
  stepsMs: Record<PurgeStep, number>;
}

/**
 * `partitions`: detaching wholly expired days (their events leave the log at its commit); `storage`:
 * dropping them; `tail`: deleting the rest row by row; `idempotencyKeys`; `record`: the purge's own
 * events and run row; `tally`: counting the days that closed since the last run.
 */
export type PurgeStep = 'partitions' | 'storage' | 'tail' | 'idempotencyKeys' | 'record' | 'tally';

interface Tally {
  dropped: Map<string, number>;
  deleted: Map<string, number>;
}

const add = (counts: Map<string, number>, organizationUuid: string, n: number) =>
  counts.set(organizationUuid, (counts.get(organizationUuid) ?? 0) + n);

/**
 * One purge: creates partitions ahead, detaches wholly expired day partitions and then drops them,
 * deletes the expired tail in bounded batches, removes the idempotency keys of purged events, records
 * per organization an `auditline.events_purged` event and a `purge_runs` row, and tallies the days
 * that closed since the last run. Nothing else may remove events (see drizzle/0005_retention_purge.sql
 * and 0014). Run one at a time: see `runExclusivePurge`.
 */
export async function runPurge(handle: DatabaseHandle, options: PurgeOptions): Promise<PurgeReport> {
  const defaultDays = checkRetentionDays(options.defaultRetentionDays, ['defaultRetentionDays']);
  const dryRun = options.dryRun ?? false;
  const batchSize = options.batchSize ?? 5000;
  const partitionsPerStep = options.partitionsPerStep ?? 8;
  const db = handle.db;
  const asOf = options.asOf ?? (await databaseNow(db));
  const clock = options.asOf ? sql`${options.asOf.toISOString()}::timestamptz, ` : sql``;
  const call = (name: string, args: SQL) =>
    sql`select * from ${sql.raw(options.asOf ? name : `${name}_now`)}(${clock}${args})`;

  if (!dryRun) await createPartitionsAhead(db, asOf);
  const runId = uuidv7();
  const [run] = await db
    .insert(purgeRuns)
    .values({ id: runId, asOf, dryRun, trigger: options.trigger ?? 'api' })
    .returning();
  const tally: Tally = { dropped: new Map(), deleted: new Map() };
  const droppedPartitions: string[] = [];
  const emptyPartitions: string[] = [];
  const stepsMs: Record<PurgeStep, number> = {
    partitions: 0,
    storage: 0,
    tail: 0,
    idempotencyKeys: 0,
    record: 0,
    tally: 0,
  };
  let stepStarted = performance.now();
  const stepDone = (step: PurgeStep) => {
    const now = performance.now();
    stepsMs[step] = Math.round(now - stepStarted);
    stepStarted = now;
  };
  const saveProgress = (tx: Database) =>
    tx
      .update(purgeRuns)
      .set({ deletedCounts: totalsJson(tally), droppedPartitions: [...droppedPartitions] })
      .where(eq(purgeRuns.id, runId));

  // Whole days first: a dropped partition's rows are not deleted one by one afterwards.
  for (;;) {
    const limit = dryRun ? 1_000_000 : partitionsPerStep;
    const rows = await db.transaction(async (tx) => {
      const result = rowsOf<{ partition_name: string; organization_id: string | null; event_count: unknown }>(
        await tx.execute(
          call('auditline_purge_partitions', sql`${defaultDays}::int, ${limit}::int, ${dryRun}`),
        ),
      );
      for (const row of result) {
        if (!droppedPartitions.includes(row.partition_name)) droppedPartitions.push(row.partition_name);
        if (row.organization_id === null) emptyPartitions.push(row.partition_name);
        if (!dryRun && row.organization_id) add(tally.dropped, row.organization_id, Number(row.event_count));
      }
      if (!dryRun) await saveProgress(tx);
      return result;
    });
    if (dryRun || new Set(rows.map((row) => row.partition_name)).size < limit) break;
  }
  stepDone('partitions');
  // The detached days' events left the log when that transaction committed; releasing their storage
  // takes a while (the files are truncated at commit) and holds no lock on events, so it comes after.
  if (!dryRun) await dropPurgedPartitions(db);
  stepDone('storage');

  // Then the tail, one short transaction per batch so ingest never waits on a long purge.
  for (;;) {
    const deleted = await db.transaction(async (tx) => {
      const result = rowsOf<{ organization_id: string; event_count: unknown }>(
        await tx.execute(
          call('auditline_purge_events', sql`${defaultDays}::int, ${batchSize}::int, ${dryRun}`),
        ),
      );
      let total = 0;
      for (const row of result) {
        add(tally.deleted, row.organization_id, Number(row.event_count));
        total += Number(row.event_count);
      }
      if (!dryRun && total > 0) await saveProgress(tx);
      return total;
    });
    if (dryRun || deleted < batchSize) break;
  }
  stepDone('tail');

  let idempotencyKeysDeleted = 0;
  while (!dryRun) {
    const [row] = rowsOf<{ n: unknown }>(
      await db.execute(
        sql`select ${sql.raw(options.asOf ? 'auditline_purge_idempotency_keys' : 'auditline_purge_idempotency_keys_now')}(${clock}${defaultDays}::int, ${batchSize}::int) as n`,
      ),
    );
    idempotencyKeysDeleted += Number(row?.n ?? 0);
    if (Number(row?.n ?? 0) < batchSize) break;
  }
  stepDone('idempotencyKeys');

  const organizations = await describeOrganizations(db, tally, asOf, defaultDays);
  const finishedAt = await db.transaction(async (tx) => {
    if (!dryRun) {
      await recordRetentionEvents(
        tx,
        organizations
          .filter((organization) => organization.deletedCount > 0)
          .map((organization) => ({
            organizationUuid: fromPublicId('org', organization.organizationId)!,
            action: 'auditline.events_purged' as const,
            actor: SYSTEM_ACTOR,
            target: { id: organization.organizationId, type: 'organization' },
            metadata: {
              deletedCount: organization.deletedCount,
              droppedWithPartitions: organization.droppedWithPartitions,
              deletedRows: organization.deletedRows,
              retentionDays: organization.retentionDays,
              cutoff: organization.cutoff.toISOString(),
              asOf: asOf.toISOString(),
              purgeRunId: runId,
            },
          })),
      );
    }
    const [finished] = await tx
      .update(purgeRuns)
      .set({
        finishedAt: sql`now()`,
        deletedCounts: totalsJson(tally),
        droppedPartitions,
      })
      .where(eq(purgeRuns.id, runId))
      .returning({ finishedAt: purgeRuns.finishedAt });
    return finished!.finishedAt!;
  });

  stepDone('record');
  const talliedPartitions = dryRun ? 0 : await tallyClosedPartitions(db, options.asOf);
  stepDone('tally');

  return {
    runId,
    asOf,
    dryRun,
    startedAt: run!.startedAt,
    finishedAt,
    droppedPartitions,
    emptyPartitions,
    organizations,
    deletedCount: organizations.reduce((sum, organization) => sum + organization.deletedCount, 0),
    idempotencyKeysDeleted,
    talliedPartitions,
    stepsMs,
  };
}

const PURGE_LOCK_ID = 0x61756469746c6e02n;

/**
 * Runs the purge only if no other process (sharing this PostgreSQL database) is running one: the
 * holder of a session advisory lock is the purge leader. Dry runs change nothing and need no lock.
 */
export async function runExclusivePurge(
  handle: DatabaseHandle,
  options: PurgeOptions,
): Promise<{ acquired: true; report: PurgeReport } | { acquired: false }> {
  if (options.dryRun) return { acquired: true, report: await runPurge(handle, options) };
  const outcome = await handle.tryWithAdvisoryLock(PURGE_LOCK_ID, () => runPurge(handle, options));
  return outcome.acquired ? { acquired: true, report: outcome.value } : { acquired: false };
}

// Through drizzle's pool, never `handle.raw`: the purge lock itself holds one of the few raw
// connections, and another leader (the sealer) may hold the rest.
async function databaseNow(db: Database): Promise<Date> {
  const [row] = rowsOf<{ now: string }>(await db.execute(sql`select to_json(now()) #>> '{}' as now`));
  return new Date(row!.now);
}

/** Day partitions from the day before `asOf` to PARTITION_DAYS_AHEAD days after it. */
export async function createPartitionsAhead(db: Database, asOf: Date): Promise<number> {
  const yesterday = new Date(asOf.getTime() - DAY_MS).toISOString().slice(0, 10);
  const [row] = rowsOf<{ created: unknown }>(
    await db.execute(
      sql`select auditline_ensure_partitions(${yesterday}::date, ${PARTITION_DAYS_AHEAD + 2}) as created`,
    ),
  );
  return Number(row?.created ?? 0);
}

/** Drops the partitions purges detached (one per transaction), this run's and any an interrupted run left. */
async function dropPurgedPartitions(db: Database): Promise<number> {
  let dropped = 0;
  for (;;) {
    const rows = rowsOf(await db.execute(sql`select * from auditline_drop_purged_partitions(1)`));
    if (rows.length === 0) return dropped;
    dropped += rows.length;
  }
}

/**
 * Counts the events per organization of each day that closed (ended over 24 hours before `asOf`, or
 * the database's clock) since the last run, one day per transaction. A purge that drops the day, months
 * later, reuses the count while no row has arrived since, instead of counting a million rows while it
 * holds its lock on events. Returns how many days it counted.
 */
export async function tallyClosedPartitions(db: Database, asOf?: Date): Promise<number> {
  const tallyAfter = async (after: string | null): Promise<string | null> => {
    const call = asOf
      ? sql`select auditline_tally_closed_partitions(${asOf.toISOString()}::timestamptz, ${after}::text) as counted`
      : sql`select auditline_tally_closed_partitions_now(${after}::text) as counted`;
    const [row] = rowsOf<{ counted: string | null }>(await db.execute(call));
    return row?.counted ?? null;
  };
  let tallied = 0;
  for (let counted = await tallyAfter(null); counted !== null; counted = await tallyAfter(counted)) {
    tallied += 1;
  }
  return tallied;
}

function totalsJson(tally: Tally): Record<string, number> {
  const totals: Record<string, number> = {};
  for (const counts of [tally.dropped, tally.deleted]) {
    for (const [organization, n] of counts) totals[organization] = (totals[organization] ?? 0) + n;
  }
  return totals;
}

async function describeOrganizations(
  db: Database,
  tally: Tally,
  asOf: Date,
  defaultDays: number,
): Promise<OrganizationPurge[]> {
  const uuids = [...new Set([...tally.dropped.keys(), ...tally.deleted.keys()])].sort();
  const policies = uuids.length
    ? await db.select().from(retentionPolicies).where(inArray(retentionPolicies.organizationId, uuids))
    : [];
  const days = new Map(policies.map((policy) => [policy.organizationId, policy.retentionDays]));
  return uuids.map((uuid) => {
    const retentionDays = days.get(uuid) ?? defaultDays;
    const droppedWithPartitions = tally.dropped.get(uuid) ?? 0;
    const deletedRows = tally.deleted.get(uuid) ?? 0;
    return {
      organizationId: toPublicId('org', uuid),
      deletedCount: droppedWithPartitions + deletedRows,
      droppedWithPartitions,
      deletedRows,
      retentionDays,
      cutoff: new Date(asOf.getTime() - retentionDays * DAY_MS),
    };
  });
}
