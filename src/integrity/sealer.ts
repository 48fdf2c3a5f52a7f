import { sql } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import {
  preferIndexOrder,
  readSettledEvents,
  type SettledEvent,
  type StreamPosition,
} from '../events/settled.ts';
import { fromPublicId } from '../ids.ts';
import { eventLeafHash } from './event-leaf.ts';
import {
  insertLeaves,
  insertNodes,
  type LeafRow,
  type LogState,
  type NodeRow,
  readLogStates,
  readSealerCursor,
  writeLogStates,
  writeSealerCursor,
} from './log-store.ts';
import { CompactRange } from './merkle.ts';

/** Taken per sealing transaction, so two sealers (a second server, the CLI) take turns instead of colliding. */
const SEAL_TRANSACTION_LOCK = 0x61756469746c6e10n;

export const DEFAULT_SEAL_BATCH = 2000;

export interface SealOptions {
  /** Events per transaction. */
  batch?: number;
  /** Stop after this many transactions even if more events are settled (default: until caught up). */
  maxBatches?: number;
  /** Stop between batches once aborted (a server shutting down). */
  signal?: AbortSignal;
}

export interface SealResult {
  /** Events that became leaves. */
  sealed: number;
  batches: number;
  /** Organizations whose logs grew. */
  organizations: number;
  /** False when `maxBatches` stopped it with settled events left. */
  caughtUp: boolean;
  ms: number;
}

/**
 * Seals every settled event not sealed yet, in stream order, one transaction per batch: leaves,
 * subtree nodes, log states and the cursor commit together, so a crash means redoing a batch, never a
 * leaf twice (merkle_leaves' unique event_id and primary key would refuse it anyway). Also the
 * benchmark's measure of sealing throughput.
 */
export async function sealPending(db: Database, options: SealOptions = {}): Promise<SealResult> {
  const batch = options.batch ?? DEFAULT_SEAL_BATCH;
  const started = performance.now();
  const organizations = new Set<string>();
  let sealed = 0;
  let batches = 0;
  let ahead: Promise<ReadAhead | null> | null = null;
  for (;;) {
    if ((options.maxBatches !== undefined && batches >= options.maxBatches) || options.signal?.aborted) {
      return { sealed, batches, organizations: organizations.size, caughtUp: false, ms: elapsed(started) };
    }
    const readAhead: ReadAhead | null = ahead ? await ahead : null;
    ahead = null;
    const outcome = await sealBatch(db, batch, {
      readAhead,
      // While this batch is hashed and written, the next one is read on another connection.
      onRead: (last) => {
        if (options.maxBatches !== batches + 1) ahead = readNext(db, last, batch);
      },
    });
    if (outcome.sealed > 0) batches += 1;
    sealed += outcome.sealed;
    for (const organization of outcome.organizations) organizations.add(organization);
    if (outcome.sealed < batch) {
      return { sealed, batches, organizations: organizations.size, caughtUp: true, ms: elapsed(started) };
    }
    // PGlite answers without I/O: yield so a long backlog does not starve requests on the event loop.
    await new Promise((resolve) => setImmediate(resolve));
  }
}

const elapsed = (started: number) => Math.round(performance.now() - started);

/** Settled events read ahead of the transaction that will seal them, valid only if the cursor is still `after`. */
interface ReadAhead {
  after: StreamPosition;
  settled: SettledEvent[];
}

async function readNext(db: Database, after: StreamPosition, limit: number): Promise<ReadAhead | null> {
  try {
    const settled = await db.transaction(async (txn) => {
      const tx = txn as unknown as Database;
      await preferIndexOrder(tx);
      return readSettledEvents(tx, undefined, after, limit);
    });
    return { after, settled };
  } catch {
    return null; // the transaction reads for itself
  }
}

/** Seals up to `limit` settled events in one transaction; returns how many and for which organizations. */
export async function sealBatch(
  db: Database,
  limit: number,
  options: { readAhead?: ReadAhead | null; onRead?: (last: StreamPosition) => void } = {},
): Promise<{ sealed: number; organizations: string[] }> {
  return db.transaction(async (txn) => {
    const tx = txn as unknown as Database;
    await tx.execute(sql`select pg_advisory_xact_lock(${SEAL_TRANSACTION_LOCK.toString()}::bigint)`);
    await preferIndexOrder(tx);
    const cursor = await readSealerCursor(tx);
    const { readAhead } = options;
    // Settled rows never change, so rows read ahead from this very cursor are what reading now would give,
    // up to the newer rows that settled since (left for the next batch).
    const settled =
      readAhead && samePosition(readAhead.after, cursor) && readAhead.settled.length > 0
        ? readAhead.settled
        : await readSettledEvents(tx, undefined, cursor, limit);
    if (settled.length === 0) return { sealed: 0, organizations: [] };
    if (settled.length === limit) options.onRead?.(settled[settled.length - 1]!.position);

    const byOrganization = groupByOrganization(settled);
    const states = new Map(
      (await readLogStates(tx, [...byOrganization.keys()])).map((state) => [state.organizationId, state]),
    );
    const leaves: LeafRow[] = [];
    const nodes: NodeRow[] = [];
    const updated: LogState[] = [];
    for (const [organizationId, items] of byOrganization) {
      const previous = states.get(organizationId);
      const range = previous ? CompactRange.fromJSON(previous.compactRange) : CompactRange.empty();
      let sealedThrough = previous?.sealedThrough ?? null;
      for (const { position, event } of items) {
        const leafIndex = range.size;
        const leafHash = hashOf(event);
        range.append(leafHash, (subtree, hash) => {
          if (subtree.level > 0) nodes.push({ organizationId, ...subtree, hash });
        });
        leaves.push({
          organizationId,
          leafIndex,
          eventId: fromPublicId('evt', event.id)!,
          receivedAt: event.receivedAt,
          xid: position.xid,
          leafHash,
        });
        if (!sealedThrough || event.receivedAt > sealedThrough) sealedThrough = event.receivedAt;
      }
      updated.push({ organizationId, treeSize: range.size, compactRange: range.toJSON(), sealedThrough });
    }
    await insertLeaves(tx, leaves);
    await insertNodes(tx, nodes);
    await writeLogStates(tx, updated);
    await writeSealerCursor(tx, settled[settled.length - 1]!.position);
    return { sealed: settled.length, organizations: [...byOrganization.keys()] };
  });
}

function groupByOrganization(settled: SettledEvent[]): Map<string, SettledEvent[]> {
  const groups = new Map<string, SettledEvent[]>();
  for (const item of settled) {
    const organizationId = fromPublicId('org', item.event.organizationId)!;
    const group = groups.get(organizationId);
    if (group) group.push(item);
    else groups.set(organizationId, [item]);
  }
  return groups;
}

function hashOf(event: SettledEvent['event']): Uint8Array {
  try {
    return eventLeafHash(event);
  } catch (error) {
    // Stalling is deliberate: skipping would leave an event outside the log. The lag makes it visible.
    throw new Error(`cannot seal event ${event.id}: ${(error as Error).message}`);
  }
}

const samePosition = (a: StreamPosition, b: StreamPosition) => a.xid === b.xid && a.id === b.id;
