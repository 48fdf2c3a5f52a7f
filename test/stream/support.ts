import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.ts';
import { rowsOf } from '../../src/db/rows.ts';
import { type PreparedEvent, prepareEvent } from '../../src/events/emit-input.ts';
import { decodeStreamCursor } from '../../src/events/settled.ts';
import { writeBatch } from '../../src/events/writer.ts';
import { fromPublicId, toPublicId, uuidv7 } from '../../src/ids.ts';
import { comparePositions } from '../../src/stream/horizon.ts';
import type { StreamHub } from '../../src/stream/stream-hub.ts';
import { type Backend, postgresOnly } from '../support/backends.ts';
import type { StreamEdge } from '../support/ws-client.ts';

/** An event ready for `writeBatch`, for tests that write inside transactions they control. */
export function prepared(organizationId: string, action = 'doc.viewed'): PreparedEvent {
  const result = prepareEvent(
    { action, actor: { id: 'usr_1' } },
    { id: uuidv7(), organizationId: fromPublicId('org', organizationId)! },
    new Date(),
  );
  if (!result.ok) throw new Error(result.error.message);
  return result.event;
}

export const publicIds = (events: PreparedEvent[]) => events.map((event) => toPublicId('evt', event.id));

/** Writes one event in its own transaction; it lands after everything committed before. */
export async function writeMarker(db: Database, organizationId: string): Promise<string> {
  const marker = prepared(organizationId, 'test.marker');
  await writeBatch(db, [marker]);
  return toPublicId('evt', marker.id);
}

/** The organization's stored events in stream order, as the database sees it. */
export async function storedInStreamOrder(db: Database, organizationId: string): Promise<string[]> {
  const rows = rowsOf<{ id: string }>(
    await db.execute(
      sql`select id::text from events where organization_id = ${fromPublicId('org', organizationId)}::uuid order by xid, id`,
    ),
  );
  return rows.map((row) => toPublicId('evt', row.id));
}

/** Every cursor strictly after the one before it, and no event twice. */
export function expectStrictStreamOrder(edges: StreamEdge[]) {
  const positions = edges.map((edge) => decodeStreamCursor(edge.cursor));
  for (let index = 1; index < positions.length; index += 1) {
    expect(comparePositions(positions[index - 1]!, positions[index]!)).toBeLessThan(0);
  }
  expect(new Set(edges.map((edge) => edge.node.id)).size).toBe(edges.length);
}

/** Waits until the server holds `count` open streams, i.e. each one's start position is fixed. */
export async function untilSubscribed(hub: StreamHub, count: number) {
  await expect.poll(() => hub.subscriptionCount, { timeout: 10_000, interval: 5 }).toBe(count);
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Spends this much of the process's CPU: stands for executing, serializing and writing a message. */
export function busyFor(microseconds: number) {
  const until = performance.now() + microseconds / 1000;
  while (performance.now() < until) {}
}

/** A suite that needs a real PostgreSQL server (several connections or processes); skipped without DATABASE_URL. */
export function describeOnPostgres(title: string, body: (backend: Backend) => void) {
  const list = postgresOnly();
  if (list.length > 0) describe.each(list)(title, body);
  else
    describe.skip(`${title.replace(' $name', '')} (set DATABASE_URL to run)`, () =>
      it('needs PostgreSQL', () => {}));
}
