import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { guardRequests } from '../../src/http/guard.ts';
import type { Logger } from '../../src/logger.ts';
import { backends } from '../support/backends.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';
import { healthy, rawRequest } from './support/raw-http.ts';

const get = (path: string, extra = '') =>
  `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${extra}Connection: close\r\n\r\n`;

describe.each(backends())('the HTTP guard on $name', (backend) => {
  let t: TestApp;
  let port: number;
  let base: string;

  beforeAll(async () => {
    t = await createTestApp(backend, { GRAPHIQL: 'true' });
    port = await t.app.start(0, '127.0.0.1');
    base = `http://127.0.0.1:${port}`;
  });
  afterAll(() => t.close());

  it('answers malformed percent-encoding in an export link with 400 and keeps serving', async () => {
    for (const path of ['/exports/%', '/exports/%E0%A4%A', '/exports/%zz', '/graphql%', '/%']) {
      const answer = await rawRequest(port, get(path));
      expect(answer.statuses, path).toEqual([400]);
      expect(answer.text).toContain('"code":"BAD_REQUEST"');
    }
    expect(await healthy(port)).toBe(true);
  });

  it('answers unknown paths with 404, GraphQL included, which lives at /graphql only', async () => {
    for (const path of [
      '/',
      '/foo',
      '/graphql/',
      '/x/graphql',
      '/graphqlx',
      '/healthz/x',
      '/exports/',
      '*',
    ]) {
      const response = await rawRequest(port, get(path));
      expect(response.statuses, path).toEqual([404]);
    }
    const absolute = await rawRequest(port, get('http://evil.example/graphql?query={__typename}'));
    expect(absolute.statuses).toEqual([404]);
  });

  it('answers a method a route does not take with 405 and Allow', async () => {
    const cases: [string, string, string][] = [
      ['POST', '/healthz', 'GET, HEAD'],
      ['DELETE', '/readyz', 'GET, HEAD'],
      ['PUT', '/exports/abc', 'GET, HEAD'],
      ['DELETE', '/graphql', 'GET, POST, OPTIONS'],
      ['PATCH', '/graphql', 'GET, POST, OPTIONS'],
    ];
    for (const [method, path, allow] of cases) {
      const response = await fetch(`${base}${path}`, { method });
      expect(response.status, `${method} ${path}`).toBe(405);
      expect(response.headers.get('allow')).toBe(allow);
      expect((await response.json()).errors[0].extensions.code).toBe('METHOD_NOT_ALLOWED');
    }
  });

  it('answers a Host header that makes no URL with 400 instead of failing inside GraphQL', async () => {
    for (const host of ['a b', '[zz]', 'x/y?', '']) {
      const answer = await rawRequest(
        port,
        `GET /graphql?query={__typename} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
      );
      expect(answer.statuses, JSON.stringify(host)).toEqual([400]);
    }
    const ipv6 = await rawRequest(port, get('/graphql?query={__typename}').replace('127.0.0.1', '[::1]:80'));
    expect(ipv6.statuses).toEqual([200]);
  });

  it('answers malformed HTTP and oversized headers with a status line and closes the connection', async () => {
    const cases: [string, number][] = [
      ['GARBAGE\r\n\r\n', 400],
      ['GET / HTTP/1.1\r\nHost: x\r\nBad Header: value\r\n\r\n', 400],
      ['GET / HTTP/1.1\r\nHost: x\r\nX: a\u0001b\r\n\r\n', 400],
      ['GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n', 400],
      [`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431],
    ];
    for (const [request, status] of cases) {
      const answer = await rawRequest(port, request, { answerMs: 2_000 });
      expect(answer.statuses, request.slice(0, 40)).toEqual([status]);
      expect(answer.closed).toBe(true);
    }
    expect(await healthy(port)).toBe(true);
  });

  it('refuses WebSocket upgrades to other paths or with garbage headers without throwing', async () => {
    const upgrade = (path: string, headers: string) =>
      rawRequest(
        port,
        `GET ${path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n${headers}\r\n`,
        { answerMs: 200 },
      );
    const valid = 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n';
    expect((await upgrade('/nope', valid)).statuses).toEqual([404]);
    expect((await upgrade('/healthz', valid)).statuses).toEqual([404]);
    expect(
      (await upgrade('/graphql', 'Sec-WebSocket-Key: garbage\r\nSec-WebSocket-Version: 13\r\n')).statuses,
    ).toEqual([400]);
    expect((await upgrade('/graphql', `${valid}Sec-WebSocket-Protocol: ,,, ;\r\n`)).statuses).toEqual([400]);
    expect((await upgrade('/graphql', 'Sec-WebSocket-Version: 99\r\n')).statuses).toEqual([400]);
    const accepted = await upgrade('/graphql', `${valid}Sec-WebSocket-Protocol: graphql-transport-ws\r\n`);
    expect(accepted.statuses).toEqual([101]);
    expect(await healthy(port)).toBe(true);
  });

  it('keeps GraphiQL at /graphql when it is enabled', async () => {
    const response = await fetch(`${base}/graphql`, { headers: { accept: 'text/html' } });
    expect(response.status).toBe(200);
    expect(await response.text()).toMatch(/graphiql/i);
  });

  it('keeps the WebSocket endpoint at /graphql', async () => {
    const socket = new WebSocket(`ws://127.0.0.1:${port}/graphql`, 'graphql-transport-ws');
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    socket.close();
  });
});

