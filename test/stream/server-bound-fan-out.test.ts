import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileEventWhere } from '../../src/events/filter.ts';
import { STREAM_BEGINNING } from '../../src/events/settled.ts';
import { writeBatch } from '../../src/events/writer.ts';
import { fromPublicId } from '../../src/ids.ts';
import { createLogger } from '../../src/logger.ts';
import { defaultStreamOptions, StreamHub } from '../../src/stream/stream-hub.ts';
import type { StreamSubscription } from '../../src/stream/subscription.ts';
import { backends } from '../support/backends.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';
import { busyFor, prepared, writeMarker } from './support.ts';

const MOVING = 8;
const EVENTS = 300;

describe.each(backends())(
  'a group whose subscribers the server cannot feed fast enough, on $name',
  (backend) => {
    let t: TestApp;
    let hub: StreamHub;
    beforeAll(async () => {
      t = await createTestApp(backend);
      // Pages of 10 and a 20 ms stall: consumers that spend 1 ms of this process's CPU on each event (a
      // server too busy to feed them, served a slice at a time) are full after every page, all alike.
      hub = new StreamHub(t.database, createLogger('silent'), {
        ...defaultStreamOptions,
        pageSize: 10,
        maxLag: 100,
        stallMs: 20,
        tickMs: 20,
        // The streams carry a made-up key id: a key check would end them as revoked mid-test.
        keyRecheckMs: 10 * 60_000,
      });
    });
    afterAll(async () => {
      await hub.stop();
      await t.close();
    });

    it('waits for members that are all slow but moving, and lets go of one that took nothing', async () => {
      const { organization } = await t.tenant();
      const uuid = fromPublicId('org', organization.id)!;
      const open = () =>
        hub.open({
          keyId: 'key_test',
          organizationUuid: uuid,
          where: compileEventWhere(uuid, null, null),
          after: STREAM_BEGINNING,
        });
      const received = Array.from({ length: MOVING }, () => [] as string[]);
      const moving = await Promise.all(Array.from({ length: MOVING }, open));
      const consumers = moving.map(async (subscription: StreamSubscription, index) => {
        for await (const { event } of subscription) {
          received[index]!.push(event.id);
          busyFor(1000);
        }
      });
      const stuck = await open();

      const first = await writeMarker(t.database.db, organization.id);
      await expect.poll(() => received.every((ids) => ids.includes(first)), { timeout: 10_000 }).toBe(true);

      const events = Array.from({ length: EVENTS }, () => prepared(organization.id));
      for (let start = 0; start < EVENTS; start += 50)
        await writeBatch(t.database.db, events.slice(start, start + 50));
      const last = await writeMarker(t.database.db, organization.id);
      await expect.poll(() => received.every((ids) => ids.at(-1) === last), { timeout: 60_000 }).toBe(true);

      // Left to catch up on their own, members as slow as these fell 100 events behind and were closed.
      for (const ids of received) expect(ids).toHaveLength(EVENTS + 2);
      expect(stuck.ended).toBe(true);
      for (const subscription of moving) await subscription.return();
      await Promise.all(consumers);
    }, 90_000);
  },
);
