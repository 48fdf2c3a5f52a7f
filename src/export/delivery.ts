import { createHash } from 'node:crypto';
import { and, eq, sql } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import { events } from '../db/tables.ts';
import { readSettledEvents, type SettledEvent, type StreamPosition } from '../events/settled.ts';
import type { OutboundConnector } from '../network/connector.ts';
import type { ActionRuleOverride } from './action-mapping.ts';
import { actionOverridesFor } from './action-mapping-store.ts';
import { retryDelay } from './backoff.ts';
import {
  type Destination,
  destinationFromRow,
  destinationWhere,
  findDestination,
} from './destination-store.ts';
import { createTransport } from './destinations/index.ts';
import { DeliveryError, type OutgoingBatch, type Transport } from './destinations/transport.ts';
import { formatEvent } from './formats/index.ts';
import type { SecretBox } from './secrets.ts';
import { destinations } from './tables.ts';

export interface DeliverySettings {
  batchSize: number;
  retryBaseMs: number;
  retryMaxMs: number;
  /** Consecutive failures after which a destination shows FAILING. */
  failingAfter: number;
  timeoutMs: number;
}

/** Transports outlive one batch (a Sentinel token is reused); rebuilt when the destination changes. */
export class TransportCache {
  private readonly cache = new Map<string, { version: number; transport: Transport }>();

  constructor(
    private readonly secrets: SecretBox,
    private readonly timeoutMs: number,
    private readonly connector: OutboundConnector,
  ) {}

  get(destination: Destination): Transport {
    const cached = this.cache.get(destination.uuid);
    if (cached && cached.version === destination.updatedAt.getTime()) return cached.transport;
    const transport = createTransport(destination.type, {
      destinationUuid: destination.uuid,
      url: destination.url,
      format: destination.format,
      options: destination.options,
      secret: destination.sealedSecret ? this.secrets.open(destination.sealedSecret) : null,
      timeoutMs: this.timeoutMs,
      connector: this.connector,
    });
    this.cache.set(destination.uuid, { version: destination.updatedAt.getTime(), transport });
    return transport;
  }
}

/**
 * The records of `settled`, cut to what the transport takes in one request (one event at least),
 * formatted with the organization's action mapping overrides.
 */
export function buildBatch(
  destination: Destination,
  settled: SettledEvent[],
  transport: Transport,
  actionOverrides: readonly ActionRuleOverride[] = [],
): OutgoingBatch {
  const records: string[] = [];
  let bytes = 0;
  const limit = Math.min(settled.length, transport.maxBatchEvents ?? settled.length);
  for (let index = 0; index < limit; index++) {
    const record = formatEvent(destination.format, settled[index]!.event, { actionOverrides });
    bytes += Buffer.byteLength(record) + 64;
    if (records.length > 0 && bytes > transport.maxBatchBytes) break;
    records.push(record);
  }
  const included = settled.slice(0, records.length).map((entry) => entry.event);
  const id = createHash('sha256')
    .update(`${destination.uuid}/${included[0]!.id}/${included.at(-1)!.id}`)
    .digest('hex')
    .slice(0, 32);
  return {
    id,
    destinationId: destination.id,
    organizationId: destination.organizationId,
    format: destination.format,
    events: included,
    records,
    actionOverrides,
  };
}

const notAfter = (position: StreamPosition) =>
  sql`(${events.xid}, ${events.id}) <= (${position.xid}::xid8, ${position.id}::uuid)`;

const comparePositions = (a: StreamPosition, b: StreamPosition) => {
  const byXid = BigInt(a.xid) - BigInt(b.xid);
  if (byXid !== 0n) return byXid < 0n ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
};

export type DeliveryOutcome =
  | { kind: 'caught-up'; delivered: number }
  | { kind: 'more'; delivered: number }
  | { kind: 'failed'; delivered: number; error: string }
  | { kind: 'skipped' };

/**
 * Sends a destination's settled events after its cursor, batch by batch, moving the cursor only
 * after the receiver acknowledged a batch. Call it holding the destination's lease (`claimLease`),
 * which it renews before each further batch: the cursor is read fresh here, after the claim.
 */
