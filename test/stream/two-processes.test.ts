import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createFreshDatabase } from '../support/fresh-database.ts';
import { createTestApp, EMIT, loginEvent, type TestApp } from '../support/test-app.ts';
import { openStream, wsUrl } from '../support/ws-client.ts';
import { describeOnPostgres, untilSubscribed } from './support.ts';

const secondServer = fileURLToPath(new URL('./second-server.ts', import.meta.url));

describeOnPostgres('two server processes on one $name database', (backend) => {
  let fresh: Awaited<ReturnType<typeof createFreshDatabase>>;
  let t: TestApp;
  let port: number;
  let other: ChildProcess;
  let otherPort: number;
  beforeAll(async () => {
    fresh = await createFreshDatabase('auditline_stream');
    t = await createTestApp({ ...backend, config: { kind: 'postgres', url: fresh.url, poolSize: 8 } });
    port = await t.app.start(0);
    other = spawn(process.execPath, ['--import', 'tsx', secondServer], {
      env: { ...process.env, DATABASE_URL: fresh.url, LOG_LEVEL: 'error' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const [line] = (await once(createInterface({ input: other.stdout! }), 'line')) as [string];
    otherPort = JSON.parse(line).port;
  });
  afterAll(async () => {
    if (other && other.exitCode === null) {
      other.kill('SIGTERM');
      await once(other, 'exit');
    }
    await t?.close();
    await fresh?.drop();
  });

  it('delivers an event emitted through one process to a subscriber on the other, both ways', async () => {
    const tenant = await t.tenant();
    const emitHere = async (action: string) => {
      const result = await tenant.gql(EMIT, { input: loginEvent({ action }) });
      expect(result.errors).toBeUndefined();
    };
    const emitThere = async (action: string) => {
      const response = await fetch(`http://127.0.0.1:${otherPort}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${tenant.key.secret}` },
        body: JSON.stringify({ query: EMIT, variables: { input: loginEvent({ action }) } }),
      });
      expect((await response.json()).errors).toBeUndefined();
    };

    // From BEGINNING, the first event arrives however the subscription and the emit race: after it, the
    // other process is surely subscribed and the next event must come live.
    const onOther = openStream(wsUrl(otherPort), tenant.key.secret, { from: 'BEGINNING' });
    await emitHere('user.warm_up');
    await onOther.waitFor(1);
    await emitHere('user.here');
    await onOther.waitFor(2);
    expect(onOther.edges.map((edge) => edge.node.action)).toEqual(['user.warm_up', 'user.here']);

    const onThis = openStream(wsUrl(port), tenant.key.secret);
    await untilSubscribed(t.app.services.stream, 1);
    await emitThere('user.there');
    await onThis.waitFor(1);
    await onOther.waitFor(3);
    expect(onThis.edges.map((edge) => edge.node.action)).toEqual(['user.there']);
    expect(onOther.edges.map((edge) => edge.node.action)).toEqual([
      'user.warm_up',
      'user.here',
      'user.there',
    ]);
    await Promise.all([onOther.dispose(), onThis.dispose()]);
  });
});
