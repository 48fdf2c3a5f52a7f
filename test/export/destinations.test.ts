import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from '../support/backends.ts';
import type { Tenant, TestApp } from '../support/test-app.ts';
import {
  CREATE_DESTINATION,
  DESTINATION,
  DESTINATION_FIELDS,
  DESTINATIONS,
  isolatedTestApp,
  startDeliveryWorker,
} from './support/delivery.ts';
import { emitNumbered } from './support/emit.ts';
import { closedPort, type HttpReceiver, startHttpReceiver, waitFor } from './support/receivers.ts';

const newSecret = () => `whsec_${randomBytes(32).toString('base64')}`;

const mutation = (name: string) => /* GraphQL */ `
  mutation($id: ID!) { ${name}(id: $id) { ${DESTINATION_FIELDS} } }
`;

describe.each(backends())('destinations on $name', (backend) => {
  let t: TestApp;
  let worker: ReturnType<typeof startDeliveryWorker>;
  let receiver: HttpReceiver;
  beforeAll(async () => {
    t = await isolatedTestApp(backend);
    worker = startDeliveryWorker(t);
    receiver = await startHttpReceiver();
  });
  afterAll(async () => {
    await worker.stop();
    await receiver.close();
    await t.close();
  });

  const eventsAt = (path: string) =>
    receiver.requests
      .filter((request) => request.url === path && request.status === 200)
      .flatMap(
        (request) => JSON.parse(request.body).data.events as { id: string; metadata: { seq: number } }[],
      );

  async function webhook(tenant: Tenant, path: string, extra: Record<string, unknown> = {}) {
    const secret = newSecret();
    const created = await tenant.gql(CREATE_DESTINATION, {
      input: {
        name: path,
        type: 'WEBHOOK',
        url: `${receiver.url}${path}`,
        format: 'JSONL',
        secret,
        ...extra,
      },
    });
    expect(created.errors).toBeUndefined();
    return { destination: created.data!.createDestination, secret };
  }

  it('delivers new events as Standard Webhooks, verified by the standardwebhooks package', async () => {
    const tenant = await t.tenant();
    const { destination, secret } = await webhook(tenant, '/hooks/a');
    expect(destination).toMatchObject({ status: 'ACTIVE', hasSecret: true, lagEvents: 0, deliveredCount: 0 });
    expect(JSON.stringify(destination)).not.toContain(secret.slice(6));
    const ids = await emitNumbered(tenant, 30);
    await waitFor(() => eventsAt('/hooks/a').length >= 30, 'webhook deliveries');
    const verifier = new Webhook(secret);
    for (const request of receiver.requests.filter((r) => r.url === '/hooks/a')) {
      const payload = verifier.verify(request.body, {
        'webhook-id': request.headers['webhook-id'] as string,
        'webhook-timestamp': request.headers['webhook-timestamp'] as string,
        'webhook-signature': request.headers['webhook-signature'] as string,
      }) as { type: string; data: { destinationId: string; format: string } };
      expect(payload.type).toBe('audit_events.batch');
      expect(payload.data).toMatchObject({ destinationId: destination.id, format: 'jsonl' });
    }
    expect(() =>
      verifier.verify(receiver.requests.find((r) => r.url === '/hooks/a')!.body, {
        'webhook-id': 'msg_forged',
        'webhook-timestamp': String(Math.floor(Date.now() / 1000)),
        'webhook-signature': receiver.requests.find((r) => r.url === '/hooks/a')!.headers[
          'webhook-signature'
        ] as string,
      }),
    ).toThrow();
    expect(eventsAt('/hooks/a').map((event) => event.id)).toEqual(ids);
    await waitFor(
      async () =>
        (await tenant.gql(DESTINATION, { id: destination.id })).data!.destination.deliveredCount === 30,
      'cursor',
    );
    const after = (await tenant.gql(DESTINATION, { id: destination.id })).data!.destination;
    expect(after).toMatchObject({ lagEvents: 0, lagSeconds: 0, status: 'ACTIVE', duplicatesCount: 0 });
    expect(after.lastSuccessAt).not.toBeNull();
  });

  it('sends only the actions and query asked for', async () => {
    const tenant = await t.tenant();
    await webhook(tenant, '/hooks/filtered', { actions: ['user.*'], query: '-actor:usr_3' });
    await emitNumbered(tenant, 12);
    await waitFor(() => eventsAt('/hooks/filtered').length >= 3, 'filtered deliveries');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(eventsAt('/hooks/filtered').map((event) => event.metadata.seq)).toEqual([0, 6, 9]);
  });

  it('retries with backoff, shows FAILING with the last error, then resumes where it stopped', async () => {
    const tenant = await t.tenant();
    const { destination } = await webhook(tenant, '/hooks/flaky');
    let refusals = 0;
    const healthy = receiver.respond;
    receiver.respond = (request, res) => {
      if (request.url === '/hooks/flaky' && refusals < 6) {
        refusals += 1;
        res.writeHead(503, { 'retry-after': '0' }).end('warming up');
      } else healthy(request, res);
    };
    try {
      const ids = await emitNumbered(tenant, 20);
      await waitFor(async () => {
        const current = (await tenant.gql(DESTINATION, { id: destination.id })).data!.destination;
        return current.status === 'FAILING';
      }, 'FAILING status');
      const failing = (await tenant.gql(DESTINATION, { id: destination.id })).data!.destination;
      expect(failing.lastError).toMatch(/answered 503: warming up/);
      expect(failing.lagEvents).toBe(20);
      expect(failing.attempts).toBeGreaterThanOrEqual(3);
      await waitFor(() => eventsAt('/hooks/flaky').length >= 20, 'recovery');
      expect(eventsAt('/hooks/flaky').map((event) => event.id)).toEqual(ids);
      await waitFor(
        async () =>
          (await tenant.gql(DESTINATION, { id: destination.id })).data!.destination.status === 'ACTIVE',
        'ACTIVE again',
      );
      const recovered = (await tenant.gql(DESTINATION, { id: destination.id })).data!.destination;
      expect(recovered).toMatchObject({ lagEvents: 0, attempts: 0, deliveredCount: 20, duplicatesCount: 0 });
      expect(recovered.lastError).toMatch(/503/);
    } finally {
      receiver.respond = healthy;
    }
  });

  it('keeps events while the receiver is down and delivers them, in order, once it is back', async () => {
    const tenant = await t.tenant();
    const own = await startHttpReceiver();
    const secret = newSecret();
    const created = await tenant.gql(CREATE_DESTINATION, {
      input: { name: 'down', type: 'WEBHOOK', url: `${own.url}/down`, format: 'JSONL', secret },
    });
    const id = created.data!.createDestination.id;
    const received = () =>
      own.requests
        .filter((request) => request.status === 200)
        .flatMap((request) => JSON.parse(request.body).data.events.map((event: { id: string }) => event.id));
    const ids = await emitNumbered(tenant, 10);
    await waitFor(() => received().length >= 10, 'first deliveries');
    await own.close();
    ids.push(...(await emitNumbered(tenant, 15, 10)));
    await waitFor(
      async () => (await tenant.gql(DESTINATION, { id })).data!.destination.status === 'FAILING',
      'FAILING',
    );
    const down = (await tenant.gql(DESTINATION, { id })).data!.destination;
    expect(down).toMatchObject({ lagEvents: 15, deliveredCount: 10 });
    expect(down.lastError).toMatch(/ECONNREFUSED/);
    await own.reopen();
    await waitFor(() => received().length >= 25, 'deliveries after the receiver came back');
    expect(received()).toEqual(ids);
    await own.close();
    // The receiver answered; the worker records that once it has read the answer, a moment later.
    await waitFor(
      async () => (await tenant.gql(DESTINATION, { id })).data!.destination.deliveredCount === 25,
      'the delivery to be recorded',
    );
    const after = (await tenant.gql(DESTINATION, { id })).data!.destination;
    expect(after).toMatchObject({ status: 'ACTIVE', lagEvents: 0, deliveredCount: 25 });
    // A request cut by the closing server (a reused keep-alive socket) may have arrived: each such
    // attempt counts its batch, the 15 events after the failure boundary, as possible duplicates.
    expect(after.duplicatesCount % 15).toBe(0);
  });

  it('pauses, shows the lag, and resumes without losing events', async () => {
    const tenant = await t.tenant();
    const { destination } = await webhook(tenant, '/hooks/paused');
    const paused = await tenant.gql(mutation('pauseDestination'), { id: destination.id });
    expect(paused.data!.pauseDestination.status).toBe('PAUSED');
    const ids = await emitNumbered(tenant, 8);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(eventsAt('/hooks/paused')).toHaveLength(0);
    const waiting = (await tenant.gql(DESTINATION, { id: destination.id })).data!.destination;
    expect(waiting.lagEvents).toBe(8);
    expect(waiting.lagSeconds).toBeGreaterThan(0);
    await tenant.gql(mutation('resumeDestination'), { id: destination.id });
    await waitFor(() => eventsAt('/hooks/paused').length >= 8, 'delivery after resume');
    expect(eventsAt('/hooks/paused').map((event) => event.id)).toEqual(ids);
  });

  it('sends a sample event on testDestination without moving the cursor', async () => {
    const tenant = await t.tenant();
    const { destination } = await webhook(tenant, '/hooks/test');
    const result = await tenant.gql(
      `mutation($id: ID!) { testDestination(id: $id) { ok error durationMs eventId } }`,
      { id: destination.id },
    );
    expect(result.data!.testDestination).toMatchObject({ ok: true, error: null });
    const [sample] = eventsAt('/hooks/test') as unknown as { id: string; action: string }[];
    expect(sample).toMatchObject({
      id: result.data!.testDestination.eventId,
      action: 'auditline.destination_tested',
    });
    expect((await tenant.gql(DESTINATION, { id: destination.id })).data!.destination.deliveredCount).toBe(0);

    const unreachable = await webhook(tenant, '/hooks/nowhere', {
      url: `http://127.0.0.1:${await closedPort()}/nowhere`,
    });
    const failed = await tenant.gql(`mutation($id: ID!) { testDestination(id: $id) { ok error } }`, {
      id: unreachable.destination.id,
    });
    expect(failed.data!.testDestination.ok).toBe(false);
    expect(failed.data!.testDestination.error).toMatch(/ECONNREFUSED|connect/);
  });

  it('lists, updates and removes destinations; secrets are write-only', async () => {
    const tenant = await t.tenant();
    const { destination, secret } = await webhook(tenant, '/hooks/crud');
    const other = await t.tenant();
    expect((await other.gql(DESTINATIONS)).data!.destinations).toEqual([]);
    expect(
      (await other.gql(mutation('pauseDestination'), { id: destination.id })).errors?.[0]?.extensions?.code,
    ).toBe('NOT_FOUND');
    const updated = await tenant.gql(
      `mutation($id: ID!, $input: UpdateDestinationInput!) { updateDestination(id: $id, input: $input) { name format query url } }`,
      { id: destination.id, input: { name: 'renamed', format: 'ECS', query: 'action:user.*' } },
    );
    expect(updated.data!.updateDestination).toMatchObject({
      name: 'renamed',
      format: 'ECS',
      query: 'action:user.*',
    });
    const listed = await tenant.gql(DESTINATIONS);
    expect(listed.data!.destinations.map((d: { id: string }) => d.id)).toEqual([destination.id]);
    expect(JSON.stringify(listed)).not.toContain(secret.slice(6));
    const removed = await tenant.gql(`mutation($id: ID!) { removeDestination(id: $id) }`, {
      id: destination.id,
    });
    expect(removed.data!.removeDestination).toBe(destination.id);
    expect((await tenant.gql(DESTINATIONS)).data!.destinations).toEqual([]);
  });

  it('refuses bad settings, naming the field', async () => {
    const tenant = await t.tenant();
    const base = {
      name: 'x',
      type: 'WEBHOOK',
      url: 'https://siem.example/hook',
      format: 'JSONL',
      secret: newSecret(),
    };
    const cases: [Record<string, unknown>, string[], RegExp][] = [
      [{ url: 'ftp://siem.example' }, ['input', 'url'], /http/],
      [{ secret: undefined }, ['input', 'secret'], /needs a secret/],
      [{ secret: 'hunter2' }, ['input', 'secret'], /whsec_/],
      [
        { type: 'SYSLOG', url: 'tcp://siem.example:6514', secret: undefined },
        ['input', 'format'],
        /cef, leef/,
      ],
      [
        { type: 'SYSLOG', url: 'udp://siem.example:514', format: 'CEF', secret: undefined },
        ['input', 'url'],
        /tcp:\/\//,
      ],
      [{ query: 'created:>=tomorrowish' }, ['input', 'query'], /created/],
      [{ actions: ['Bad Action'] }, ['input', 'actions', '0'], /action/],
      [{ options: { colour: 'red' } }, ['input', 'options', 'colour'], /colour|Unrecognized/],
      [
        {
          type: 'SENTINEL',
          url: 'https://dce.example/dataCollectionRules/dcr-1/streams/Custom-Audit',
          options: { clientId: 'c' },
        },
        ['input', 'options', 'tokenUrl'],
        /tokenUrl/,
      ],
    ];
    for (const [change, path, message] of cases) {
      const result = await tenant.gql(CREATE_DESTINATION, { input: { ...base, ...change } });
      expect(result.errors?.[0]?.extensions, JSON.stringify(change)).toMatchObject({
        code: 'BAD_USER_INPUT',
        path,
      });
      expect(result.errors?.[0]?.message).toMatch(message);
    }
    const reader = await t.tenant(['events:read']);
    expect((await reader.gql(CREATE_DESTINATION, { input: base })).errors?.[0]?.extensions?.code).toBe(
      'FORBIDDEN',
    );
    await tenant.gql(CREATE_DESTINATION, { input: base });
    const twice = await tenant.gql(CREATE_DESTINATION, { input: base });
    expect(twice.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', path: ['input', 'name'] });
  });
});
