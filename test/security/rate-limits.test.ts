import { request } from 'node:http';
import { parse } from 'graphql';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { emittedEventCount } from '../../src/limits/emitted-event-count.ts';
import { RateLimits } from '../../src/limits/rate-limits.ts';
import { backends } from '../support/backends.ts';
import { createTestApp, EMIT_MANY, loginEvent, type TestApp } from '../support/test-app.ts';
import { connectClient } from '../support/ws-operations.ts';

const LIMITS = {
  RATE_LIMIT_PER_KEY: '5',
  RATE_LIMIT_EVENTS_PER_KEY: '10',
  RATE_LIMIT_AUTH_FAILURES_PER_IP: '3',
};

interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  // biome-ignore lint/suspicious/noExplicitAny: tests read a few fields of arbitrary GraphQL answers
  body: { data?: any; errors?: { message: string; extensions?: Record<string, unknown> }[] };
}

/** POSTs a GraphQL request over real HTTP, from `localAddress` (another loopback address stands for another client). */
function post(port: number, query: string, token: string | null, localAddress = '127.0.0.1') {
  return new Promise<HttpAnswer>((resolve, reject) => {
    const body = JSON.stringify({ query });
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/graphql',
        method: 'POST',
        localAddress,
        headers: {
          'content-type': 'application/json',
          accept: 'application/graphql-response+json',
          'content-length': Buffer.byteLength(body),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => {
          text += chunk;
        });
        res.on('end', () =>
          resolve({ status: res.statusCode!, headers: res.headers, body: JSON.parse(text) }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Opens a WebSocket from `localAddress`, sends connection_init with `token`; resolves with the close. */
function wsConnectFrom(port: number, token: string, localAddress: string) {
  return new Promise<{ code: number; reason: string; acknowledged: boolean }>((resolve) => {
    const socket = new WebSocket(`ws://127.0.0.1:${port}/graphql`, 'graphql-transport-ws', { localAddress });
    let acknowledged = false;
    socket.on('open', () =>
      socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } })),
    );
    socket.on('message', (data) => {
      if (JSON.parse(String(data)).type === 'connection_ack') {
        acknowledged = true;
        socket.close(1000);
      }
    });
    socket.on('close', (code, reason) => resolve({ code, reason: String(reason), acknowledged }));
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** The same key id with a wrong secret. */
const wrongSecret = (token: string) => `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;

describe.each(backends())('rate limits on $name', (backend) => {
  let t: TestApp;
  let port: number;

  beforeAll(async () => {
    t = await createTestApp(backend, LIMITS);
    port = await t.app.start(0, '127.0.0.1');
  });
  afterAll(() => t.close());

  const fetchAs = (token: string, query: string, variables?: Record<string, unknown>) =>
    t.app.yoga.fetch('http://auditline.test/graphql', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json',
        authorization: `Bearer ${token}`,
      },
      body: JSON.stringify({ query, variables }),
    });

  it('answers 429 with Retry-After, RateLimit-Policy, RateLimit and RATE_LIMITED past RATE_LIMIT_PER_KEY, for that key only', async () => {
    const hammering = await t.tenant();
    const quiet = await t.tenant();
    const responses = await Promise.all(
      Array.from({ length: 12 }, () => fetchAs(hammering.key.secret, '{ __typename }')),
    );
    const limited = responses.filter((response) => response.status === 429);
    // Twelve requests in one go: at most five per one-second window pass.
    expect(limited.length).toBeGreaterThanOrEqual(2);
    expect(responses.filter((response) => response.status === 200).length).toBeLessThanOrEqual(10);

    const refused = limited[0]!;
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(1);
    expect(refused.headers.get('ratelimit-policy')).toBe('"requests";q=5;w=1;qu="request"');
    expect(refused.headers.get('ratelimit')).toBe(`"requests";r=0;t=${retryAfter}`);
    const body = (await refused.json()) as HttpAnswer['body'];
    expect(body.data ?? null).toBeNull();
    expect(body.errors).toHaveLength(1);
    expect(body.errors![0]!.extensions).toEqual({
      code: 'RATE_LIMITED',
      limit: 'RATE_LIMIT_PER_KEY',
      retryAfterSeconds: retryAfter,
    });
    expect(body.errors![0]!.message).toMatch(/5 requests per second/);

    const other = await fetchAs(quiet.key.secret, '{ __typename }');
    expect(other.status).toBe(200);
    expect(await other.json()).toEqual({ data: { __typename: 'Query' } });

    await sleep(1100);
    expect((await fetchAs(hammering.key.secret, '{ __typename }')).status).toBe(200);
  });

  it('refuses over real HTTP in the route, before Yoga, with the same answer and each request counted once', async () => {
    const hammering = await t.tenant();
    const answers = await Promise.all(
      Array.from({ length: 8 }, () => post(port, '{ __typename }', hammering.key.secret)),
    );
    // The route admits a request and Yoga's plugin must not count it a second time: five pass.
    expect(answers.filter((answer) => answer.status === 200)).toHaveLength(5);
    const refused = answers.find((answer) => answer.status === 429)!;
    expect(refused.headers['content-type']).toMatch(/^application\/graphql-response\+json/);
    expect(refused.headers['ratelimit-policy']).toBe('"requests";q=5;w=1;qu="request"');
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.body.errors![0]!.extensions).toMatchObject({
      code: 'RATE_LIMITED',
      limit: 'RATE_LIMIT_PER_KEY',
    });
    await sleep(1100);
  });

  it('counts every event of an emitEvents batch against RATE_LIMIT_EVENTS_PER_KEY and refuses a batch whole', async () => {
    const tenant = await t.tenant();
    const batch = (size: number) =>
      fetchAs(tenant.key.secret, EMIT_MANY, { input: Array.from({ length: size }, () => loginEvent()) });
    const tooMany = await batch(11);
    expect(tooMany.status).toBe(429);
    const refusal = (await tooMany.json()) as HttpAnswer['body'];
    expect(refusal.errors![0]!.extensions).toMatchObject({
      code: 'RATE_LIMITED',
      limit: 'RATE_LIMIT_EVENTS_PER_KEY',
    });
    expect(tooMany.headers.get('ratelimit-policy')).toBe('"events";q=10;w=1');

    await sleep(1100);
    // Two batches of six in the same second: 12 events against a limit of 10, so exactly one passes.
    const [first, second] = await Promise.all([batch(6), batch(6)]);
    expect([first!.status, second!.status].sort()).toEqual([200, 429]);
    const accepted = (await (first!.status === 200 ? first! : second!).json()) as HttpAnswer['body'];
    expect(accepted.data.emitEvents.acceptedCount).toBe(6);

    await sleep(1100);
    const stored = await fetchAs(tenant.key.secret, '{ events(first: 1) { totalCount } }');
    expect(((await stored.json()) as HttpAnswer['body']).data.events.totalCount).toBe(6);
  });

  it('locks an address out after RATE_LIMIT_AUTH_FAILURES_PER_IP failed authentications, even with a correct key', async () => {
    const tenant = await t.tenant();
    const attacker = '127.0.0.3';
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const answer = await post(
        port,
        '{ events(first: 1) { totalCount } }',
        wrongSecret(tenant.key.secret),
        attacker,
      );
      expect(answer.body.errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');
    }
    const locked = await post(port, '{ events(first: 1) { totalCount } }', tenant.key.secret, attacker);
    expect(locked.status).toBe(429);
    expect(locked.body.errors![0]!.extensions).toMatchObject({
      code: 'RATE_LIMITED',
      limit: 'RATE_LIMIT_AUTH_FAILURES_PER_IP',
    });
    const retryAfter = Number(locked.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(locked.headers['ratelimit-policy']).toBe('"auth-failures";q=3;w=60');

    // The same key from another address, and the WebSocket from the locked one.
    const elsewhere = await post(port, '{ events(first: 1) { totalCount } }', tenant.key.secret, '127.0.0.4');
    expect(elsewhere.status).toBe(200);
    expect(elsewhere.body.data.events.totalCount).toBe(0);
    const socket = await wsConnectFrom(port, tenant.key.secret, attacker);
    expect(socket.acknowledged).toBe(false);
    expect(socket.code).toBe(4429);
    expect(socket.reason).toContain('RATE_LIMIT_AUTH_FAILURES_PER_IP');
  });

  it('counts failed WebSocket authentications against the address too', async () => {
    const tenant = await t.tenant();
    const attacker = '127.0.0.5';
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const refused = await wsConnectFrom(port, wrongSecret(tenant.key.secret), attacker);
      expect(refused.code).toBe(4401);
    }
    expect((await post(port, '{ __typename }', tenant.key.secret, attacker)).status).toBe(429);
    expect((await wsConnectFrom(port, tenant.key.secret, '127.0.0.6')).acknowledged).toBe(true);
  });

  it('over WebSocket, an operation past RATE_LIMIT_PER_KEY gets an error message and the connection stays up', async () => {
    const tenant = await t.tenant();
    const connection = connectClient(`ws://127.0.0.1:${port}/graphql`, tenant.key.secret);
    expect(await connection.acknowledged).toBe(true);
    const operations = Array.from({ length: 10 }, () => connection.run('{ __typename }'));
    const ends = await Promise.all(operations.map((operation) => operation.end));
    const refused = ends.filter((end) => end.kind === 'error');
    expect(refused.length).toBeGreaterThanOrEqual(1);
    const error = refused[0]!.kind === 'error' ? refused[0]!.errors[0]! : null;
    expect(error?.extensions).toEqual({
      code: 'RATE_LIMITED',
      limit: 'RATE_LIMIT_PER_KEY',
      retryAfterSeconds: 1,
    });
    expect(ends.filter((end) => end.kind === 'complete').length).toBeLessThanOrEqual(5 * 2);

    await sleep(1100);
    const later = connection.run('{ __typename }');
    expect(await later.end).toEqual({ kind: 'complete' });
    expect(later.results).toEqual([{ data: { __typename: 'Query' } }]);
    await connection.dispose();
  });
});

