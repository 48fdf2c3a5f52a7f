import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from '../support/backends.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';
import { healthy, rawRequest } from './support/raw-http.ts';

// Both backends: these requests barely reach the database (a key lookup, `select 1`), so PostgreSQL
// adds little beyond its setup. Each property stops after NUM_RUNS cases or TIME_BUDGET_MS.
const NUM_RUNS = 120;
const TIME_BUDGET_MS = 5_000;
const budget = { numRuns: NUM_RUNS, plugins: [fc.interruptAfterTimeLimit(TIME_BUDGET_MS)] };

const ROUTES = ['/graphql', '/healthz', '/readyz', '/exports/', '/', '', '*', 'http://127.0.0.1/graphql'];
const METHODS = ['GET', 'POST', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'PATCH', 'TRACE', 'CONNECT'];
const PERCENT_PIECES = [
  '%',
  '%%',
  '%E0%A4%A',
  '%00',
  '%ZZ',
  '%2F',
  '%C3%28',
  '%FF',
  '%e2%82',
  '%25',
  '%u0041',
];
const QUERIES = [
  '{ __typename }',
  '{ __schema { types { name } } }',
  '{ events(first: 1) { totalCount } }',
  'subscription { eventStream { cursor } }',
  'mutation { __typename }',
  '{',
  'query A { __typename } query B { __typename }',
];

/** Bytes from the whole 0–255 range, as latin1 text, so a request line can carry any of them. */
const anyBytes = (maxLength: number) =>
  fc.uint8Array({ maxLength }).map((bytes) => Buffer.from(bytes).toString('latin1'));

const pathArbitrary = fc
  .tuple(
    fc.constantFrom(...ROUTES),
    fc.array(
      fc.oneof(
        fc.constantFrom(...PERCENT_PIECES, '..', '/', '?', '#', '?query={__typename}', '?query=%', '&'),
        fc.stringMatching(/^[A-Za-z0-9._~-]{0,8}$/),
        fc.integer({ min: 0, max: 255 }).map((byte) => `%${byte.toString(16).padStart(2, '0')}`),
        fc.string({ maxLength: 4, unit: 'binary' }),
        anyBytes(4),
      ),
      { maxLength: 6 },
    ),
  )
  .map(([route, pieces]) => route + pieces.join(''));

const headerValue = (key: string) =>
  fc.oneof(
    fc.constantFrom(
      'application/json',
      'application/graphql-response+json',
      'multipart/form-data; boundary=x',
      'application/x-www-form-urlencoded',
      'text/event-stream',
      'text/html',
      'chunked',
      'gzip, deflate',
      '-1',
      '0',
      '99999999999999999999',
      'Bearer al_live_nope',
      `Bearer ${key}`,
      'Basic Zm9vOmJhcg==',
      'websocket',
      'Upgrade',
      'close',
      'keep-alive',
      '100-continue',
      'https://evil.example',
      '127.0.0.1',
      '[::1]:80',
      'a b',
    ),
    fc.string({ maxLength: 24 }),
    fc.string({ maxLength: 12, unit: 'binary' }),
    anyBytes(12),
  );

const headerName = fc.oneof(
  fc.constantFrom(
    'Host',
    'Content-Type',
    'Content-Length',
    'Transfer-Encoding',
    'Authorization',
    'Accept',
    'Accept-Encoding',
    'Origin',
    'Upgrade',
    'Connection',
    'Expect',
    'Cookie',
    'Access-Control-Request-Method',
    'Access-Control-Request-Headers',
    'X-Forwarded-For',
  ),
  fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,12}$/),
  anyBytes(8),
);

const bodyArbitrary = fc.oneof(
  fc.constant(''),
  fc.string({ maxLength: 64, unit: 'binary' }),
  fc.json({ maxDepth: 3 }),
  fc
    .record(
      {
        query: fc.oneof(fc.constantFrom(...QUERIES), fc.string({ maxLength: 40 })),
        variables: fc.jsonValue({ maxDepth: 2 }),
        operationName: fc.oneof(fc.constant('A'), fc.string({ maxLength: 6 })),
        extensions: fc.jsonValue({ maxDepth: 2 }),
      },
      { requiredKeys: ['query'] },
    )
    .map((params) => JSON.stringify(params)),
  fc.string({ maxLength: 40 }).map((text) => `query=${encodeURIComponent(text)}`),
  anyBytes(64),
);

