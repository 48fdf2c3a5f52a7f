import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackgroundWorker } from '../../src/background.ts';
import { SEALER_THREAD_NICE } from '../../src/integrity/sealer-thread-protocol.ts';
import { sealerWorker } from '../../src/integrity/sealer-worker.ts';
import { createLogger } from '../../src/logger.ts';
import { backends } from '../support/backends.ts';
import { createTestApp, type Tenant, type TestApp, testConfig } from '../support/test-app.ts';
import { emitEvents, eventsInStreamOrder, leavesOf } from './support.ts';

const PROOFS_AND_LAG = /* GraphQL */ `
  query {
    events(first: 50) { edges { node { id proof { treeSize } } } }
    integrityStatus { lagEvents checkpoint { treeSize } }
  }
`;

/** Polls until `done` holds; the worker runs on its own schedule, so tests wait for outcomes, not for time. */
async function eventually<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function provenAgainst(
  value: { events: { edges: { node: { proof: { treeSize: number } | null } }[] } },
  treeSize: number,
) {
  return value.events.edges.every((edge) => edge.node.proof?.treeSize === treeSize);
}

describe.each(backends())('sealer worker on $name', (backend) => {
  let testApp: TestApp;
  let workers: BackgroundWorker[];

  beforeAll(async () => {
    testApp = await createTestApp(backend);
    // On PostgreSQL the sealer runs in a thread of its own, which connects with DATABASE_URL.
    const config = testConfig({
      CHECKPOINT_INTERVAL: '1',
      ...(backend.config.kind === 'postgres' ? { DATABASE_URL: backend.config.url } : {}),
    });
    const context = {
      config,
      database: testApp.database,
      services: testApp.app.services,
      logger: createLogger('silent'),
    };
    // Two instances, as with two servers on one database: one leads, the other stands by.
    workers = [sealerWorker(context), sealerWorker(context)];
    for (const worker of workers) worker.start();
  });

  afterAll(async () => {
    await Promise.all(workers.map((worker) => worker.stop()));
    await testApp.close();
  });

  async function state(tenant: Tenant) {
    const response = await tenant.gql<{
      events: { edges: { node: { proof: { treeSize: number } | null } }[] };
      integrityStatus: { lagEvents: number; checkpoint: { treeSize: number } | null };
    }>(PROOFS_AND_LAG);
    expect(response.errors).toBeUndefined();
    return response.data!;
  }

  it('seals new events as they arrive and checkpoints them, without being asked', async () => {
    const tenant = await testApp.tenant();
    await emitEvents(tenant, 4);
    const first = await eventually(
      () => state(tenant),
      // Other suites seal the same shared database concurrently; wait for this organization's lag to drain too.
      (value) =>
        value.integrityStatus.checkpoint?.treeSize === 4 &&
        value.integrityStatus.lagEvents === 0 &&
        provenAgainst(value, 4),
    );
    expect(first.integrityStatus).toEqual({ lagEvents: 0, checkpoint: { treeSize: 4 } });
    expect(first.events.edges.map((edge) => edge.node.proof?.treeSize)).toEqual([4, 4, 4, 4]);

    await emitEvents(tenant, 2);
    const second = await eventually(
      () => state(tenant),
      // `events` and `integrityStatus` resolve in parallel, so one response can straddle a new checkpoint.
      (value) => value.integrityStatus.checkpoint?.treeSize === 6 && provenAgainst(value, 6),
    );
    expect(second.events.edges.map((edge) => edge.node.proof?.treeSize)).toEqual([6, 6, 6, 6, 6, 6]);
    const leaves = await leavesOf(testApp.database.db, tenant.organization.id);
    const stored = await eventsInStreamOrder(testApp.database.db, tenant.organization.id);
    expect(leaves.map((leaf) => leaf.eventId)).toEqual(stored.map((event) => event.id));
  });

  it.runIf(backend.name === 'postgres')(
    "seals while the server's thread is busy: the sealer has a thread of its own",
    async () => {
      const tenant = await testApp.tenant();
      // An event settles once older transactions have ended, and other suites may hold one open for a
      // while: a few tries, each with fresh events that no sealer in this thread can have seen.
      let sealedWhileBusy = false;
      for (let attempt = 0; attempt < 5 && !sealedWhileBusy; attempt += 1) {
        const emitted = await emitEvents(tenant, 3);
        // Nothing on this thread runs meanwhile: no timer, no database answer, no in-thread sealer.
        const until = Date.now() + 2000;
        while (Date.now() < until) {}
        const leaves = new Set(
          (await leavesOf(testApp.database.db, tenant.organization.id)).map((leaf) => leaf.eventId),
        );
        sealedWhileBusy = emitted.every((id) => leaves.has(id));
      }
      expect(sealedWhileBusy).toBe(true);
    },
  );

  it.runIf(backend.name === 'postgres' && process.platform === 'linux')(
    "gives way to the server's thread: the sealer's thread runs at a lower CPU priority",
    async () => {
      // Field 19 of /proc/<pid>/task/<tid>/stat is the thread's nice value.
      const niceOf = (task: string) => {
        const stat = readFileSync(`/proc/self/task/${task}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
      };
      // The threads start in the background (beforeAll does not wait for them).
      const nice = await eventually(
        async () => readdirSync('/proc/self/task').map(niceOf),
        (values) => values.includes(SEALER_THREAD_NICE),
        10_000,
      );
      expect(niceOf(String(process.pid))).toBe(0);
      expect(nice).toContain(SEALER_THREAD_NICE);
    },
  );
});
