import { asc, eq, sql } from 'drizzle-orm';
import type { Database } from '../../src/db/client.ts';
import { rowsOf } from '../../src/db/rows.ts';
import { events } from '../../src/db/tables.ts';
import type { AuditEvent } from '../../src/events/event.ts';
import { eventFromRow } from '../../src/events/event-row.ts';
import { compileEventWhere } from '../../src/events/filter.ts';
import { exportChunks } from '../../src/export/exporter.ts';
import { fromPublicId } from '../../src/ids.ts';
import { fromHex } from '../../src/integrity/bytes.ts';
import { signCheckpoints } from '../../src/integrity/checkpointer.ts';
import { readSealerCursor } from '../../src/integrity/log-store.ts';
import { sealPending } from '../../src/integrity/sealer.ts';
import { EMIT_MANY, loginEvent, type Tenant, type TestApp } from '../support/test-app.ts';

/**
 * Seals until every event committed before the call is sealed. On a shared PostgreSQL server a
 * transaction still open elsewhere (another test file, another database) keeps newer events unsettled
 * for a moment, so one pass may not reach them.
 */
export async function sealCommitted(db: Database): Promise<number> {
  const [row] = rowsOf<{ newest_xid: string; newest_id: string }>(
    await db.execute(
      sql`select xid::text as newest_xid, id::text as newest_id from events order by xid desc, id desc limit 1`,
    ),
  );
  const newest = row && { xid: row.newest_xid, id: row.newest_id };
  let sealed = 0;
  const deadline = Date.now() + 20_000;
  for (;;) {
    sealed += (await sealPending(db)).sealed;
    const cursor = await readSealerCursor(db);
    if (!newest || comparePositions(cursor, newest) >= 0) return sealed;
    if (Date.now() > deadline)
      throw new Error(`events up to ${newest.xid}/${newest.id} did not settle in 20 s`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function comparePositions(a: { xid: string; id: string }, b: { xid: string; id: string }): number {
  const ax = BigInt(a.xid);
  const bx = BigInt(b.xid);
  if (ax !== bx) return ax < bx ? -1 : 1;
  return a.id === b.id ? 0 : a.id < b.id ? -1 : 1;
}

/** What the sealer worker does, at once: seal everything committed, then sign checkpoints. */
export async function sealAndSign(testApp: TestApp) {
  const db = testApp.database.db;
  const sealed = await sealCommitted(db);
  const { integrity } = testApp.app.services;
  const identity = await integrity.identity();
  const { signed } = await signCheckpoints(db, { originPrefix: integrity.settings.originPrefix, identity });
  return { sealed, signed, identity };
}

/** Emits `count` login events for the tenant (one batch); returns their public ids in order. */
export async function emitEvents(
  tenant: Tenant,
  count: number,
  metadata: (i: number) => object = (i) => ({ n: i }),
) {
  const input = Array.from({ length: count }, (_, i) => loginEvent({ metadata: metadata(i) }));
  const response = await tenant.gql<{
    emitEvents: { acceptedCount: number; results: { event: { id: string } }[] };
  }>(EMIT_MANY, { input });
  if (response.errors) throw new Error(JSON.stringify(response.errors));
  return response.data!.emitEvents.results.map((result) => result.event.id);
}

export interface LeafRecord {
  leafIndex: number;
  eventId: string;
  leafHash: Uint8Array;
}

export async function leavesOf(db: Database, organizationId: string): Promise<LeafRecord[]> {
  const rows = rowsOf<{ leaf_index: unknown; event_id: string; hash: string }>(
    await db.execute(sql`
      select leaf_index::float8 as leaf_index, event_id::text, encode(leaf_hash, 'hex') as hash from merkle_leaves
      where organization_id = ${fromPublicId('org', organizationId)}::uuid order by leaf_index`),
  );
  return rows.map((row) => ({
    leafIndex: Number(row.leaf_index),
    eventId: `evt_${row.event_id.replaceAll('-', '')}`,
    leafHash: fromHex(row.hash),
  }));
}

/** The organization's stored events in stream order. */
export async function eventsInStreamOrder(db: Database, organizationId: string): Promise<AuditEvent[]> {
  const rows = await db
    .select()
    .from(events)
    .where(eq(events.organizationId, fromPublicId('org', organizationId)!))
    .orderBy(asc(events.xid), asc(events.id));
  return rows.map(eventFromRow);
}

/** The organization's events as `auditline export --format jsonl` writes them, from the database as it is now. */
export async function exportJsonLines(db: Database, organizationId: string): Promise<string> {
  let text = '';
  const where = compileEventWhere(fromPublicId('org', organizationId), null, null);
  for await (const chunk of exportChunks(db, where, 'jsonl')) text += chunk;
  return text;
}

/**
 * Runs statements as the database superuser would, with the immutability and append-only triggers
 * switched off (on the partitioned table and every partition), then switched back on.
 */
export async function tamper(db: Database, ...statements: ReturnType<typeof sql>[]): Promise<void> {
  const tables = ['events', 'merkle_leaves'];
  await db.execute(
    sql.raw(`
    do $$ declare t regclass; begin
      for t in select c.oid::regclass from pg_class c where c.relname = 'events' or c.relname = 'merkle_leaves'
        or c.oid in (select inhrelid from pg_inherits where inhparent = 'events'::regclass) loop
        execute format('alter table %s disable trigger user', t);
      end loop; end $$`),
  );
  try {
    for (const statement of statements) await db.execute(statement);
  } finally {
    await db.execute(
      sql.raw(`
      do $$ declare t regclass; tg record; begin
        for tg in select tgrelid::regclass as rel, tgname from pg_trigger
          where not tgisinternal and tgrelid in (select c.oid from pg_class c where c.relname in (${tables.map((t) => `'${t}'`).join(',')})
            or c.oid in (select inhrelid from pg_inherits where inhparent = 'events'::regclass)) loop
          execute format('alter table %s enable always trigger %I', tg.rel, tg.tgname);
        end loop; end $$`),
    );
  }
}
