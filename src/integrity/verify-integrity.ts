import { and, asc, eq, sql } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import { rowsOf } from '../db/rows.ts';
import { events } from '../db/tables.ts';
import type { AuditEvent } from '../events/event.ts';
import { eventFromRow } from '../events/event-row.ts';
import type { StreamPosition } from '../events/settled.ts';
import { toPublicId } from '../ids.ts';
import { bytesEqual, fromHex, toBase64 } from './bytes.ts';
import { eventLeafHash } from './event-leaf.ts';
import { checkpointRoots, latestCheckpoints, readLeavesByEventIds } from './log-store.ts';
import { CompactRange } from './merkle.ts';
import { ReceivedOrder } from './received-order.ts';
import { verifyCheckpoint } from './signed-note.ts';

export type MismatchReason =
  /** A stored event no longer hashes to its leaf. */
  | 'CHANGED'
  /** A sealed event is gone, and no retention purge explains it. */
  | 'DELETED'
  /** An event the log never sealed sits among sealed ones, or was written with a backdated receivedAt. */
  | 'INSERTED'
  /** An event's place in stream order is not the one it was sealed at. */
  | 'REORDERED'
  /** The stored leaf hashes do not give a signed root: the log itself was rewritten. */
  | 'ROOT_MISMATCH'
  /** The latest checkpoint does not verify with the service's public key. */
  | 'CHECKPOINT_SIGNATURE';

export interface IntegrityMismatch {
  leafIndex: number | null;
  eventId: string | null;
  reason: MismatchReason;
  detail: string;
}

export interface IntegrityReport {
  ok: boolean;
  /** Leaves checked (re-hashed, or accounted for as purged) before the first mismatch, or all of them. */
  checkedCount: number;
  /** Leaves whose events a retention purge removed: expected, not tampering. */
  purgedCount: number;
  treeSize: number;
  checkpointTreeSize: number | null;
  /** Events stored but not sealed yet (sealing lag); they are checked once sealed. */
  unsealedCount: number;
  firstMismatch: IntegrityMismatch | null;
}

export interface VerifyIntegrityOptions {
  verifierKey: string;
  /** The organization's expected checkpoint origin. */
  origin: string;
  /** DEFAULT_RETENTION_DAYS, for purges whose own record has been purged since. */
  defaultRetentionDays: number;
  pageSize?: number;
}

const DAY_MS = 86_400_000;

interface LeafEntry {
  leafIndex: number;
  eventId: string;
  position: StreamPosition;
  receivedAt: Date;
  hash: Uint8Array;
}

interface EventEntry {
  position: StreamPosition;
  event: AuditEvent;
}

class Mismatch extends Error {
  constructor(readonly mismatch: IntegrityMismatch) {
    super(mismatch.detail);
  }
}

/**
 * Re-hashes an organization's stored events against its log. Leaves (in leaf order) and events (in
 * stream order, up to the sealer's cursor) are walked side by side: both follow stream order, so a
 * changed, deleted, inserted or moved event shows up where the two part. Stored leaf hashes are
 * folded back into roots and compared with every signed checkpoint, and the latest checkpoint's
 * signature is checked. Stops at the first mismatch, in leaf order.
 */
export async function verifyIntegrity(
  db: Database,
  organizationUuid: string,
  options: VerifyIntegrityOptions,
): Promise<IntegrityReport> {
  const pageSize = options.pageSize ?? 1000;
  const snapshot = await readSnapshot(db, organizationUuid);
  const latest = (await latestCheckpoints(db, [organizationUuid])).get(organizationUuid) ?? null;
  const report: IntegrityReport = {
    ok: false,
    checkedCount: 0,
    purgedCount: 0,
    treeSize: snapshot.treeSize,
    checkpointTreeSize: latest?.treeSize ?? null,
    unsealedCount: snapshot.unsealed,
    firstMismatch: null,
  };
  try {
    if (latest) checkLatestCheckpoint(latest, options);
    const roots = await checkpointRoots(db, organizationUuid, snapshot.treeSize);
    const purges = await purgeEvidence(db, organizationUuid, options.defaultRetentionDays);
    await walk(db, organizationUuid, snapshot, { roots, purges, pageSize, report });
    return { ...report, ok: true };
  } catch (error) {
    if (!(error instanceof Mismatch)) throw error;
    return { ...report, firstMismatch: error.mismatch };
  }
}

