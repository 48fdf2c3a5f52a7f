import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/client.ts';
import { claimLease, releaseLease } from '../../src/export/delivery.ts';
import { createDeliveryWorker } from '../../src/export/delivery-worker.ts';
import { createExportService } from '../../src/export/service.ts';
import { fromPublicId } from '../../src/ids.ts';
import { createLogger } from '../../src/logger.ts';
import { backends, postgresOnly } from '../support/backends.ts';
import { type TestApp, testConfig } from '../support/test-app.ts';
import {
  CREATE_DESTINATION,
  DESTINATION,
  FAST_DELIVERY,
  isolatedTestApp,
  LOOPBACK_DESTINATIONS,
  startDeliveryWorker,
} from './support/delivery.ts';
import { emitNumbered } from './support/emit.ts';
import { type HttpReceiver, startHttpReceiver, waitFor } from './support/receivers.ts';

const deliveredIds = (receiver: HttpReceiver) =>
  receiver.requests
    .filter((request) => request.status === 200)
    .flatMap(
      (request) => JSON.parse(request.body).data.events.map((event: { id: string }) => event.id) as string[],
    );

async function webhookDestination(t: TestApp, receiver: HttpReceiver) {
  const tenant = await t.tenant();
  const created = await tenant.gql(CREATE_DESTINATION, {
    input: {
      name: 'siem',
      type: 'WEBHOOK',
      url: `${receiver.url}/hook`,
      format: 'JSONL',
      secret: `whsec_${randomBytes(32).toString('base64')}`,
    },
  });
  expect(created.errors).toBeUndefined();
  return { tenant, id: created.data!.createDestination.id as string };
}

describe.each(backends())('delivery across restarts on $name', (backend) => {
  let t: TestApp;
  let receiver: HttpReceiver;
  beforeAll(async () => {
    t = await isolatedTestApp(backend);
    receiver = await startHttpReceiver();
  });
  afterAll(async () => {
    await receiver.close();
    await t.close();
  });

  it('leases a destination to one worker until it releases it or the lease runs out', async () => {
    const { id } = await webhookDestination(t, receiver);
    const uuid = fromPublicId('dst', id)!;
    const db = t.database.db;
    expect(await claimLease(db, uuid, 'worker-a', 60_000)).toBe(true);
    expect(await claimLease(db, uuid, 'worker-b', 60_000)).toBe(false);
    expect(await claimLease(db, uuid, 'worker-a', 60_000)).toBe(true);
    await releaseLease(db, uuid, 'worker-b');
    expect(await claimLease(db, uuid, 'worker-b', 60_000)).toBe(false);
    await releaseLease(db, uuid, 'worker-a');
    expect(await claimLease(db, uuid, 'worker-b', 1)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await claimLease(db, uuid, 'worker-a', 60_000)).toBe(true);
    await releaseLease(db, uuid, 'worker-a');
  });

  it('resumes from the stored cursor after the server stops: nothing skipped, nothing twice', async () => {
    const first = startDeliveryWorker(t, { DELIVERY_BATCH_SIZE: '10' });
    const { tenant, id } = await webhookDestination(t, receiver);
    const ids = await emitNumbered(tenant, 40);
    await waitFor(() => deliveredIds(receiver).length >= 20, 'some deliveries');
    await first.stop();
    ids.push(...(await emitNumbered(tenant, 30, 40)));
    const stopped = deliveredIds(receiver).length;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(deliveredIds(receiver)).toHaveLength(stopped);
    const second = startDeliveryWorker(t, { DELIVERY_BATCH_SIZE: '10' });
    try {
      await waitFor(() => deliveredIds(receiver).length >= 70, 'the rest after restart');
      expect(deliveredIds(receiver)).toEqual(ids);
      // The receiver has the last batch a moment before the worker records its acknowledgement.
      await expect
        .poll(async () => (await tenant.gql(DESTINATION, { id })).data!.destination, { timeout: 10_000 })
        .toMatchObject({ deliveredCount: 70, duplicatesCount: 0, lagEvents: 0 });
    } finally {
      await second.stop();
    }
  });
});

describe.each(postgresOnly())('two server instances on $name', (backend) => {
  let t: TestApp;
  let receiver: HttpReceiver;
  beforeAll(async () => {
    t = await isolatedTestApp(backend);
    receiver = await startHttpReceiver();
  });
  afterAll(async () => {
    await receiver.close();
    await t.close();
  });

  it('deliver each destination from one instance at a time', async () => {
    let inFlight = 0;
    let mostInFlight = 0;
    receiver.respond = (_request, res) => {
      inFlight += 1;
      mostInFlight = Math.max(mostInFlight, inFlight);
      setTimeout(() => {
        inFlight -= 1;
        res.writeHead(200).end('{}');
      }, 30);
    };
    const { tenant } = await webhookDestination(t, receiver);
    // A second server process: its own connections and worker, the same database.
    const otherHandle = await openDatabase({ kind: 'postgres', url: await databaseUrlOf(t), poolSize: 4 });
    const settings = { ...FAST_DELIVERY, ...LOOPBACK_DESTINATIONS, DELIVERY_BATCH_SIZE: '5' };
    const workers = [
      startDeliveryWorker(t, settings),
      createDeliveryWorker(otherHandle, createExportService(testConfig(settings)), createLogger('silent')),
    ];
    workers[1]!.start();
    try {
      const ids: string[] = [];
      for (let round = 0; round < 6; round++) ids.push(...(await emitNumbered(tenant, 10, round * 10)));
      await waitFor(() => deliveredIds(receiver).length >= 60, 'all deliveries');
      expect(deliveredIds(receiver)).toEqual(ids);
      expect(mostInFlight).toBe(1);
    } finally {
      for (const worker of workers) await worker.stop();
      await otherHandle.close();
    }
  });
});

async function databaseUrlOf(t: TestApp): Promise<string> {
  const [row] = await t.database.raw.query<{ name: string }>('select current_database() as name');
  const url = new URL(process.env.DATABASE_URL!);
  url.pathname = `/${row!.name}`;
  return url.toString();
}