describe('RateLimits', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('ends a lockout when its minute has passed', async () => {
    vi.useFakeTimers();
    const limits = new RateLimits({ requestsPerKey: 5, eventsPerKey: 10, authFailuresPerIp: 2 });
    await limits.recordAuthFailure('192.0.2.1');
    await expect(limits.refuseLockedOut('192.0.2.1')).resolves.toBeUndefined();
    await limits.recordAuthFailure('192.0.2.1');
    await expect(limits.refuseLockedOut('192.0.2.1')).rejects.toMatchObject({
      extensions: { code: 'RATE_LIMITED', retryAfterSeconds: 60 },
    });
    await expect(limits.refuseLockedOut('192.0.2.2')).resolves.toBeUndefined();
    vi.advanceTimersByTime(59_000);
    await expect(limits.refuseLockedOut('192.0.2.1')).rejects.toMatchObject({
      extensions: { retryAfterSeconds: 1 },
    });
    vi.advanceTimersByTime(1_000);
    await expect(limits.refuseLockedOut('192.0.2.1')).resolves.toBeUndefined();
  });

  it('keeps each key to its own quota', async () => {
    const limits = new RateLimits({ requestsPerKey: 2, eventsPerKey: 3, authFailuresPerIp: 2 });
    await limits.consumeRequest('a');
    await limits.consumeRequest('a');
    await expect(limits.consumeRequest('a')).rejects.toMatchObject({
      extensions: { limit: 'RATE_LIMIT_PER_KEY' },
    });
    await expect(limits.consumeRequest('b')).resolves.toBeUndefined();
    await expect(limits.consumeEvents('a', 3)).resolves.toBeUndefined();
    await expect(limits.consumeEvents('a', 1)).rejects.toMatchObject({
      extensions: { limit: 'RATE_LIMIT_EVENTS_PER_KEY' },
    });
    await expect(limits.consumeEvents('b', 4)).rejects.toMatchObject({
      extensions: { code: 'RATE_LIMITED' },
    });
    await expect(limits.consumeEvents('b', 0)).resolves.toBeUndefined();
  });
});