async function readSnapshot(db: Database, organizationUuid: string) {
  // One statement, one snapshot: the sealer moves the cursor and the log sizes in one transaction.
  const [row] = rowsOf<{ tree_size: unknown; compact_range: string | null; xid: string; event_id: string }>(
    await db.execute(sql`
      select l.tree_size::float8 as tree_size, l.compact_range::text as compact_range,
        s.xid::text as xid, s.event_id::text as event_id
      from integrity_sealer s left join merkle_logs l on l.organization_id = ${organizationUuid}::uuid
      where s.id = 1`),
  );
  const cursor: StreamPosition = { xid: row!.xid, id: row!.event_id };
  const [unsealed] = rowsOf<{ n: unknown }>(
    await db.execute(sql`
      select count(*)::float8 as n from events where organization_id = ${organizationUuid}::uuid
        and (xid, id) > (${cursor.xid}::xid8, ${cursor.id}::uuid)`),
  );
  return {
    cursor,
    treeSize: Number(row?.tree_size ?? 0),
    compactRange: row?.compact_range ? JSON.parse(row.compact_range) : null,
    unsealed: Number(unsealed?.n ?? 0),
  };
}

function checkLatestCheckpoint(
  latest: { treeSize: number; rootHash: Uint8Array; signedNote: string },
  options: VerifyIntegrityOptions,
): void {
  const fail = (detail: string) =>
    new Mismatch({ leafIndex: null, eventId: null, reason: 'CHECKPOINT_SIGNATURE', detail });
  let signed: { treeSize: number; rootHash: Uint8Array };
  try {
    signed = verifyCheckpoint(latest.signedNote, options.verifierKey, { origin: options.origin });
  } catch (error) {
    throw fail(
      `the latest checkpoint (tree size ${latest.treeSize}) does not verify: ${(error as Error).message}`,
    );
  }
  if (signed.treeSize !== latest.treeSize || !bytesEqual(signed.rootHash, latest.rootHash)) {
    throw fail(`the latest checkpoint's stored size or root differs from what its note signs`);
  }
}

interface WalkState {
  roots: { treeSize: number; rootHash: Uint8Array }[];
  purges: PurgeEvidence;
  pageSize: number;
  report: IntegrityReport;
}

