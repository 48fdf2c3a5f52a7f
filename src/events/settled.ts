import { and, asc, type SQL, sql } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import { rowsOf } from '../db/rows.ts';
import { events } from '../db/tables.ts';
import { badInput } from '../errors.ts';
import type { AuditEvent } from './event.ts';
import { eventFromRow } from './event-row.ts';
import { MAX_CURSOR_LENGTH } from './input-limits.ts';

/**
 * A place in stream order: the writing transaction's id, then the event id. Rows are read only once
 * settled (every transaction older than theirs has committed or aborted), so a reader that walks this
 * order never skips a row that commits late: it simply is not readable yet.
 */
export interface StreamPosition {
  xid: string;
  id: string;
}

export const STREAM_BEGINNING: StreamPosition = { xid: '0', id: '00000000-0000-0000-0000-000000000000' };
const LAST_UUID = 'ffffffff-ffff-ffff-ffff-ffffffffffff';

export interface SettledEvent {
  position: StreamPosition;
  event: AuditEvent;
}

/**
 * Where "from now on" starts: just before the oldest transaction still running. Events committed
 * before that are behind us; anything in flight or later is ahead and will be delivered once settled.
 */
export async function currentStreamPosition(db: Database): Promise<StreamPosition> {
  const [row] = rowsOf<{ xmin: string }>(
    await db.execute(sql`select pg_snapshot_xmin(pg_current_snapshot())::text as xmin`),
  );
  return { xid: (BigInt(row!.xmin) - 1n).toString(), id: LAST_UUID };
}

/** Up to `limit` settled events after `after`, in stream order, matching `where` (which carries the tenant wall). */
export async function readSettledEvents(
  db: Database,
  where: SQL | undefined,
  after: StreamPosition,
  limit: number,
): Promise<SettledEvent[]> {
  const rows = await db
    .select()
    .from(events)
    .where(
      and(
        where,
        sql`(${events.xid}, ${events.id}) > (${after.xid}::xid8, ${after.id}::uuid)`,
        sql`${events.xid} < pg_snapshot_xmin(pg_current_snapshot())`,
      ),
    )
    .orderBy(asc(events.xid), asc(events.id))
    .limit(limit);
  return rows.map((row) => ({ position: { xid: String(row.xid), id: row.id }, event: eventFromRow(row) }));
}

/**
 * For reads that may be far behind the live edge (a catch-up), inside a transaction: the rest of it
 * reads the stream in index order instead of sorting. PostgreSQL estimates `(xid, id) > cursor` from
 * xid alone, so a cursor inside a bulk-loaded transaction (one xid for a million rows) looks like the
 * end of the log: it expects nothing after it and sorts every remaining row of that transaction to
 * return the first few thousand (1.2 s per 2,000-row read, measured), instead of merging the
 * partitions' (xid, id) indexes.
 */
export async function preferIndexOrder(tx: Database): Promise<void> {
  await tx.execute(sql`set local enable_sort = off`);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function encodeStreamCursor(position: StreamPosition): string {
  return Buffer.from(JSON.stringify(['s', position.xid, position.id])).toString('base64url');
}

export function decodeStreamCursor(value: string, argument = 'after'): StreamPosition {
  if (value.length > MAX_CURSOR_LENGTH) {
    throw badInput(
      `${argument} is ${value.length} characters long; a stream cursor is at most ${MAX_CURSOR_LENGTH}`,
      [argument],
    );
  }
  try {
    const decoded = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
    if (
      Array.isArray(decoded) &&
      decoded[0] === 's' &&
      /^\d{1,20}$/.test(decoded[1]) &&
      UUID.test(decoded[2])
    ) {
      return { xid: decoded[1], id: decoded[2] };
    }
  } catch {
    // fall through to the error below
  }
  throw badInput(`${argument} is not a stream cursor returned by eventStream`, [argument]);
}
