import { sql } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import { rowsOf } from '../db/rows.ts';
import { latestCheckpoints, readLogStates, readSealerCursor, type StoredCheckpoint } from './log-store.ts';

export interface IntegrityStatus {
  /** received_at of the newest sealed event (of the organization, or of any organization). */
  sealedThrough: Date | null;
  /** Leaves in the organization's log; null for the whole database. */
  treeSize: number | null;
  /** The organization's latest checkpoint; null for the whole database or before the first one. */
  checkpoint: StoredCheckpoint | null;
  /** Stored events not sealed yet. */
  lagEvents: number;
  /** Age of the oldest event not sealed yet; 0 when there is none. */
  lagSeconds: number;
}

/** How far sealing trails ingest, for one organization (uuid) or, with null, the whole database. */
export async function integrityStatus(
  db: Database,
  organizationUuid: string | null,
): Promise<IntegrityStatus> {
  const cursor = await readSealerCursor(db);
  const scope = organizationUuid === null ? sql`true` : sql`organization_id = ${organizationUuid}::uuid`;
  const [lag] = rowsOf<{ n: unknown; oldest_ms: unknown; now_ms: unknown }>(
    await db.execute(sql`
      select count(*)::float8 as n, (extract(epoch from min(received_at)) * 1000)::float8 as oldest_ms,
        (extract(epoch from now()) * 1000)::float8 as now_ms
      from events where ${scope} and (xid, id) > (${cursor.xid}::xid8, ${cursor.id}::uuid)`),
  );
  const oldest = lag?.oldest_ms === null || lag?.oldest_ms === undefined ? null : Number(lag.oldest_ms);
  const lagSeconds = oldest === null ? 0 : Math.max(0, (Number(lag!.now_ms) - oldest) / 1000);
  const lagEvents = Number(lag?.n ?? 0);

  if (organizationUuid === null) {
    const [row] = rowsOf<{ ms: unknown }>(
      await db.execute(
        sql`select (extract(epoch from max(sealed_through)) * 1000)::float8 as ms from merkle_logs`,
      ),
    );
    const sealedThrough = row?.ms === null || row?.ms === undefined ? null : new Date(Number(row.ms));
    return { sealedThrough, treeSize: null, checkpoint: null, lagEvents, lagSeconds };
  }
  const [state] = await readLogStates(db, [organizationUuid]);
  const checkpoint = (await latestCheckpoints(db, [organizationUuid])).get(organizationUuid) ?? null;
  return {
    sealedThrough: state?.sealedThrough ?? null,
    treeSize: state?.treeSize ?? 0,
    checkpoint,
    lagEvents,
    lagSeconds,
  };
}
