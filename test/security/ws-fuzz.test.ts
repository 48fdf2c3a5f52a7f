import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { backends } from '../support/backends.ts';
import { createTestApp, EMIT, loginEvent, type Tenant, type TestApp } from '../support/test-app.ts';
import { openStream, STREAM, type StreamClient, wsUrl } from '../support/ws-client.ts';
import { healthy, rawRequest } from './support/raw-http.ts';

// Both backends: the subscriptions here open streams whose work is mostly the server's own, and a
// run stays within TIME_BUDGET_MS per property either way. Whatever the client sends, the server lives,
// never closes with a server fault (4500, 1011), and a stream on another connection keeps delivering.
const NUM_RUNS = 60;
const TIME_BUDGET_MS = 5_000;
const budget = { numRuns: NUM_RUNS, plugins: [fc.interruptAfterTimeLimit(TIME_BUDGET_MS)] };

const QUERIES = [
  STREAM,
  'subscription { eventStream { cursor node { id } } }',
  'subscription S { eventStream(from: BEGINNING) { cursor } }',
  'query { __typename }',
  '{ events(first: 1) { totalCount } }',
  '{ __schema { types { name } } }',
  'mutation { __typename }',
  'subscription {',
  'subscription { nope }',
  'subscription A { eventStream { cursor } } subscription B { eventStream { cursor } }',
  `subscription { eventStream { ${'node { organization { '.repeat(20)}id${' } }'.repeat(20)} } }`,
];

const anyBytes = (maxLength: number) => fc.uint8Array({ maxLength }).map((bytes) => Buffer.from(bytes));

type Frame = string | Buffer;

/** graphql-ws messages, well-formed or not: wrong shapes, unknown types, duplicate and odd ids. */
function messageArbitrary(key: string): fc.Arbitrary<Frame> {
  const id = fc.oneof(fc.constantFrom('1', '1', '2', 'a', ''), fc.string({ maxLength: 6 }), fc.integer());
  const message = fc.oneof(
    fc.record(
      {
        type: fc.constant('connection_init'),
        payload: fc.oneof(
          fc.constant({ authorization: `Bearer ${key}` }),
          fc.constant({ authorization: 'Bearer al_live_nope' }),
          fc.record({ authorization: fc.oneof(fc.string({ maxLength: 20 }), fc.jsonValue({ maxDepth: 1 })) }),
          fc.jsonValue({ maxDepth: 2 }),
        ),
      },
      { requiredKeys: ['type'] },
    ),
    fc.record(
      {
        type: fc.constant('subscribe'),
        id,
        payload: fc.oneof(
          fc.record(
            {
              query: fc.oneof(fc.constantFrom(...QUERIES), fc.string({ maxLength: 40 })),
              variables: fc.oneof(
                fc.jsonValue({ maxDepth: 2 }),
                fc.record({
                  query: fc.string({ maxLength: 20, unit: 'binary' }),
                  after: fc.string({ maxLength: 20 }),
                  from: fc.constantFrom('BEGINNING', 'NOW', 'nope', 1),
                  filter: fc.jsonValue({ maxDepth: 2 }),
                }),
              ),
              operationName: fc.oneof(fc.constantFrom('S', 'A'), fc.string({ maxLength: 4 })),
              extensions: fc.jsonValue({ maxDepth: 1 }),
            },
            { requiredKeys: ['query'] },
          ),
          fc.jsonValue({ maxDepth: 2 }),
        ),
      },
      { requiredKeys: ['type'] },
    ),
    fc.record({ type: fc.constant('complete'), id }, { requiredKeys: ['type'] }),
    fc.record(
      { type: fc.constantFrom('ping', 'pong'), payload: fc.jsonValue({ maxDepth: 1 }) },
      { requiredKeys: ['type'] },
    ),
    fc.record({
      type: fc.oneof(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 1 })),
      id,
      payload: fc.jsonValue({ maxDepth: 2 }),
    }),
    fc.jsonValue({ maxDepth: 2 }),
  );
  return message.map((value) => JSON.stringify(value) ?? 'undefined');
}

const SERVER_FAULT_CLOSE_CODES = [1011, 4500];

/**
 * Opens a WebSocket to `url`, sends `frames` one by one, lingers briefly, and closes it; resolves with
 * the code the server closed it with (null when the client closed first).
 */