/** How the body is framed: a matching Content-Length, a wrong one, chunked (well-formed or not), or none. */
const framing = fc.constantFrom('length', 'wrong-length', 'chunked', 'broken-chunked', 'none');

function frame(body: string, how: string): { headers: string; payload: string } {
  const length = Buffer.byteLength(body, 'latin1');
  switch (how) {
    case 'length':
      return { headers: `Content-Length: ${length}\r\n`, payload: body };
    case 'wrong-length':
      return { headers: `Content-Length: ${Math.max(0, length - 3)}\r\n`, payload: body };
    case 'chunked':
      return {
        headers: 'Transfer-Encoding: chunked\r\n',
        payload: `${length > 0 ? `${length.toString(16)}\r\n${body}\r\n` : ''}0\r\n\r\n`,
      };
    case 'broken-chunked':
      return { headers: 'Transfer-Encoding: chunked\r\n', payload: `zz\r\n${body}\r\n` };
    default:
      return { headers: '', payload: body };
  }
}

describe.each(backends())('HTTP fuzzing on $name', (backend) => {
  let t: TestApp;
  let port: number;
  let key: string;

  beforeAll(async () => {
    // Thousands of bad keys from 127.0.0.1 must not lock the fuzzer out of its own checks.
    t = await createTestApp(backend, { RATE_LIMIT_AUTH_FAILURES_PER_IP: '1000000' });
    key = (await t.tenant(['events:read'])).key.secret;
    port = await t.app.start(0, '127.0.0.1');
  });
  afterAll(() => t.close());

  /** Sends one request and holds the server to: no 5xx, an answer or a close, and /healthz alive after. */
  async function survives(request: string) {
    const answer = await rawRequest(port, Buffer.from(request, 'latin1'), { answerMs: 300, closeMs: 3_000 });
    expect(answer.statuses.filter((status) => status >= 500)).toEqual([]);
    expect(answer.closed).toBe(true);
    expect(await healthy(port)).toBe(true);
  }

  it('answers random request lines, paths and headers without a server error', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.constantFrom(...METHODS), fc.stringMatching(/^[A-Z]{1,8}$/), anyBytes(6)),
        pathArbitrary,
        fc.oneof(
          { weight: 4, arbitrary: fc.constant('HTTP/1.1') },
          fc.constantFrom('HTTP/1.0', 'HTTP/2.0', 'HTTP/1.2', 'http/1.1', '', 'HTTP/1.1 x'),
        ),
        fc.option(fc.constantFrom('127.0.0.1', 'a b', '', '[::1]', 'x:99999')),
        fc.array(fc.tuple(headerName, headerValue(key)), { maxLength: 6 }),
        fc.boolean(),
        async (method, path, version, host, headers, close) => {
          const lines = [
            `${method} ${path} ${version}`,
            ...(host === null ? [] : [`Host: ${host}`]),
            ...headers.map(([name, value]) => `${name}: ${value}`),
            ...(close ? ['Connection: close'] : []),
          ];
          await survives(`${lines.join('\r\n')}\r\n\r\n`);
        },
      ),
      budget,
    );
  });

  it('answers random bodies to every route without a server error', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'POST', 'POST', 'POST', 'PUT', 'OPTIONS'),
        fc.constantFrom(
          '/graphql',
          '/graphql',
          '/graphql?query={__typename}',
          '/healthz',
          '/readyz',
          '/exports/x',
          '/nope',
        ),
        fc.array(fc.tuple(headerName, headerValue(key)), { maxLength: 4 }),
        bodyArbitrary,
        framing,
        async (method, path, headers, body, how) => {
          const framed = frame(body, how);
          const head = [
            `${method} ${path} HTTP/1.1`,
            'Host: 127.0.0.1',
            ...headers
              .filter(([name]) => !/^(content-length|transfer-encoding|host)$/i.test(name))
              .map(([name, value]) => `${name}: ${value}`),
            'Connection: close',
          ];
          await survives(`${head.join('\r\n')}\r\n${framed.headers}\r\n${framed.payload}`);
        },
      ),
      budget,
    );
  });

  it('survives raw bytes that are not HTTP at all', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(anyBytes(200), fc.string({ maxLength: 200, unit: 'binary' })),
        async (bytes) => {
          await survives(bytes);
        },
      ),
      { ...budget, numRuns: 40 },
    );
  });
});
