import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeliveryWorker, type DeliveryWorker } from '../../src/export/delivery-worker.ts';
import { addDestination } from '../../src/export/destination-admin.ts';
import { createDestination } from '../../src/export/destination-store.ts';
import type { DestinationType } from '../../src/export/destinations/index.ts';
import { createExportService } from '../../src/export/service.ts';
import { fromPublicId } from '../../src/ids.ts';
import { createLogger } from '../../src/logger.ts';
import type { ResolveHost } from '../../src/network/connector.ts';
import {
  CREATE_DESTINATION,
  DESTINATION,
  FAST_DELIVERY,
  isolatedTestApp,
  startDeliveryWorker,
} from '../export/support/delivery.ts';
import { closedPort, waitFor } from '../export/support/receivers.ts';
import { backends } from '../support/backends.ts';
import { EMIT, loginEvent, type Tenant, type TestApp, testConfig } from '../support/test-app.ts';
import {
  type Canary,
  INTERNAL_BODY,
  INTERNAL_PREFIX,
  startHttpCanary,
  startIpv6TcpCanary,
  startTcpCanary,
} from './support/loopback-canary.ts';

const ALLOW = '; allow it with DESTINATION_ALLOW_NETWORKS';
const WEBHOOK_SECRET = `whsec_${randomBytes(32).toString('base64')}`;

/** Loopback spellings of one target, and what the refusal says of each (`v6` is the ::1 canary's port). */
function webhookTargets(v4: number, v6: number) {
  return [
    { url: `http://127.0.0.1:${v4}/internal`, reason: '127.0.0.1 is a loopback address' },
    {
      url: `http://localhost:${v4}/internal`,
      reason: /^localhost resolves to (127\.0\.0\.1|::1), a loopback address$/,
    },
    { url: `http://[::1]:${v6}/internal`, reason: '::1 is a loopback address' },
    { url: `http://0.0.0.0:${v4}/internal`, reason: '0.0.0.0 is an unspecified address' },
    {
      url: `http://[::ffff:127.0.0.1]:${v4}/internal`,
      reason: '::ffff:7f00:1 embeds 127.0.0.1, a loopback address',
    },
    // The URL parser reads these as 127.0.0.1.
    { url: `http://127.1:${v4}/internal`, reason: '127.0.0.1 is a loopback address' },
    { url: `http://2130706433:${v4}/internal`, reason: '127.0.0.1 is a loopback address' },
  ];
}

function syslogTargets(v4: number, v6: number) {
  return [
    { url: `tcp://127.0.0.1:${v4}`, reason: '127.0.0.1 is a loopback address' },
    {
      url: `tcp://localhost:${v4}`,
      reason: /^localhost resolves to (127\.0\.0\.1|::1), a loopback address$/,
    },
    { url: `tcp://[::1]:${v6}`, reason: '::1 is a loopback address' },
    { url: `tcp://0.0.0.0:${v4}`, reason: '0.0.0.0 is an unspecified address' },
    {
      url: `tcp://[::ffff:127.0.0.1]:${v4}`,
      reason: '::ffff:127.0.0.1 embeds 127.0.0.1, a loopback address',
    },
    { url: `relp://127.0.0.1:${v4}`, reason: '127.0.0.1 is a loopback address' },
    { url: `tls://127.0.0.1:${v4}`, reason: '127.0.0.1 is a loopback address' },
    // Not a URL: the resolver reads "127.1" as 127.0.0.1.
    { url: `tcp://127.1:${v4}`, reason: '127.1 resolves to 127.0.0.1, a loopback address' },
  ];
}

/** `prefix` + reason + the hint, exactly (a RegExp reason matches the middle). */
function expectRefusal(message: string | null | undefined, prefix: string, reason: string | RegExp) {
  expect(message).toBeTypeOf('string');
  expect(message!.startsWith(prefix)).toBe(true);
  expect(message!.endsWith(ALLOW)).toBe(true);
  const middle = message!.slice(prefix.length, -ALLOW.length);
  if (typeof reason === 'string') expect(middle).toBe(reason);
  else expect(middle).toMatch(reason);
}

