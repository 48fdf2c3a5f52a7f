import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createHttpServer } from '../../src/http/server.ts';
import { createLogger } from '../../src/logger.ts';
import { backends } from '../support/backends.ts';
import { createTestApp, EMIT, loginEvent, type Tenant, type TestApp } from '../support/test-app.ts';
import { openStream, wsUrl } from '../support/ws-client.ts';

const HEADERS_TIMEOUT_MS = 500;
const REQUEST_TIMEOUT_MS = 1_000;
const KEEP_ALIVE_TIMEOUT_MS = 500;

/** Resolves with the milliseconds until the server closed `socket`, or null if it still is open after `limitMs`. */
function closedWithin(socket: Socket, limitMs: number): Promise<number | null> {
  const started = Date.now();
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), limitMs);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(Date.now() - started);
    });
  });
}

/** A connection that sends `head`, then `drip` every 100 ms, never finishing its request. */
function slowClient(port: number, head: string, drip: string) {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => {});
  socket.write(head);
  const timer = setInterval(() => {
    if (!socket.destroyed) socket.write(drip);
  }, 100);
  socket.once('close', () => clearInterval(timer));
  return socket;
}

describe.each(backends())('HTTP timeouts on $name', (backend) => {
  let t: TestApp;
  let tenant: Tenant;
  let port: number;

  beforeAll(async () => {
    t = await createTestApp(backend, {
      HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
      HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
      HTTP_KEEP_ALIVE_TIMEOUT_MS: String(KEEP_ALIVE_TIMEOUT_MS),
    });
    tenant = await t.tenant();
    port = await t.app.start(0, '127.0.0.1');
  });
  afterAll(() => t.close());

  it('closes 20 slow-loris sockets soon after the headers timeout while normal requests keep working', async () => {
    const sockets = Array.from({ length: 20 }, () =>
      slowClient(port, 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n', 'X-Slow: 1\r\n'),
    );
    const closes = Promise.all(sockets.map((socket) => closedWithin(socket, 5_000)));
    await new Promise((resolve) => setTimeout(resolve, 200));
    const meanwhile = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(meanwhile.status).toBe(200);
    const times = await closes;
    expect(times.every((ms) => ms !== null && ms < HEADERS_TIMEOUT_MS * 4)).toBe(true);
  });

  it('closes a connection whose body trickles in slower than the request timeout', async () => {
    const socket = slowClient(
      port,
      'POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n',
      ' ',
    );
    const ms = await closedWithin(socket, 5_000);
    expect(ms).not.toBeNull();
    expect(ms!).toBeLessThan(REQUEST_TIMEOUT_MS * 3);
  });

  it('closes an idle keep-alive connection after the keep-alive timeout', async () => {
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => {});
    const answered = new Promise((resolve) => socket.once('data', resolve));
    socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    await answered;
    const ms = await closedWithin(socket, 5_000);
    expect(ms).not.toBeNull();
    // Node waits a little past the timeout (about a second on Node 20) before it closes.
    expect(ms!).toBeLessThan(KEEP_ALIVE_TIMEOUT_MS + 2_500);
  });

  it('keeps a long response (a server-sent event stream) going well past the request timeout', async () => {
    const query = encodeURIComponent('subscription { eventStream { node { id } } }');
    const controller = new AbortController();
    const response = await fetch(`http://127.0.0.1:${port}/graphql?query=${query}`, {
      headers: { accept: 'text/event-stream', authorization: `Bearer ${tenant.key.secret}` },
      signal: controller.signal,
    });
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    try {
      await new Promise((resolve) => setTimeout(resolve, REQUEST_TIMEOUT_MS * 2.5));
      const emitted = await tenant.gql(EMIT, { input: loginEvent() });
      const id = emitted.data!.emitEvent.event.id as string;
      let received = '';
      const deadline = Date.now() + 5_000;
      while (!received.includes(id) && Date.now() < deadline) {
        const { value, done } = await reader.read();
        if (done) break;
        received += new TextDecoder().decode(value);
      }
      expect(received).toContain(id);
    } finally {
      controller.abort();
    }
  });

  it('keeps a WebSocket stream open and delivering well past the request timeout', async () => {
    const stream = openStream(wsUrl(port), tenant.key.secret);
    try {
      await new Promise((resolve) => setTimeout(resolve, REQUEST_TIMEOUT_MS * 2.5));
      const emitted = await tenant.gql(EMIT, { input: loginEvent() });
      expect(emitted.errors).toBeUndefined();
      const [edge] = await stream.waitFor(1);
      expect(edge!.node.id).toBe(emitted.data!.emitEvent.event.id);
      const still = await Promise.race([
        stream.outcome,
        new Promise((resolve) => setTimeout(() => resolve('open'), 50)),
      ]);
      expect(still).toBe('open');
    } finally {
      await stream.dispose();
    }
  });
});

describe('the HTTP server defaults', () => {
  it('check for overdue requests often enough to close a slow-loris socket within 30 s', () => {
    const server = createHttpServer(loadConfig({}).http, [], createLogger('silent'));
    expect(server.headersTimeout).toBe(20_000);
    expect(server.requestTimeout).toBe(30_000);
    expect(server.keepAliveTimeout).toBe(5_000);
    // Node's option, missing from @types/node.
    const { connectionsCheckingInterval } = server as typeof server & { connectionsCheckingInterval: number };
    expect(server.headersTimeout + connectionsCheckingInterval).toBeLessThanOrEqual(30_000);
  });

  it('never asks Node for a headers timeout longer than the request timeout, which it refuses', () => {
    const http = loadConfig({ HTTP_HEADERS_TIMEOUT_MS: '40000', HTTP_REQUEST_TIMEOUT_MS: '10000' }).http;
    const server = createHttpServer(http, [], createLogger('silent'));
    expect(server.headersTimeout).toBe(10_000);
  });
});
