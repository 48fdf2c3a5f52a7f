import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type App, buildApp } from '../../src/app.ts';
import { writeBatch } from '../../src/events/writer.ts';
import { createLogger } from '../../src/logger.ts';
import { backends } from '../support/backends.ts';
import { createTestApp, type TestApp, testConfig } from '../support/test-app.ts';
import { openStream, type StreamEdge, wsUrl } from '../support/ws-client.ts';
import {
  expectStrictStreamOrder,
  prepared,
  sleep,
  storedInStreamOrder,
  untilSubscribed,
  writeMarker,
} from './support.ts';

/** Small seeded generator, so a failing schedule can be replayed. */
function seeded(seed: number) {
  let state = seed >>> 0;
  return (below: number) => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = Math.imul(state ^ (state >>> 15), 1 | state);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), 61 | mixed);
    return ((mixed ^ (mixed >>> 14)) >>> 0) % below;
  };
}

describe.each(backends())('resuming streams on $name', (backend) => {
  let t: TestApp;
  let port: number;
  beforeAll(async () => {
    t = await createTestApp(backend);
    port = await t.app.start(0);
  });
  afterAll(() => t.close());

  it('a client cut off at 100 random points and resumed from its last cursor gets every event exactly once', async () => {
    const random = seeded(3);
    const producerRandom = seeded(4);
    const tenant = await t.tenant();
    const organization = tenant.organization.id;
    await writeBatch(
      t.database.db,
      Array.from({ length: 30 }, () => prepared(organization)),
    );
    let producing = true;
    const producer = (async () => {
      while (producing) {
        await writeBatch(
          t.database.db,
          Array.from({ length: 1 + producerRandom(2) }, () => prepared(organization)),
        );
        await sleep(2 + producerRandom(10));
      }
    })();

    const received: StreamEdge[] = [];
    let cursor: string | null = null;
    for (let attempt = 0; attempt < 100; attempt += 1) {
      const stream = openStream(
        wsUrl(port),
        tenant.key.secret,
        cursor ? { after: cursor } : { from: 'BEGINNING' },
      );
      const take = random(5);
      if (take > 0) await stream.waitFor(take);
      else await sleep(random(3));
      await stream.dispose();
      received.push(...stream.edges);
      cursor = received.at(-1)?.cursor ?? cursor;
    }
    producing = false;
    await producer;
    const marker = await writeMarker(t.database.db, organization);
    const last = openStream(wsUrl(port), tenant.key.secret, { after: cursor });
    await expect.poll(() => last.edges.at(-1)?.node.id, { timeout: 10_000, interval: 5 }).toBe(marker);
    await last.dispose();
    received.push(...last.edges);
    // Every one of the 101 server-side subscriptions was cleaned up, however abruptly its client left.
    await untilSubscribed(t.app.services.stream, 0);

    expectStrictStreamOrder(received);
    expect(received.map((edge) => edge.node.id)).toEqual(
      await storedInStreamOrder(t.database.db, organization),
    );
  }, 120_000);

  it('closes a consumer that stops reading with 4413, leaves the others alone, and it resumes without loss', async () => {
    const streamApp: App = buildApp({
      config: testConfig({ STREAM_MAX_LAG_EVENTS: '20' }),
      database: t.database,
      logger: createLogger('silent'),
      runBackgroundWorkers: false,
    });
    const streamPort = await streamApp.start(0);
    try {
      const tenant = await t.tenant();
      const organization = tenant.organization.id;
      const sockets: WebSocket[] = [];
      class RecordedWebSocket extends WebSocket {
        constructor(...args: ConstructorParameters<typeof WebSocket>) {
          super(...args);
          sockets.push(this);
        }
      }
      const query = `subscription($after: String) { eventStream(after: $after) { cursor node { id metadata } } }`;
      const slow = openStream(
        wsUrl(streamPort),
        tenant.key.secret,
        {},
        { query, webSocketImpl: RecordedWebSocket },
      );
      const fast = openStream(wsUrl(streamPort), tenant.key.secret, {}, { query });
      await untilSubscribed(streamApp.services.stream, 2);
      sockets[0]!.pause();

      // About 9 MB: more than the kernel buffers between the server and the paused client hold.
      const big = 'x'.repeat(30_000);
      for (let batch = 0; batch < 15; batch += 1) {
        const events = Array.from({ length: 20 }, () => ({ ...prepared(organization), metadata: { big } }));
        await writeBatch(t.database.db, events);
      }
      await expect
        .poll(() => streamApp.services.stream.subscriptionCount, { timeout: 20_000, interval: 20 })
        .toBe(1);
      sockets[0]!.resume();
      expect(await slow.outcome).toMatchObject({ kind: 'closed', code: 4413 });
      expect(((await slow.outcome) as { reason: string }).reason).toMatch(/resume with the last cursor/);

      const marker = await writeMarker(t.database.db, organization);
      const resumed = openStream(
        wsUrl(streamPort),
        tenant.key.secret,
        { after: slow.edges.at(-1)?.cursor ?? null },
        { query },
      );
      await expect.poll(() => resumed.edges.at(-1)?.node.id, { timeout: 10_000, interval: 5 }).toBe(marker);
      await expect.poll(() => fast.edges.at(-1)?.node.id, { timeout: 10_000, interval: 5 }).toBe(marker);
      const stored = await storedInStreamOrder(t.database.db, organization);
      expect([...slow.edges, ...resumed.edges].map((edge) => edge.node.id)).toEqual(stored);
      expect(fast.edges.map((edge) => edge.node.id)).toEqual(stored);
      await Promise.all([resumed.dispose(), fast.dispose(), slow.dispose()]);
    } finally {
      await streamApp.stop();
    }
  }, 120_000);
});