async function walk(
  db: Database,
  organizationUuid: string,
  snapshot: Awaited<ReturnType<typeof readSnapshot>>,
  state: WalkState,
): Promise<void> {
  const { report, purges } = state;
  const leaves = pages(state.pageSize, (after: LeafEntry | null, limit) =>
    readLeafPage(db, organizationUuid, after ? after.leafIndex + 1 : 0, snapshot.treeSize, limit),
  );
  const stored = pages(state.pageSize, (after: EventEntry | null, limit) =>
    readEventPage(db, organizationUuid, after?.position ?? null, snapshot.cursor, limit),
  );
  const range = CompactRange.empty();
  const order = new ReceivedOrder();
  let rootIndex = 0;
  let verifiedSize = 0;
  let purgedLeft = purges.purgedCount;

  const appendLeaf = (leaf: LeafEntry) => {
    range.append(leaf.hash);
    for (; rootIndex < state.roots.length && state.roots[rootIndex]!.treeSize <= range.size; rootIndex++) {
      const signed = state.roots[rootIndex]!;
      if (signed.treeSize < range.size) continue;
      if (!bytesEqual(signed.rootHash, range.root())) {
        throw new Mismatch({
          leafIndex: verifiedSize,
          eventId: null,
          reason: 'ROOT_MISMATCH',
          detail:
            `the stored hashes of leaves ${verifiedSize}..${signed.treeSize - 1} do not give the root signed ` +
            `for tree size ${signed.treeSize} (${toBase64(signed.rootHash)}): the log was rewritten`,
        });
      }
      verifiedSize = signed.treeSize;
    }
  };

  let leaf = await leaves.next();
  let entry = await stored.next();
  while (leaf || entry) {
    const cmp = leaf && entry ? comparePositions(leaf.position, entry.position) : leaf ? -1 : 1;
    if (leaf && entry && cmp === 0) {
      const eventId = entry.event.id;
      if (!bytesEqual(eventLeafHash(entry.event), leaf.hash)) {
        throw mismatch(leaf.leafIndex, eventId, 'CHANGED', 'the stored event no longer hashes to its leaf');
      }
      const backdated = order.check(leaf.leafIndex, entry.event.receivedAt);
      if (backdated) throw mismatch(leaf.leafIndex, eventId, 'INSERTED', backdated);
      appendLeaf(leaf);
      report.checkedCount++;
      leaf = await leaves.next();
      entry = await stored.next();
    } else if (leaf && cmp < 0) {
      // The leaf's event is not where it was sealed.
      const eventId = toPublicId('evt', leaf.eventId);
      if (leaf.receivedAt.getTime() < purges.cutoff && purgedLeft > 0) {
        purgedLeft--;
        report.purgedCount++;
      } else {
        const found = await findEvent(db, leaf.eventId);
        if (!found) {
          throw mismatch(
            leaf.leafIndex,
            eventId,
            'DELETED',
            purges.purgedCount > 0
              ? `the event is gone, and no retention purge removed events received at ${leaf.receivedAt.toISOString()}`
              : 'the event is gone, and no retention purge has run for this organization',
          );
        }
        if (comparePositions(found.position, leaf.position) !== 0) {
          throw mismatch(
            leaf.leafIndex,
            eventId,
            'REORDERED',
            `sealed at stream position ${describe(leaf.position)}, now at ${describe(found.position)}`,
          );
        }
        throw mismatch(
          leaf.leafIndex,
          eventId,
          'CHANGED',
          `the event now belongs to organization ${found.event.organizationId}`,
        );
      }
      appendLeaf(leaf);
      report.checkedCount++;
      leaf = await leaves.next();
    } else if (entry) {
      // A stored event, already passed by the sealer, with no leaf at its place.
      const eventId = entry.event.id;
      const sealedAs = (await readLeavesByEventIds(db, [entry.position.id])).get(entry.position.id);
      if (sealedAs && sealedAs.organizationId === organizationUuid) {
        throw mismatch(
          sealedAs.leafIndex,
          eventId,
          'REORDERED',
          `sealed as leaf ${sealedAs.leafIndex}, but now at stream position ${describe(entry.position)}` +
            (leaf ? `, before leaf ${leaf.leafIndex}` : ''),
        );
      }
      throw mismatch(
        leaf?.leafIndex ?? snapshot.treeSize,
        eventId,
        'INSERTED',
        `the event is not in the log although the sealer has passed its stream position ${describe(entry.position)}` +
          (sealedAs ? ` (its id is a leaf of another organization)` : ''),
      );
    }
  }

  if (snapshot.compactRange) {
    const stateRoot = CompactRange.fromJSON(snapshot.compactRange);
    if (stateRoot.size !== range.size || !bytesEqual(stateRoot.root(), range.root())) {
      throw new Mismatch({
        leafIndex: null,
        eventId: null,
        reason: 'ROOT_MISMATCH',
        detail: 'the log state the sealer appends to does not match its stored leaves',
      });
    }
  }
}

const mismatch = (leafIndex: number, eventId: string, reason: MismatchReason, detail: string) =>
  new Mismatch({ leafIndex, eventId, reason, detail });

const describe = (position: StreamPosition) => `(${position.xid}, ${position.id})`;

function comparePositions(a: StreamPosition, b: StreamPosition): number {
  const ax = BigInt(a.xid);
  const bx = BigInt(b.xid);
  if (ax !== bx) return ax < bx ? -1 : 1;
  if (a.id === b.id) return 0;
  return a.id < b.id ? -1 : 1;
}

/** Pulls items one by one from keyset pages. */
function pages<T>(pageSize: number, read: (after: T | null, limit: number) => Promise<T[]>) {
  let buffer: T[] = [];
  let last: T | null = null;
  let done = false;
  return {
    async next(): Promise<T | null> {
      if (buffer.length === 0 && !done) {
        buffer = await read(last, pageSize);
        if (buffer.length < pageSize) done = true;
      }
      const item = buffer.shift() ?? null;
      if (item) last = item;
      return item;
    },
  };
}