const TEST_DESTINATION = /* GraphQL */ `
  mutation($id: ID!) { testDestination(id: $id) { ok error eventId } }
`;
const UPDATE_DESTINATION = /* GraphQL */ `
  mutation($id: ID!, $input: UpdateDestinationInput!) { updateDestination(id: $id, input: $input) { id url } }
`;

describe.each(backends())('the destination network policy on $name', (backend) => {
  let t: TestApp;
  let allowed: TestApp;
  let tenant: Tenant;
  let http4: Canary;
  let tcp4: Canary;
  let tcp6: Canary | null;
  let v6Port: number;

  beforeAll(async () => {
    // No DESTINATION_ALLOW_NETWORKS: the default a deployment starts with.
    t = await isolatedTestApp(backend, {});
    allowed = await isolatedTestApp(backend, { DESTINATION_ALLOW_NETWORKS: '127.0.0.0/8' });
    tenant = await t.tenant();
    http4 = await startHttpCanary();
    tcp4 = await startTcpCanary();
    tcp6 = await startIpv6TcpCanary();
    v6Port = tcp6?.port ?? tcp4.port;
  });

  afterAll(async () => {
    await Promise.all([http4?.close(), tcp4?.close(), tcp6?.close()]);
    await t?.close();
    await allowed?.close();
  });

  const noConnections = () => {
    expect(http4.connections).toBe(0);
    expect(tcp4.connections).toBe(0);
    expect(tcp6?.connections ?? 0).toBe(0);
  };

  /** A destination saved before the policy existed (or before the allow list was narrowed). */
  async function storedDestination(name: string, type: DestinationType, url: string, secret: string | null) {
    const destination = await createDestination(t.database.db, {
      organizationUuid: fromPublicId('org', tenant.organization.id)!,
      name,
      type,
      url,
      format: 'cef',
      actions: [],
      query: null,
      options: {},
      sealedSecret: secret ? t.app.services.exports.secrets.seal(secret) : null,
    });
    return destination.id;
  }

  it('refuses loopback webhook and syslog targets on createDestination, naming input.url, before connecting', async () => {
    const targets = [
      ...webhookTargets(http4.port, v6Port).map((target) => ({ ...target, type: 'WEBHOOK' })),
      ...syslogTargets(tcp4.port, v6Port).map((target) => ({ ...target, type: 'SYSLOG' })),
    ];
    for (const [index, { url, reason, type }] of targets.entries()) {
      const result = await tenant.gql(CREATE_DESTINATION, {
        input: {
          name: `internal-${index}`,
          type,
          url,
          format: 'CEF',
          ...(type === 'WEBHOOK' ? { secret: WEBHOOK_SECRET } : {}),
        },
      });
      expect(result.data?.createDestination ?? null, url).toBeNull();
      expect(result.errors?.[0]?.extensions, url).toMatchObject({
        code: 'BAD_USER_INPUT',
        path: ['input', 'url'],
      });
      expectRefusal(result.errors![0]!.message, 'url refused: ', reason);
    }
    noConnections();
    expect((await tenant.gql('{ destinations { id } }')).data!.destinations).toEqual([]);
  });

  it('refuses a loopback URL on updateDestination, and a Sentinel token endpoint on loopback', async () => {
    // A name that does not resolve now is accepted: every connection checks it again.
    const created = await tenant.gql(CREATE_DESTINATION, {
      input: {
        name: 'siem',
        type: 'WEBHOOK',
        url: 'https://siem.example/hook',
        format: 'JSONL',
        secret: WEBHOOK_SECRET,
      },
    });
    expect(created.errors).toBeUndefined();
    const id = created.data!.createDestination.id;
    for (const { url, reason } of webhookTargets(http4.port, v6Port)) {
      const updated = await tenant.gql(UPDATE_DESTINATION, { id, input: { url } });
      expect(updated.errors?.[0]?.extensions, url).toMatchObject({
        code: 'BAD_USER_INPUT',
        path: ['input', 'url'],
      });
      expectRefusal(updated.errors![0]!.message, 'url refused: ', reason);
    }
    expect((await tenant.gql(DESTINATION, { id })).data!.destination.url).toBe('https://siem.example/hook');
    // A change that leaves the URL alone is not checked again.
    expect((await tenant.gql(UPDATE_DESTINATION, { id, input: { name: 'siem-2' } })).errors).toBeUndefined();

    const sentinel = await tenant.gql(CREATE_DESTINATION, {
      input: {
        name: 'sentinel',
        type: 'SENTINEL',
        url: 'https://dce.example/dataCollectionRules/dcr-1/streams/Custom-Audit',
        format: 'JSONL',
        secret: 'client-secret',
        options: { tokenUrl: `http://127.0.0.1:${http4.port}/token`, clientId: 'app' },
      },
    });
    expect(sentinel.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      path: ['input', 'options', 'tokenUrl'],
    });
    expectRefusal(
      sentinel.errors![0]!.message,
      'options.tokenUrl refused: ',
      '127.0.0.1 is a loopback address',
    );
    noConnections();
  });

  it('testDestination answers ok: false with the refusal and connects to nothing, open port or closed alike', async () => {
    const closed = await closedPort();
    const cases = [
      {
        id: await storedDestination(
          'hook',
          'webhook',
          `http://127.0.0.1:${http4.port}/internal`,
          WEBHOOK_SECRET,
        ),
      },
      {
        id: await storedDestination(
          'hook-local',
          'webhook',
          `http://localhost:${http4.port}/internal`,
          WEBHOOK_SECRET,
        ),
      },
      { id: await storedDestination('db-port', 'syslog', `tcp://127.0.0.1:${tcp4.port}`, null) },
      { id: await storedDestination('port-1', 'syslog', `tcp://127.0.0.1:${closed}`, null) },
    ];
    const answers: { ok: boolean; error: string }[] = [];
    for (const { id } of cases) {
      const result = await tenant.gql(TEST_DESTINATION, { id });
      expect(result.errors).toBeUndefined();
      answers.push(result.data!.testDestination);
    }
    expect(answers.map((answer) => answer.ok)).toEqual([false, false, false, false]);
    expectRefusal(answers[0]!.error, 'refused: ', '127.0.0.1 is a loopback address');
    expectRefusal(
      answers[1]!.error,
      'refused: ',
      /^localhost resolves to (127\.0\.0\.1|::1), a loopback address$/,
    );
    // No port-scan oracle: an open and a closed port get the same answer.
    expect(answers[2]!.error).toBe(answers[3]!.error);
    expect(answers[2]!.error).toBe(`refused: 127.0.0.1 is a loopback address${ALLOW}`);
    for (const answer of answers) expect(answer.error).not.toContain(INTERNAL_PREFIX);
    noConnections();
  });

  it('delivery records the refusal as lastError, with no receiver body, and connects to nothing', async () => {
    const hook = await storedDestination(
      'deliver-hook',
      'webhook',
      `http://127.0.0.1:${http4.port}/internal`,
      WEBHOOK_SECRET,
    );
    const syslog = await storedDestination('deliver-syslog', 'syslog', `tcp://localhost:${tcp4.port}`, null);
    const worker = startDeliveryWorker(t, { DESTINATION_ALLOW_NETWORKS: '' });
    try {
      expect((await tenant.gql(EMIT, { input: loginEvent() })).errors).toBeUndefined();
      const status = async (id: string) => (await tenant.gql(DESTINATION, { id })).data!.destination;
      await waitFor(
        async () => (await status(hook)).lastError !== null && (await status(syslog)).lastError !== null,
        'both deliveries to fail',
      );
      const [hookStatus, syslogStatus] = [await status(hook), await status(syslog)];
      expect(hookStatus.lastError).toBe(`refused: 127.0.0.1 is a loopback address${ALLOW}`);
      expectRefusal(
        syslogStatus.lastError,
        'refused: ',
        /^localhost resolves to (127\.0\.0\.1|::1), a loopback address$/,
      );
      expect([hookStatus.deliveredCount, syslogStatus.deliveredCount]).toEqual([0, 0]);
    } finally {
      await worker.stop();
    }
    noConnections();
  });

  it('DNS rebinding: a name checked when saved is checked again when delivery connects', async () => {
    let calls = 0;
    // The first answer (a documentation address this test allows, never connected to) passes the
    // check when the destination is saved; later answers point at loopback.
    const resolveHost: ResolveHost = async (hostname) => {
      if (hostname !== 'rebind.test')
        throw Object.assign(new Error(`ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
      return calls++ === 0 ? [{ address: '198.51.100.7', family: 4 }] : [{ address: '127.0.0.1', family: 4 }];
    };
    const exports = createExportService(
      testConfig({ ...FAST_DELIVERY, DESTINATION_ALLOW_NETWORKS: '198.51.100.0/24' }),
      { resolveHost },
    );
    const destination = await addDestination(
      t.database.db,
      exports.secrets,
      {
        organizationUuid: fromPublicId('org', tenant.organization.id)!,
        name: 'rebinding',
        type: 'webhook',
        url: `http://rebind.test:${http4.port}/internal`,
        format: 'jsonl',
        secret: WEBHOOK_SECRET,
      },
      exports.connector,
    );
    expect(calls).toBe(1);
    const worker: DeliveryWorker = createDeliveryWorker(t.database, exports, createLogger('silent'));
    worker.start();
    try {
      expect((await tenant.gql(EMIT, { input: loginEvent() })).errors).toBeUndefined();
      const lastError = async () =>
        (await tenant.gql(DESTINATION, { id: destination.id })).data!.destination.lastError as string | null;
      await waitFor(async () => (await lastError()) !== null, 'the delivery to fail');
      expect(await lastError()).toBe(
        `refused: rebind.test resolves to 127.0.0.1, a loopback address${ALLOW}`,
      );
      expect(calls).toBeGreaterThan(1);
    } finally {
      await worker.stop();
    }
    noConnections();
  });

  it('with DESTINATION_ALLOW_NETWORKS=127.0.0.0/8 the same targets work, and a receiver body is cut to 256 bytes', async () => {
    const owner = await allowed.tenant();
    const create = async (name: string, type: string, url: string) => {
      const result = await owner.gql(CREATE_DESTINATION, {
        input: { name, type, url, format: 'CEF', ...(type === 'WEBHOOK' ? { secret: WEBHOOK_SECRET } : {}) },
      });
      expect(result.errors, url).toBeUndefined();
      return result.data!.createDestination.id as string;
    };
    const internal = await create('internal', 'WEBHOOK', `http://127.0.0.1:${http4.port}/internal`);
    const mapped = await create('mapped', 'WEBHOOK', `http://[::ffff:127.0.0.1]:${http4.port}/ok`);
    const syslog = await create('syslog', 'SYSLOG', `tcp://localhost:${tcp4.port}`);
    // ::1 is not inside 127.0.0.0/8.
    const v6 = await owner.gql(CREATE_DESTINATION, {
      input: { name: 'v6', type: 'SYSLOG', url: `tcp://[::1]:${v6Port}`, format: 'CEF' },
    });
    expect(v6.errors?.[0]?.message).toBe(`url refused: ::1 is a loopback address${ALLOW}`);

    const test = async (id: string) => (await owner.gql(TEST_DESTINATION, { id })).data!.testDestination;
    const answer = await test(internal);
    expect(answer.ok).toBe(false);
    // 25 ASCII bytes and 115 two-byte characters: the 116th would cross 256 bytes, so it is left out.
    const excerpt = `${INTERNAL_PREFIX}${'ü'.repeat(115)}`;
    expect(Buffer.byteLength(excerpt)).toBe(255);
    expect(INTERNAL_BODY.startsWith(excerpt)).toBe(true);
    expect(answer.error).toBe(`The webhook receiver answered 500: ${excerpt}`);
    expect(await test(mapped)).toMatchObject({ ok: true, error: null });
    expect(await test(syslog)).toMatchObject({ ok: true, error: null });
    expect(http4.requests.map((request) => request.url)).toEqual(['/internal', '/ok']);
    expect(tcp4.connections).toBe(1);

    const worker = startDeliveryWorker(allowed, { DESTINATION_ALLOW_NETWORKS: '127.0.0.0/8' });
    try {
      expect((await owner.gql(EMIT, { input: loginEvent() })).errors).toBeUndefined();
      const status = async (id: string) => (await owner.gql(DESTINATION, { id })).data!.destination;
      await waitFor(async () => (await status(internal)).lastError !== null, 'the 500 to be recorded');
      await waitFor(async () => (await status(syslog)).deliveredCount === 1, 'the syslog delivery');
      expect((await status(internal)).lastError).toBe(`The webhook receiver answered 500: ${excerpt}`);
    } finally {
      await worker.stop();
    }
  });
});
