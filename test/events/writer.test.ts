import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventWriter } from '../../src/events/writer.ts';
import { prepared } from '../stream/support.ts';
import { postgresOnly } from '../support/backends.ts';
import { createTestApp, type Tenant, type TestApp } from '../support/test-app.ts';

/**
 * The group commit keeps one flush in flight for small writes (NOTIFY serializes commits anyway) and
 * a second one once a full batch of bulk writes is waiting (where index upkeep is the cost). Seen from
 * PostgreSQL: while a lock holds the inserts, how many of the writer's INSERTs wait on it.
 */
describe.each(postgresOnly())('group commit on $name', (backend) => {
  let t: TestApp;
  let tenant: Tenant;
  let blocker: postgres.Sql;
  let observer: postgres.Sql;

  beforeAll(async () => {
    t = await createTestApp(backend);
    tenant = await t.tenant();
    const url = (backend.config as { url: string }).url;
    blocker = postgres(url, { max: 1, onnotice: () => {} });
    observer = postgres(url, { max: 1, onnotice: () => {} });
  });
  afterAll(async () => {
    await Promise.all([blocker.end(), observer.end()]);
    await t.close();
  });

  const waitingInserts = async () => {
    const [row] = await observer`
      select count(*)::int as n from pg_stat_activity
      where wait_event_type = 'Lock' and query like 'with stored as (%insert into events%'`;
    return row!.n as number;
  };

  /** Holds inserts into events while `writes` queue up, and reports the most INSERTs seen waiting. */
  async function peakFlushes(writes: (writer: EventWriter) => Promise<unknown>[]): Promise<number> {
    const writer = new EventWriter(t.database);
    let peak = 0;
    let pending: Promise<unknown>[] = [];
    await blocker.begin(async (tx) => {
      await tx`lock table events in share mode`;
      pending = writes(writer);
      const until = Date.now() + 1500;
      while (Date.now() < until) {
        peak = Math.max(peak, await waitingInserts());
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    });
    await Promise.all(pending);
    await writer.drained();
    return peak;
  }

  it('keeps one flush in flight for single events', async () => {
    const peak = await peakFlushes((writer) =>
      Array.from({ length: 50 }, () => writer.write([prepared(tenant.organization.id)])),
    );
    expect(peak).toBe(1);
  });

  it('keeps one flush in flight for a thousand rows queued in small writes', async () => {
    const peak = await peakFlushes((writer) =>
      Array.from({ length: 300 }, () =>
        writer.write(Array.from({ length: 10 }, () => prepared(tenant.organization.id))),
      ),
    );
    expect(peak).toBe(1);
  });

  it('starts a second flush while a full batch of bulk writes waits', async () => {
    const batchOf = (n: number) => Array.from({ length: n }, () => prepared(tenant.organization.id));
    const peak = await peakFlushes((writer) => [
      writer.write(batchOf(1000)),
      writer.write(batchOf(1000)),
      writer.write(batchOf(1000)),
    ]);
    expect(peak).toBe(2);
  });
});
