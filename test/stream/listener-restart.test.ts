import postgres from 'postgres';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { writeBatch } from '../../src/events/writer.ts';
import { createFreshDatabase } from '../support/fresh-database.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';
import { openStream, wsUrl } from '../support/ws-client.ts';
import {
  describeOnPostgres,
  expectStrictStreamOrder,
  prepared,
  sleep,
  storedInStreamOrder,
  untilSubscribed,
  writeMarker,
} from './support.ts';

describeOnPostgres('the listener connection dies on $name', (backend) => {
  let fresh: Awaited<ReturnType<typeof createFreshDatabase>>;
  let t: TestApp;
  let admin: postgres.Sql;
  let port: number;
  beforeAll(async () => {
    fresh = await createFreshDatabase('auditline_stream');
    t = await createTestApp({ ...backend, config: { kind: 'postgres', url: fresh.url, poolSize: 8 } });
    port = await t.app.start(0);
    admin = postgres(fresh.url, { max: 1, onnotice: () => {} });
  });
  afterAll(async () => {
    await admin.end();
    await t.close();
    await fresh.drop();
  });

  const listenerPids = async () =>
    (
      await admin<{ pid: number }[]>`
        select pid from pg_stat_activity where datname = current_database() and query ilike 'listen %'`
    ).map((row) => row.pid);

  it('loses nothing when pg_terminate_backend kills the LISTEN connection while events flow', async () => {
    const tenant = await t.tenant();
    const organization = tenant.organization.id;
    const stream = openStream(wsUrl(port), tenant.key.secret);
    await untilSubscribed(t.app.services.stream, 1);
    const [listener] = await listenerPids();
    expect(listener).toBeDefined();

    let writing = true;
    const writer = (async () => {
      while (writing) {
        await writeBatch(t.database.db, [prepared(organization), prepared(organization)]);
        await sleep(2);
      }
    })();
    await stream.waitFor(10);
    const [killed] = await admin<
      { killed: boolean }[]
    >`select pg_terminate_backend(${listener!}::int) as killed`;
    expect(killed!.killed).toBe(true);
    await expect
      .poll(async () => (await listenerPids()).filter((pid) => pid !== listener).length, {
        timeout: 10_000,
        interval: 20,
      })
      .toBe(1);
    const afterKill = stream.edges.length;
    await stream.waitFor(afterKill + 10);
    writing = false;
    await writer;

    const marker = await writeMarker(t.database.db, organization);
    await expect.poll(() => stream.edges.at(-1)?.node.id, { timeout: 15_000, interval: 5 }).toBe(marker);
    await stream.dispose();
    expectStrictStreamOrder(stream.edges);
    expect(stream.edges.map((edge) => edge.node.id)).toEqual(
      await storedInStreamOrder(t.database.db, organization),
    );
  });
});
