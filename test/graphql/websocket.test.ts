import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { revokeApiKey } from '../../src/tenancy/api-keys.ts';
import { backends } from '../support/backends.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';

/** Opens a graphql-transport-ws connection and sends connection_init; resolves how it went. */
function connect(url: string, authorization: string) {
  const socket = new WebSocket(url, 'graphql-transport-ws');
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  const acknowledged = new Promise<boolean>((resolve) => {
    socket.on('message', (data) => resolve(JSON.parse(data.toString()).type === 'connection_ack'));
    socket.on('close', () => resolve(false));
  });
  socket.on('open', () =>
    socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization } })),
  );
  return { socket, closed, acknowledged };
}

describe.each(backends())('WebSocket connections on $name', (backend) => {
  let t: TestApp;
  let url: string;

  beforeAll(async () => {
    t = await createTestApp(backend, { STREAM_KEY_RECHECK_MS: '200', MAX_WS_CONNECTIONS: '3' });
    url = `ws://127.0.0.1:${await t.app.start(0, '127.0.0.1')}/graphql`;
  });
  afterAll(() => t.close());

  it('closes a connection with an unknown key with 4401', async () => {
    const connection = connect(url, 'Bearer nope');
    expect(await connection.acknowledged).toBe(false);
    expect((await connection.closed).code).toBe(4401);
  });

  it('closes every connection of a revoked key with 4410, even without a subscription', async () => {
    const tenant = await t.tenant(['events:read']);
    const connection = connect(url, `Bearer ${tenant.key.secret}`);
    expect(await connection.acknowledged).toBe(true);
    await revokeApiKey(t.database.db, tenant.key.id);
    expect(await connection.closed).toEqual({
      code: 4410,
      reason: 'The API key of this connection was revoked',
    });
  });

  it('refuses connections beyond MAX_WS_CONNECTIONS with 4429', async () => {
    const tenant = await t.tenant(['events:read']);
    const open = [1, 2, 3].map(() => connect(url, `Bearer ${tenant.key.secret}`));
    for (const connection of open) expect(await connection.acknowledged).toBe(true);
    const extra = connect(url, `Bearer ${tenant.key.secret}`);
    expect((await extra.closed).code).toBe(4429);
    for (const connection of open) connection.socket.close();
  });
});
