import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { loadConfig } from '../../src/config.ts';
import { writeBatch } from '../../src/events/writer.ts';
import { serveGraphqlWs } from '../../src/websocket-transport.ts';
import { prepared, untilSubscribed } from '../stream/support.ts';
import { backends } from '../support/backends.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';
import { STREAM } from '../support/ws-client.ts';
import { type Connection, connectClient, type OperationEnd } from '../support/ws-operations.ts';

const DEEP_STREAM = /* GraphQL */ `
  subscription { eventStream { node { organization { legalHolds { id } } } } }
`;

/** The errors of an operation that ended with a graphql-ws `error` message (and fails the test otherwise). */
function errorsOf(end: OperationEnd) {
  expect(end.kind).toBe('error');
  return end.kind === 'error' ? end.errors : [];
}

describe.each(backends())('WebSocket limits on $name', (backend) => {
  let t: TestApp;
  let url: string;
  const open: Connection[] = [];
  const connect = (token: string) => {
    const connection = connectClient(url, token);
    open.push(connection);
    return connection;
  };

  beforeAll(async () => {
    t = await createTestApp(backend, {
      MAX_SUBSCRIPTIONS_PER_CONNECTION: '25',
      MAX_WS_CONNECTIONS_PER_KEY: '2',
      MAX_QUERY_DEPTH: '4',
    });
    url = `ws://127.0.0.1:${await t.app.start(0, '127.0.0.1')}/graphql`;
  });
  afterAll(async () => {
    await Promise.all(open.map((connection) => connection.dispose()));
    await t.close();
  });

  it('refuses the 26th subscription of a connection with an error naming MAX_SUBSCRIPTIONS_PER_CONNECTION; the 25 others keep delivering', async () => {
    const tenant = await t.tenant(['events:stream']);
    const connection = connect(tenant.key.secret);
    expect(await connection.acknowledged).toBe(true);
    const before = t.app.services.stream.subscriptionCount;
    const streams = Array.from({ length: 25 }, () => connection.run(STREAM));
    await untilSubscribed(t.app.services.stream, before + 25);

    const extra = connection.run(STREAM);
    const [error] = errorsOf(await extra.end);
    expect(error!.message).toContain('MAX_SUBSCRIPTIONS_PER_CONNECTION');
    expect(error!.message).toContain('25');
    expect(error!.extensions).toEqual({ code: 'RATE_LIMITED', limit: 'MAX_SUBSCRIPTIONS_PER_CONNECTION' });

    await writeBatch(t.database.db, [prepared(tenant.organization.id, 'doc.after_cap')]);
    await Promise.all(streams.map((stream) => stream.waitFor(1)));
    for (const stream of streams) {
      expect(stream.results[0]!.data!.eventStream.node.action).toBe('doc.after_cap');
    }

    // The cap counts what runs now: once one ends, another may start.
    streams[0]!.cancel();
    await untilSubscribed(t.app.services.stream, before + 24);
    const replacement = connection.run(STREAM);
    await untilSubscribed(t.app.services.stream, before + 25);
    await writeBatch(t.database.db, [prepared(tenant.organization.id, 'doc.replacement')]);
    await replacement.waitFor(1);
    for (const stream of streams) stream.cancel();
    replacement.cancel();
  });

  it('closes a connection past MAX_WS_CONNECTIONS_PER_KEY with 4429 at connection_init; other keys are not affected', async () => {
    const busy = await t.tenant(['events:stream']);
    const other = await t.tenant(['events:stream']);
    const first = connect(busy.key.secret);
    const second = connect(busy.key.secret);
    expect(await first.acknowledged).toBe(true);
    expect(await second.acknowledged).toBe(true);

    const third = connect(busy.key.secret);
    expect(await third.acknowledged).toBe(false);
    expect(await third.closed).toEqual({
      code: 4429,
      reason: 'Too many connections for this API key (MAX_WS_CONNECTIONS_PER_KEY)',
    });
    expect(await connect(other.key.secret).acknowledged).toBe(true);

    await first.dispose();
    await first.closed;
    // The server counts the closed connection out when its close arrives.
    await expect
      .poll(async () => {
        const again = connect(busy.key.secret);
        const acknowledged = await again.acknowledged;
        if (acknowledged) await again.dispose();
        return acknowledged;
      })
      .toBe(true);
  });

  describe('errors of one operation', () => {
    let connection: Connection;
    let live: ReturnType<Connection['run']>;
    let organizationId: string;
    let otherOrganizationId: string;

    beforeAll(async () => {
      const tenant = await t.tenant(['events:stream']);
      organizationId = tenant.organization.id;
      otherOrganizationId = (await t.tenant()).organization.id;
      connection = connect(tenant.key.secret);
      expect(await connection.acknowledged).toBe(true);
      const before = t.app.services.stream.subscriptionCount;
      live = connection.run(STREAM);
      // expect.poll works only inside a test.
      for (let tries = 0; t.app.services.stream.subscriptionCount < before + 1 && tries < 2000; tries += 1) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    });

    /** After each refused operation the connection's other subscription still receives events. */
    async function stillDelivering() {
      const received = live.results.length;
      await writeBatch(t.database.db, [prepared(organizationId, `doc.check_${received}`)]);
      await live.waitFor(received + 1);
      expect(live.results[received]!.data!.eventStream.node.action).toBe(`doc.check_${received}`);
    }

    it('a syntax error is an error message for that operation, without closing the connection', async () => {
      const [error] = errorsOf(await connection.run('subscription { eventStream {').end);
      expect(error!.message).toMatch(/^Syntax Error/);
      await stillDelivering();
    });

    it('a validation error is an error message for that operation', async () => {
      const [error] = errorsOf(await connection.run('subscription { eventStream { nope } }').end);
      expect(error!.message).toContain('nope');
      await stillDelivering();
    });

    it('a query deeper than MAX_QUERY_DEPTH (Armor) is an error message for that operation', async () => {
      const [error] = errorsOf(await connection.run(DEEP_STREAM).end);
      expect(error!.message).toMatch(/depth/i);
      await stillDelivering();
    });

    it('a missing scope is an error message for that operation', async () => {
      const [error] = errorsOf(await connection.run('{ events(first: 1) { totalCount } }').end);
      expect(error!.extensions!.code).toBe('FORBIDDEN');
      expect(error!.message).toContain('events:read');
      await stillDelivering();
    });

    it("another organization's stream is an error message for that operation", async () => {
      const end = await connection.run(STREAM, { filter: { organizationId: otherOrganizationId } }).end;
      const [error] = errorsOf(end);
      expect(error!.extensions!.code).toBe('FORBIDDEN');
      await stillDelivering();
    });

    it('a bad cursor is an error message for that operation', async () => {
      const [error] = errorsOf(await connection.run(STREAM, { after: 'not-a-cursor' }).end);
      expect(error!.extensions!.code).toBe('BAD_USER_INPUT');
      await stillDelivering();
    });
  });
});