async function readLeafPage(
  db: Database,
  organizationUuid: string,
  from: number,
  treeSize: number,
  limit: number,
): Promise<LeafEntry[]> {
  const rows = rowsOf<{
    leaf_index: unknown;
    event_id: string;
    xid: string;
    received_ms: unknown;
    hash: string;
  }>(
    await db.execute(sql`
      select leaf_index::float8 as leaf_index, event_id::text, xid::text,
        (extract(epoch from received_at) * 1000)::float8 as received_ms, encode(leaf_hash, 'hex') as hash
      from merkle_leaves
      where organization_id = ${organizationUuid}::uuid and leaf_index >= ${from} and leaf_index < ${treeSize}
      order by leaf_index limit ${limit}`),
  );
  return rows.map((row) => ({
    leafIndex: Number(row.leaf_index),
    eventId: row.event_id,
    position: { xid: row.xid, id: row.event_id },
    receivedAt: new Date(Number(row.received_ms)),
    hash: fromHex(row.hash),
  }));
}

async function readEventPage(
  db: Database,
  organizationUuid: string,
  after: StreamPosition | null,
  through: StreamPosition,
  limit: number,
): Promise<EventEntry[]> {
  const rows = await db
    .select()
    .from(events)
    .where(
      and(
        eq(events.organizationId, organizationUuid),
        after ? sql`(${events.xid}, ${events.id}) > (${after.xid}::xid8, ${after.id}::uuid)` : undefined,
        sql`(${events.xid}, ${events.id}) <= (${through.xid}::xid8, ${through.id}::uuid)`,
      ),
    )
    .orderBy(asc(events.xid), asc(events.id))
    .limit(limit);
  return rows.map((row) => ({ position: { xid: String(row.xid), id: row.id }, event: eventFromRow(row) }));
}

async function findEvent(db: Database, eventUuid: string): Promise<EventEntry | null> {
  const [row] = await db.select().from(events).where(eq(events.id, eventUuid)).limit(1);
  return row ? { position: { xid: String(row.xid), id: row.id }, event: eventFromRow(row) } : null;
}

interface PurgeEvidence {
  /** Events received before this (epoch ms) may have been purged. */
  cutoff: number;
  /** How many of the organization's events purges removed, in total. */
  purgedCount: number;
}

/**
 * What retention removed from this organization: `purge_runs` counts per organization, and each run's
 * cutoff from its own `auditline.events_purged` record, or (when that record has been purged in turn)
 * from the run's clock and the organization's current window.
 */
async function purgeEvidence(
  db: Database,
  organizationUuid: string,
  defaultRetentionDays: number,
): Promise<PurgeEvidence> {
  const runs = rowsOf<{ id: string; as_of_ms: unknown; n: unknown }>(
    await db.execute(sql`
      select id::text, (extract(epoch from as_of) * 1000)::float8 as as_of_ms,
        (deleted_counts ->> ${organizationUuid})::float8 as n
      from purge_runs where not dry_run and deleted_counts ? ${organizationUuid}`),
  );
  if (runs.length === 0) return { cutoff: Number.NEGATIVE_INFINITY, purgedCount: 0 };
  const recorded = rowsOf<{ run_id: string | null; cutoff: string | null }>(
    await db.execute(sql`
      select metadata ->> 'purgeRunId' as run_id, metadata ->> 'cutoff' as cutoff from events
      where organization_id = ${organizationUuid}::uuid and action = 'auditline.events_purged'`),
  );
  const cutoffOfRun = new Map(recorded.map((row) => [row.run_id, Date.parse(row.cutoff ?? '')]));
  const [policy] = rowsOf<{ days: unknown }>(
    await db.execute(sql`
      select retention_days as days from retention_policies where organization_id = ${organizationUuid}::uuid`),
  );
  const days = policy ? Number(policy.days) : defaultRetentionDays;
  let cutoff = Number.NEGATIVE_INFINITY;
  let purgedCount = 0;
  for (const run of runs) {
    const recordedCutoff = cutoffOfRun.get(run.id);
    const runCutoff =
      recordedCutoff !== undefined && Number.isFinite(recordedCutoff)
        ? recordedCutoff
        : Number(run.as_of_ms) - days * DAY_MS;
    cutoff = Math.max(cutoff, runCutoff);
    purgedCount += Number(run.n ?? 0);
  }
  return { cutoff, purgedCount };
}
