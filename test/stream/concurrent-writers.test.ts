import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, type DatabaseHandle, openDatabase } from '../../src/db/client.ts';
import type { PreparedEvent } from '../../src/events/emit-input.ts';
import { writeBatch } from '../../src/events/writer.ts';
import { backends } from '../support/backends.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';
import { openStream, wsUrl } from '../support/ws-client.ts';
import {
  expectStrictStreamOrder,
  prepared,
  publicIds,
  sleep,
  storedInStreamOrder,
  untilSubscribed,
  writeMarker,
} from './support.ts';

const writerPlan = fc.record({
  events: fc.integer({ min: 1, max: 4 }),
  startAfterMs: fc.integer({ min: 0, max: 15 }),
  holdOpenMs: fc.integer({ min: 0, max: 25 }),
  aborts: fc.boolean(),
});

class Aborted extends Error {}

describe.each(backends())('concurrent writers on $name', (backend) => {
  let t: TestApp;
  let writers: DatabaseHandle;
  let port: number;
  beforeAll(async () => {
    t = await createTestApp(backend);
    port = await t.app.start(0);
    // PGlite is one connection, so its writers take turns; PostgreSQL gets a pool of its own.
    writers = backend.name === 'postgres' ? await openDatabase(backend.config) : t.database;
  });
  afterAll(async () => {
    if (writers !== t.database) await writers.close();
    await t.close();
  });

  it('delivers every committed event exactly once in cursor order, and never an aborted one', async () => {
    const hub = t.app.services.stream;
    await fc.assert(
      fc.asyncProperty(fc.array(writerPlan, { minLength: 1, maxLength: 8 }), async (plans) => {
        const tenant = await t.tenant();
        const stream = openStream(wsUrl(port), tenant.key.secret);
        await untilSubscribed(hub, 1);

        const write = async (plan: (typeof plans)[number]) => {
          const batch: PreparedEvent[] = Array.from({ length: plan.events }, () =>
            prepared(tenant.organization.id),
          );
          await sleep(plan.startAfterMs);
          try {
            await writers.db.transaction(async (tx) => {
              await writeBatch(tx as unknown as Database, batch);
              await sleep(plan.holdOpenMs);
              if (plan.aborts) throw new Aborted();
            });
            return batch;
          } catch (error) {
            if (error instanceof Aborted) return [];
            throw error;
          }
        };
        const committed = (await Promise.all(plans.map(write))).flat();
        const marker = await writeMarker(writers.db, tenant.organization.id);

        await stream.waitFor(committed.length + 1);
        await stream.dispose();
        await untilSubscribed(hub, 0);
        const received = stream.edges.map((edge) => edge.node.id);
        expect(received.at(-1)).toBe(marker);
        expect(new Set(received.slice(0, -1))).toEqual(new Set(publicIds(committed)));
        expect(received).toEqual(await storedInStreamOrder(t.database.db, tenant.organization.id));
        expectStrictStreamOrder(stream.edges);
      }),
      { numRuns: 12, seed: 20260401 },
    );
  }, 120_000);
});