describe('a server fault in one operation', () => {
  /** A bare graphql-ws server whose onSubscribe fails the way a bug would; resolves with the close the client sees. */
  async function faultClose(exposeErrors: boolean) {
    const server = createServer();
    const webSocketServer = new WebSocketServer({ server, path: '/graphql' });
    const transport = serveGraphqlWs(
      {
        onSubscribe: () => {
          throw new Error('relation "secret_table" does not exist');
        },
      },
      webSocketServer,
      { keepAliveMs: 60_000, exposeErrors },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const connection = connectClient(`ws://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`, 'x');
    try {
      expect(await connection.acknowledged).toBe(true);
      connection.run('{ __typename }');
      return await connection.closed;
    } finally {
      await transport.dispose();
      await new Promise((resolve) => webSocketServer.close(resolve));
      await new Promise((resolve) => server.close(resolve));
    }
  }

  it('closes the connection with 4500 and no internal message', async () => {
    expect(await faultClose(false)).toEqual({ code: 4500, reason: 'Internal server error' });
  });

  it('shows the internal message only where exposeErrors is set', async () => {
    expect(await faultClose(true)).toEqual({ code: 4500, reason: 'relation "secret_table" does not exist' });
  });

  it('exposes internal messages only when NODE_ENV=development is set explicitly', () => {
    expect(loadConfig({})).toMatchObject({ environment: 'development', exposeInternalErrors: false });
    expect(loadConfig({ NODE_ENV: 'development' }).exposeInternalErrors).toBe(true);
    expect(loadConfig({ NODE_ENV: 'production' }).exposeInternalErrors).toBe(false);
    expect(loadConfig({ NODE_ENV: 'test' }).exposeInternalErrors).toBe(false);
  });
});