async function sendFrames(
  url: string,
  protocols: string[],
  frames: Frame[],
  lingerMs: number,
): Promise<number | null> {
  const socket = new WebSocket(url, protocols);
  socket.on('error', () => {});
  let serverCloseCode: number | null = null;
  const closed = new Promise<void>((resolve) =>
    socket.once('close', (code) => {
      serverCloseCode = code;
      resolve();
    }),
  );
  const opened = await Promise.race([
    new Promise<boolean>((resolve) => socket.once('open', () => resolve(true))),
    closed.then(() => false),
  ]);
  if (opened) {
    for (const frame of frames) {
      if (socket.readyState !== socket.OPEN) break;
      socket.send(frame, { binary: typeof frame !== 'string' });
      await new Promise((resolve) => setImmediate(resolve));
    }
    await new Promise((resolve) => setTimeout(resolve, lingerMs));
  }
  const closedByServer = socket.readyState === socket.CLOSED || socket.readyState === socket.CLOSING;
  if (socket.readyState === socket.OPEN || socket.readyState === socket.CONNECTING) socket.close();
  await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 2_000))]);
  socket.terminate();
  return closedByServer ? serverCloseCode : null;
}

describe.each(backends())('WebSocket fuzzing on $name', (backend) => {
  let t: TestApp;
  let tenant: Tenant;
  let port: number;
  let witness: StreamClient;

  beforeAll(async () => {
    t = await createTestApp(backend, { RATE_LIMIT_AUTH_FAILURES_PER_IP: '1000000' });
    tenant = await t.tenant();
    port = await t.app.start(0, '127.0.0.1');
    witness = openStream(wsUrl(port), tenant.key.secret);
    // Its start position is fixed once the hub holds it; an event emitted before could be missed.
    for (let waited = 0; t.app.services.stream.subscriptionCount < 1 && waited < 10_000; waited += 10) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const emitted = await tenant.gql(EMIT, { input: loginEvent() });
    expect((await witness.waitFor(1))[0]!.node.id).toBe(emitted.data!.emitEvent.event.id);
  });
  afterAll(async () => {
    await witness.dispose();
    await t.close();
  });

  /** The server answers /healthz, and the witness stream on its own connection gets the next event. */
  async function stillServing() {
    expect(await healthy(port)).toBe(true);
    const seen = witness.edges.length;
    const emitted = await tenant.gql(EMIT, { input: loginEvent() });
    expect(emitted.errors).toBeUndefined();
    const edges = await witness.waitFor(seen + 1);
    expect(edges.map((edge) => edge.node.id)).toContain(emitted.data!.emitEvent.event.id);
  }

  it('survives random text and binary frames', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(['graphql-transport-ws'], [], ['graphql-ws'], ['x', 'graphql-transport-ws']),
        fc.array(
          fc.oneof(fc.string({ maxLength: 80, unit: 'binary' }), anyBytes(80), fc.json({ maxDepth: 2 })),
          {
            maxLength: 6,
          },
        ),
        async (protocols, frames) => {
          const code = await sendFrames(wsUrl(port), [...protocols], frames, 20);
          expect(SERVER_FAULT_CLOSE_CODES).not.toContain(code);
          expect(await healthy(port)).toBe(true);
        },
      ),
      budget,
    );
    await stillServing();
  });

  it('survives random graphql-ws messages, before and after connection_init', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.boolean(),
        fc.array(messageArbitrary(tenant.key.secret), { maxLength: 8 }),
        async (initFirst, messages) => {
          const init = JSON.stringify({
            type: 'connection_init',
            payload: { authorization: `Bearer ${tenant.key.secret}` },
          });
          const code = await sendFrames(
            wsUrl(port),
            ['graphql-transport-ws'],
            initFirst ? [init, ...messages] : messages,
            50,
          );
          expect(SERVER_FAULT_CLOSE_CODES).not.toContain(code);
          expect(await healthy(port)).toBe(true);
        },
      ),
      budget,
    );
    await stillServing();
  });

  it('answers random upgrade requests without a server error', async () => {
    const headerValue = fc.oneof(
      fc.constantFrom(
        'websocket',
        'Upgrade',
        'dGhlIHNhbXBsZSBub25jZQ==',
        '13',
        '8',
        'graphql-transport-ws',
        ',,;',
        '',
      ),
      fc.string({ maxLength: 24 }),
      fc.uint8Array({ maxLength: 12 }).map((bytes) => Buffer.from(bytes).toString('latin1')),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('/graphql', '/graphql?x=%', '/nope', '/healthz', '/exports/%'),
        fc.record({
          'Sec-WebSocket-Key': headerValue,
          'Sec-WebSocket-Version': headerValue,
          'Sec-WebSocket-Protocol': headerValue,
          'Sec-WebSocket-Extensions': fc.oneof(
            headerValue,
            fc.constant('permessage-deflate; client_max_window_bits'),
          ),
          Origin: headerValue,
        }),
        async (path, headers) => {
          const lines = [
            `GET ${path} HTTP/1.1`,
            'Host: 127.0.0.1',
            'Upgrade: websocket',
            'Connection: Upgrade',
            ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
          ];
          const answer = await rawRequest(port, Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), {
            answerMs: 200,
          });
          expect(answer.statuses.filter((status) => status >= 500)).toEqual([]);
          expect(answer.closed).toBe(true);
          expect(await healthy(port)).toBe(true);
        },
      ),
      budget,
    );
    await stillServing();
  });
});
