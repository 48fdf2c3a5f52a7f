import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.ts';
import { type DatabaseHandle, openDatabase } from '../../src/db/client.ts';
import { writeBatch } from '../../src/events/writer.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';
import { openStream, wsUrl } from '../support/ws-client.ts';
import { describeOnPostgres, prepared, publicIds, untilSubscribed, writeMarker } from './support.ts';

describeOnPostgres('out-of-order commits on $name', (backend) => {
  let t: TestApp;
  let writers: DatabaseHandle;
  let port: number;
  beforeAll(async () => {
    t = await createTestApp(backend);
    port = await t.app.start(0);
    writers = await openDatabase(backend.config);
  });
  afterAll(async () => {
    await writers.close();
    await t.close();
  });

  it('holds back a committed event until an older open transaction settles, then delivers both once, in order', async () => {
    const hub = t.app.services.stream;
    const tenant = await t.tenant();
    const stream = openStream(wsUrl(port), tenant.key.secret);
    await untilSubscribed(hub, 1);

    const first = prepared(tenant.organization.id, 'doc.first');
    const second = prepared(tenant.organization.id, 'doc.second');
    let commitFirst!: () => void;
    let firstInserted!: () => void;
    const inserted = new Promise<void>((resolve) => {
      firstInserted = resolve;
    });
    const transactionA = writers.db.transaction(async (tx) => {
      await writeBatch(tx as unknown as Database, [first]);
      firstInserted();
      await new Promise<void>((resolve) => {
        commitFirst = resolve;
      });
    });
    await inserted;
    await writeBatch(writers.db, [second]);

    // A shared read that started after B committed has run to completion, and found nothing deliverable.
    const readsBefore = hub.stats.sharedReads;
    await expect
      .poll(() => hub.stats.sharedReads, { timeout: 10_000, interval: 5 })
      .toBeGreaterThan(readsBefore);
    await hub.whenIdle();
    expect(stream.edges).toEqual([]);

    commitFirst();
    await transactionA;
    const marker = await writeMarker(writers.db, tenant.organization.id);
    await stream.waitFor(3);
    expect(stream.edges.map((edge) => edge.node.id)).toEqual([...publicIds([first, second]), marker]);
    await stream.dispose();
  });
});