describe('emittedEventCount', () => {
  const count = (query: string, variables?: Record<string, unknown>) =>
    emittedEventCount(parse(query), null, variables);

  it('counts emitEvent once and emitEvents by the length of its input, through aliases and fragments', () => {
    expect(count('mutation { emitEvent(input: {}) { replayed } }')).toBe(1);
    expect(
      count('mutation { a: emitEvent(input: {}) { replayed } b: emitEvent(input: {}) { replayed } }'),
    ).toBe(2);
    expect(count('mutation { emitEvents(input: [{}, {}, {}]) { acceptedCount } }')).toBe(3);
    expect(
      count('mutation M($i: [EmitEventInput!]!) { emitEvents(input: $i) { acceptedCount } }', {
        i: [{}, {}],
      }),
    ).toBe(2);
    expect(
      count('mutation M($i: [EmitEventInput!]!) { emitEvents(input: $i) { acceptedCount } }', { i: {} }),
    ).toBe(1);
    expect(count('mutation M($i: [EmitEventInput!]) { emitEvents(input: $i) { acceptedCount } }', {})).toBe(
      0,
    );
    expect(count('mutation { emitEvents(input: {}) { acceptedCount } }')).toBe(1);
    expect(count('mutation { emitEvents(input: null) { acceptedCount } }')).toBe(0);
    expect(
      count(
        'mutation { ...F ... on Mutation { emitEvent(input: {}) { replayed } } } fragment F on Mutation { emitEvents(input: [{}, {}]) { acceptedCount } ...F }',
      ),
    ).toBe(3);
    expect(count('query { emitEvent: __typename }')).toBe(0);
  });
});