describe('a faulting handler behind the guard', () => {
  const logged: string[] = [];
  const logger: Logger = {
    debug() {},
    info() {},
    warn() {},
    error: (message, fields) => logged.push(`${message} ${JSON.stringify(fields)}`),
  };
  const handlers: Record<string, (res: import('node:http').ServerResponse) => unknown> = {
    '/sync': () => {
      throw new Error('sync fault');
    },
    '/async': async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      throw new URIError('URI malformed');
    },
    '/late': async (res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('partial');
      await new Promise((resolve) => setTimeout(resolve, 5));
      throw new Error('late fault');
    },
    '/after-end': (res) => {
      res.end('done');
      res.write('more'); // emitted as an 'error' on the response
    },
    '/non-error': () => Promise.reject('a string with request data'),
    '/headers-set': (res) => {
      res.setHeader('content-encoding', 'gzip');
      throw new Error('fault after setHeader');
    },
  };
  let server: Server;
  let port: number;

  beforeAll(async () => {
    server = createServer(
      guardRequests((req, res) => handlers[req.url!.split('?')[0]!]!(res), {
        logger,
        routeName: () => 'test-route',
      }),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const secretRequest = (path: string) =>
    `POST ${path}?q=query-secret HTTP/1.1\r\nHost: x\r\nX-Secret: header-secret\r\nContent-Length: 11\r\nConnection: close\r\n\r\nbody-secret`;

  it('answers 500 with a request id, logged with the stack but without the request data', async () => {
    for (const path of ['/sync', '/async', '/headers-set']) {
      logged.length = 0;
      const answer = await rawRequest(port, secretRequest(path));
      expect(answer.statuses, path).toEqual([500]);
      const requestId = /x-request-id: ([0-9a-f-]{36})/i.exec(answer.text)?.[1];
      expect(requestId).toBeDefined();
      const body = JSON.parse(answer.text.slice(answer.text.indexOf('\r\n\r\n') + 4));
      expect(body.errors[0].extensions).toEqual({ code: 'INTERNAL_SERVER_ERROR', requestId });
      expect(answer.text).not.toMatch(/content-encoding/i);
      expect(logged).toHaveLength(1);
      expect(logged[0]).toContain(requestId);
      expect(logged[0]).toContain('test-route');
      expect(logged[0]).toMatch(/fault|URIError/);
      expect(logged[0]).toContain('guard.test.ts'); // the stack
      expect(logged[0]).not.toMatch(/query-secret|header-secret|body-secret/);
    }
  });

  it('logs a non-Error rejection by its type only', async () => {
    logged.length = 0;
    expect((await rawRequest(port, secretRequest('/non-error'))).statuses).toEqual([500]);
    expect(logged[0]).toContain('a thrown string');
    expect(logged[0]).not.toContain('request data');
  });

  it('cuts the connection when the fault comes after the status line was sent', async () => {
    logged.length = 0;
    const answer = await rawRequest(port, secretRequest('/late'));
    expect(answer.statuses).toEqual([200]);
    expect(answer.closed).toBe(true);
    expect(answer.text).not.toMatch(/\r\n0\r\n\r\n$/); // no clean end of the chunked body
    expect(logged).toHaveLength(1);
  });

  it('survives a write after the end', async () => {
    const answer = await rawRequest(port, secretRequest('/after-end'));
    expect(answer.statuses).toEqual([200]);
    expect((await rawRequest(port, secretRequest('/sync'))).statuses).toEqual([500]);
  });
});
