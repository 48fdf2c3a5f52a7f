import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromPublicId } from '../../src/ids.ts';
import { bytesEqual } from '../../src/integrity/bytes.ts';
import { eventLeafHash } from '../../src/integrity/event-leaf.ts';
import { readLogStates } from '../../src/integrity/log-store.ts';
import { CompactRange, rootHash } from '../../src/integrity/merkle.ts';
import { sealBatch, sealPending } from '../../src/integrity/sealer.ts';
import { backends } from '../support/backends.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';
import { emitEvents, eventsInStreamOrder, leavesOf, sealCommitted } from './support.ts';

describe.each(backends())('sealer on $name', (backend) => {
  let testApp: TestApp;

  beforeAll(async () => {
    testApp = await createTestApp(backend);
  });

  afterAll(async () => {
    await testApp.close();
  });

  /** Every stored event of the organization is exactly one leaf, leaves 0..n-1 follow stream order. */
  async function expectSealedExactlyOnce(organizationId: string, expectedCount: number) {
    const db = testApp.database.db;
    const stored = await eventsInStreamOrder(db, organizationId);
    const leaves = await leavesOf(db, organizationId);
    expect(stored).toHaveLength(expectedCount);
    expect(leaves.map((leaf) => leaf.leafIndex)).toEqual(stored.map((_, i) => i));
    expect(leaves.map((leaf) => leaf.eventId)).toEqual(stored.map((event) => event.id));
    for (const [i, leaf] of leaves.entries())
      expect(bytesEqual(leaf.leafHash, eventLeafHash(stored[i]!))).toBe(true);
    const [state] = await readLogStates(db, [fromPublicId('org', organizationId)!]);
    const range = CompactRange.fromJSON(state!.compactRange);
    expect(range.size).toBe(expectedCount);
    expect(bytesEqual(range.root(), rootHash(leaves.map((leaf) => leaf.leafHash)))).toBe(true);
  }

  it('gives every settled event exactly one leaf, in stream order per organization, under concurrent ingest', async () => {
    const tenants = [await testApp.tenant(), await testApp.tenant()];
    let ingesting = true;
    const sealing = (async () => {
      let sealed = 0;
      while (ingesting) {
        sealed += (await sealPending(testApp.database.db, { batch: 7 })).sealed;
        // PGlite answers from memory: let the requests in between.
        await new Promise((resolve) => setImmediate(resolve));
      }
      return sealed;
    })();
    const writes = Array.from({ length: 24 }, (_, i) =>
      emitEvents(tenants[i % 2]!, 5, (j) => ({ write: i, j })),
    );
    await Promise.all(writes);
    ingesting = false;
    await sealing;
    await sealCommitted(testApp.database.db);
    for (const tenant of tenants) await expectSealedExactlyOnce(tenant.organization.id, 60);
  });

  it('takes turns when two sealers run at once', async () => {
    const tenant = await testApp.tenant();
    await emitEvents(tenant, 40);
    const db = testApp.database.db;
    await Promise.all([sealPending(db, { batch: 5 }), sealPending(db, { batch: 3 }), sealCommitted(db)]);
    await expectSealedExactlyOnce(tenant.organization.id, 40);
  });

  it('stops after maxBatches or once aborted, and says it has not caught up', async () => {
    const tenant = await testApp.tenant();
    await emitEvents(tenant, 5);
    const db = testApp.database.db;
    await sealCommitted(db); // whatever else is pending on a shared server
    await emitEvents(tenant, 5);
    const aborted = new AbortController();
    aborted.abort();
    expect(await sealPending(db, { signal: aborted.signal })).toMatchObject({ sealed: 0, caughtUp: false });
    // On a shared server a transaction open elsewhere may hold our events unsettled for a moment.
    let partial = await sealPending(db, { batch: 2, maxBatches: 1 });
    for (let tries = 0; partial.sealed === 0 && tries < 400; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      partial = await sealPending(db, { batch: 2, maxBatches: 1 });
    }
    expect(partial).toMatchObject({ sealed: 2, batches: 1, caughtUp: false });
    await sealCommitted(db);
    await expectSealedExactlyOnce(tenant.organization.id, 10);
  });

  it('leaves nothing behind when a batch fails, and redoes it', async () => {
    const tenant = await testApp.tenant();
    await emitEvents(tenant, 6);
    const db = testApp.database.db;
    const crash = new Error('crash after sealing, before commit');
    await expect(
      db.transaction(async (tx) => {
        await sealBatch(tx as never, 10_000);
        throw crash;
      }),
    ).rejects.toBe(crash);
    expect(await leavesOf(db, tenant.organization.id)).toEqual([]);
    await sealCommitted(db);
    await expectSealedExactlyOnce(tenant.organization.id, 6);
  });

  it('seals rows written outside the app whose targets leave out optional fields', async () => {
    const tenant = await testApp.tenant();
    await emitEvents(tenant, 1);
    // As an import or a repair by hand might write it: no name, no metadata on the target.
    await testApp.database.raw.query(
      `insert into events (id, organization_id, action, actor_id, actor_type, targets, target_ids, target_types,
         metadata, search_text, occurred_at, received_at)
       values (gen_random_uuid(), $1, 'document.viewed', 'usr_1', 'user', '[{"id":"doc_1","type":"document"}]',
         '{doc_1}', '{document}', '{}', 'document.viewed', now(), now())`,
      [fromPublicId('org', tenant.organization.id)],
    );
    await sealCommitted(testApp.database.db);
    await expectSealedExactlyOnce(tenant.organization.id, 2);
    const stored = await eventsInStreamOrder(testApp.database.db, tenant.organization.id);
    expect(stored[1]!.targets).toEqual([{ id: 'doc_1', type: 'document', name: null, metadata: null }]);
  });
});