export async function deliverPending(
  db: Database,
  uuid: string,
  transports: TransportCache,
  settings: DeliverySettings,
  leaseOwner: string | null = null,
  maxBatches = 20,
  now = () => new Date(),
): Promise<DeliveryOutcome> {
  let destination = await findDestination(db, uuid);
  if (!destination || destination.status === 'PAUSED') return { kind: 'skipped' };
  if (destination.nextAttemptAt && destination.nextAttemptAt > now()) return { kind: 'skipped' };
  let delivered = 0;
  for (let round = 0; round < maxBatches; round++) {
    if (round > 0 && leaseOwner && !(await claimLease(db, uuid, leaseOwner, leaseDuration(settings)))) {
      return { kind: 'skipped' };
    }
    let transport: Transport;
    let settled: SettledEvent[];
    let actionOverrides: ActionRuleOverride[];
    try {
      transport = transports.get(destination);
      const through = destination.resendThrough;
      settled = await readSettledEvents(
        db,
        and(destinationWhere(destination), through ? notAfter(through) : undefined),
        destination.cursor,
        settings.batchSize,
      );
      actionOverrides = settled.length > 0 ? await actionOverridesFor(db, destination.organizationUuid) : [];
    } catch (error) {
      // A destination that cannot even be read (an undecryptable secret, say) fails like a send would.
      const failure = new DeliveryError((error as Error).message, { mayHaveDelivered: false });
      await recordFailure(db, destination, failure, null, settings, now());
      return { kind: 'failed', delivered, error: failure.message };
    }
    if (settled.length === 0) {
      if (destination.resendThrough) await clearResend(db, destination);
      return { kind: 'caught-up', delivered };
    }
    const batch = buildBatch(destination, settled, transport, actionOverrides);
    const last = settled[batch.events.length - 1]!.position;
    try {
      await transport.send(batch);
    } catch (error) {
      const failure =
        error instanceof DeliveryError
          ? error
          : new DeliveryError(String((error as Error).message ?? error), { mayHaveDelivered: true });
      const uncertain = failure.mayHaveDelivered ? { through: last, events: batch.events.length } : null;
      await recordFailure(db, destination, failure, uncertain, settings, now());
      return { kind: 'failed', delivered, error: failure.message };
    }
    const moved = await recordSuccess(db, destination, last, batch.events.length);
    if (!moved) return { kind: 'skipped' };
    destination = moved;
    delivered += batch.events.length;
    if (destination.status === 'PAUSED') return { kind: 'caught-up', delivered };
  }
  return { kind: 'more', delivered };
}

/** Moves the cursor, provided nobody else moved it meanwhile; null when the destination is gone or moved. */
async function recordSuccess(
  db: Database,
  destination: Destination,
  last: StreamPosition,
  count: number,
): Promise<Destination | null> {
  const through = destination.resendThrough;
  const resendDone = !through || comparePositions(last, through) >= 0;
  const [row] = await db
    .update(destinations)
    .set({
      cursorXid: last.xid,
      cursorId: last.id,
      deliveredCount: sql`${destinations.deliveredCount} + ${count}`,
      attempts: 0,
      nextAttemptAt: null,
      lastSuccessAt: sql`now()`,
      status: sql`case when ${destinations.status} = 'FAILING' then 'ACTIVE' else ${destinations.status} end`,
      ...(resendDone ? { resendThroughXid: null, resendThroughId: null } : {}),
    })
    .where(
      and(
        eq(destinations.id, destination.uuid),
        sql`${destinations.cursorXid} = ${destination.cursor.xid}::xid8`,
        eq(destinations.cursorId, destination.cursor.id),
      ),
    )
    .returning();
  return row ? destinationFromRow(row) : null;
}

async function recordFailure(
  db: Database,
  destination: Destination,
  error: DeliveryError,
  uncertain: { through: StreamPosition; events: number } | null,
  settings: DeliverySettings,
  now: Date,
): Promise<void> {
  const attempts = destination.attempts + 1;
  const delay = retryDelay(
    attempts,
    { baseMs: settings.retryBaseMs, maxMs: settings.retryMaxMs },
    error.retryAfterMs,
  );
  const through = destination.resendThrough ?? uncertain?.through ?? null;
  await db
    .update(destinations)
    .set({
      attempts: sql`${destinations.attempts} + 1`,
      nextAttemptAt: new Date(now.getTime() + delay),
      lastError: error.message.slice(0, 2000),
      lastErrorAt: now,
      status:
        attempts >= settings.failingAfter
          ? sql`case when ${destinations.status} = 'PAUSED' then 'PAUSED' else 'FAILING' end`
          : sql`${destinations.status}`,
      // Each attempt that may have reached the receiver may leave a copy there: all will be resent.
      duplicatesCount: sql`${destinations.duplicatesCount} + ${uncertain?.events ?? 0}`,
      resendThroughXid: through?.xid ?? null,
      resendThroughId: through?.id ?? null,
    })
    .where(eq(destinations.id, destination.uuid));
}

async function clearResend(db: Database, destination: Destination): Promise<void> {
  await db
    .update(destinations)
    .set({ resendThroughXid: null, resendThroughId: null })
    .where(eq(destinations.id, destination.uuid));
}

/**
 * Claims (or extends) the right to deliver a destination for `leaseMs`: one worker at a time, across
 * every server on the database, and no connection is held while a receiver takes its time. Should a
 * lease run out mid-send, the cursor update below still only succeeds for one of the two workers.
 */
export async function claimLease(
  db: Database,
  uuid: string,
  owner: string,
  leaseMs: number,
): Promise<boolean> {
  const claimed = await db
    .update(destinations)
    .set({ leaseOwner: owner, leaseExpiresAt: sql`now() + ${`${leaseMs} milliseconds`}::interval` })
    .where(
      and(
        eq(destinations.id, uuid),
        sql`(${destinations.leaseExpiresAt} is null or ${destinations.leaseExpiresAt} < now() or ${destinations.leaseOwner} = ${owner})`,
      ),
    )
    .returning({ id: destinations.id });
  return claimed.length > 0;
}

export async function releaseLease(db: Database, uuid: string, owner: string): Promise<void> {
  await db
    .update(destinations)
    .set({ leaseOwner: null, leaseExpiresAt: null })
    .where(and(eq(destinations.id, uuid), eq(destinations.leaseOwner, owner)));
}

/** Long enough for the slowest send (a Splunk acknowledgement may take a minute), renewed every batch. */
export const leaseDuration = (settings: DeliverySettings) => Math.max(120_000, settings.timeoutMs * 4);
