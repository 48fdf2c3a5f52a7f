import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { BackgroundWorker } from '../background.ts';
import type { DatabaseHandle } from '../db/client.ts';
import { rowsOf } from '../db/rows.ts';
import { EVENTS_CHANNEL } from '../events/writer.ts';
import type { Logger } from '../logger.ts';
import { claimLease, deliverPending, leaseDuration, releaseLease } from './delivery.ts';
import type { ExportService } from './service.ts';
import { destinations } from './tables.ts';

export interface DeliveryWorker extends BackgroundWorker {
  /** Look for work now (for every organization, or just these uuids). */
  wake(organizationUuids?: string[]): void;
}

/**
 * Delivers every active destination's backlog. Wakes on the events NOTIFY (only for the organizations
 * it names), when a failed destination's retry falls due, and on a periodic tick. Each destination
 * is delivered under a lease (a row-level claim), so across instances only one delivers it at a time.
 */
export function createDeliveryWorker(
  database: DatabaseHandle,
  exports: ExportService,
  logger: Logger,
  concurrency = 2,
): DeliveryWorker {
  let pending: Set<string> | 'all' = 'all';
  let stopped = true;
  let loop: Promise<void> | undefined;
  let unlisten: (() => Promise<void>) | undefined;
  let alarm: (() => void) | undefined;

  const hasPending = () => pending === 'all' || pending.size > 0;

  function wake(organizationUuids?: string[]) {
    if (!organizationUuids) pending = 'all';
    else if (pending !== 'all') for (const uuid of organizationUuids) pending.add(uuid);
    alarm?.();
  }

  async function dueDestinations(scope: Set<string> | 'all') {
    const organizations = scope === 'all' ? null : [...scope];
    if (organizations?.length === 0) return [];
    return rowsOf<{ id: string; organization_id: string }>(
      await database.db.execute(sql`
        select id, organization_id from ${destinations}
        where status <> 'PAUSED' and (next_attempt_at is null or next_attempt_at <= now())
        ${organizations ? sql`and organization_id = any(${`{${organizations.join(',')}}`}::uuid[])` : sql``}
        order by next_attempt_at nulls first, id`),
    );
  }

  async function nextDueInMs(): Promise<number> {
    const [row] = rowsOf<{ wait_ms: number | string | null }>(
      await database.db.execute(sql`
        select extract(epoch from min(next_attempt_at) - now()) * 1000 as wait_ms from ${destinations}
        where status <> 'PAUSED' and next_attempt_at > now()`),
    );
    const wait =
      row?.wait_ms === null || row?.wait_ms === undefined ? Number.POSITIVE_INFINITY : Number(row.wait_ms);
    return Math.max(10, Math.min(exports.delivery.tickMs, Math.ceil(wait)));
  }

  const owner = randomUUID();

  async function deliverOne(id: string, organizationUuid: string) {
    const db = database.db;
    if (!(await claimLease(db, id, owner, leaseDuration(exports.delivery)))) return;
    try {
      const outcome = await deliverPending(db, id, exports.transports, exports.delivery, owner);
      if (outcome.kind === 'more') wake([organizationUuid]);
      if (outcome.kind === 'failed')
        logger.warn('export delivery failed', { destination: id, error: outcome.error });
    } finally {
      await releaseLease(db, id, owner);
    }
  }

  async function round(scope: Set<string> | 'all') {
    const due = await dueDestinations(scope);
    let next = 0;
    const lane = async () => {
      while (!stopped && next < due.length) {
        const { id, organization_id } = due[next++]!;
        await deliverOne(id, organization_id).catch((error) =>
          logger.error('export delivery crashed', { destination: id, error: String(error) }),
        );
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, due.length) }, lane));
  }

  async function run() {
    while (!stopped) {
      const scope = pending;
      pending = new Set();
      try {
        await round(scope);
      } catch (error) {
        logger.error('export delivery round failed', { error: String(error) });
      }
      if (stopped || hasPending()) continue;
      const wait = await nextDueInMs().catch(() => exports.delivery.tickMs);
      if (stopped || hasPending()) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, wait);
        alarm = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      alarm = undefined;
      if (!hasPending()) pending = 'all';
    }
  }

  return {
    name: 'export delivery',
    wake,
    start() {
      if (!stopped) return;
      stopped = false;
      pending = 'all';
      loop = run();
      database
        .listen(
          EVENTS_CHANNEL,
          (payload) => wake(payload === '*' ? undefined : payload.split(',')),
          () => wake(),
        )
        .then((stop) => {
          if (stopped) void stop();
          else unlisten = stop;
        })
        .catch((error) =>
          logger.warn('export delivery runs on its tick only: LISTEN failed', { error: String(error) }),
        );
    },
    async stop() {
      stopped = true;
      alarm?.();
      await loop;
      await unlisten?.();
      unlisten = undefined;
    },
  };
}
