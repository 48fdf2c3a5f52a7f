import { sql } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import { rowsOf } from '../db/rows.ts';
import type { StreamPosition } from '../events/settled.ts';

/**
 * The settling horizon at one instant: every transaction with an id below `xmin` has finished, and
 * every transaction that commits later gets an id of at least `xmax`.
 */
export interface Horizon {
  xmin: bigint;
  xmax: bigint;
}

export async function sampleHorizon(db: Database): Promise<Horizon> {
  const [row] = rowsOf<{ xmin: string; xmax: string }>(
    await db.execute(
      sql`select pg_snapshot_xmin(s)::text as xmin, pg_snapshot_xmax(s)::text as xmax from pg_current_snapshot() s`,
    ),
  );
  return { xmin: BigInt(row!.xmin), xmax: BigInt(row!.xmax) };
}

const LAST_UUID = 'ffffffff-ffff-ffff-ffff-ffffffffffff';

/** The position just before everything not yet settled at `horizon`: where a stream "from now" starts. */
export const positionAt = (horizon: Horizon): StreamPosition => ({
  xid: (horizon.xmin - 1n).toString(),
  id: LAST_UUID,
});

/** Orders positions the way the stream does: by transaction id, then by event id (lower-case uuids). */
export function comparePositions(a: StreamPosition, b: StreamPosition): number {
  const ax = BigInt(a.xid);
  const bx = BigInt(b.xid);
  if (ax !== bx) return ax < bx ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
