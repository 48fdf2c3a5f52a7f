import { ApolloClient, gql, InMemoryCache } from '@apollo/client';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { writeBatch } from '../../src/events/writer.ts';
import { backends } from '../support/backends.ts';
import { createTestApp, type Tenant, type TestApp } from '../support/test-app.ts';
import { openStream, STREAM, type StreamEdge, wsUrl } from '../support/ws-client.ts';
import { prepared, publicIds, untilSubscribed } from './support.ts';

/** Reads `eventStream` over Server-Sent Events with nothing but fetch, as a browser's EventSource would. */
async function* sseStream(
  port: number,
  token: string,
  variables: Record<string, unknown>,
  signal: AbortSignal,
) {
  const response = await fetch(`http://127.0.0.1:${port}/graphql`, {
    method: 'POST',
    headers: {
      accept: 'text/event-stream',
      'content-type': 'application/json',
      authorization: `Bearer ${token}`,
    },
    body: JSON.stringify({ query: STREAM, variables }),
    signal,
  });
  expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const decoder = new TextDecoder();
  let pending = '';
  for await (const chunk of response.body!) {
    pending += decoder.decode(chunk as Uint8Array, { stream: true });
    let end = pending.indexOf('\n\n');
    while (end >= 0) {
      const message = pending.slice(0, end);
      pending = pending.slice(end + 2);
      end = pending.indexOf('\n\n');
      const lines = message.split('\n');
      const event = lines
        .find((line) => line.startsWith('event:'))
        ?.slice(6)
        .trim();
      const data = lines
        .find((line) => line.startsWith('data:'))
        ?.slice(5)
        .trim();
      if (event === 'next' && data)
        yield JSON.parse(data) as { data?: { eventStream: StreamEdge }; errors?: unknown };
      if (event === 'complete') return;
    }
  }
}

describe.each(backends())('real clients on $name', (backend) => {
  let t: TestApp;
  let port: number;
  let tenant: Tenant;
  beforeAll(async () => {
    t = await createTestApp(backend);
    port = await t.app.start(0);
    tenant = await t.tenant();
    await writeBatch(
      t.database.db,
      Array.from({ length: 6 }, (_, index) => prepared(tenant.organization.id, `doc.step_${index}`)),
    );
  });
  afterAll(() => t.close());

  const actions = (edges: StreamEdge[]) => edges.map((edge) => edge.node.action);
  const allSix = Array.from({ length: 6 }, (_, index) => `doc.step_${index}`);

  it('graphql-ws client: subscribes, receives live events, and resumes from its last cursor', async () => {
    const live = openStream(wsUrl(port), tenant.key.secret);
    await untilSubscribed(t.app.services.stream, 1);
    const fresh = [prepared(tenant.organization.id, 'doc.live')];
    await writeBatch(t.database.db, fresh);
    await live.waitFor(1);
    expect(live.edges.map((edge) => edge.node.id)).toEqual(publicIds(fresh));
    await live.dispose();

    const first = openStream(wsUrl(port), tenant.key.secret, { from: 'BEGINNING' });
    await first.waitFor(3);
    await first.dispose();
    const resumed = openStream(wsUrl(port), tenant.key.secret, { after: first.edges.at(-1)!.cursor });
    await resumed.waitFor(7 - first.edges.length);
    await resumed.dispose();
    expect(actions([...first.edges, ...resumed.edges])).toEqual([...allSix, 'doc.live']);

    const forged = openStream(wsUrl(port), tenant.key.secret, { after: 'bm90IGEgY3Vyc29y' });
    expect(await forged.outcome).toMatchObject({
      kind: 'errors',
      errors: [{ extensions: { code: 'BAD_USER_INPUT', path: ['after'] } }],
    });
    await forged.dispose();
  });

  it('Apollo Client over GraphQLWsLink: subscribes, receives, and resumes', async () => {
    const wsClient = createClient({
      url: wsUrl(port),
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${tenant.key.secret}` },
    });
    const apollo = new ApolloClient({ link: new GraphQLWsLink(wsClient), cache: new InMemoryCache() });
    const subscription = gql(STREAM);
    const take = (variables: Record<string, unknown>, count: number) =>
      new Promise<StreamEdge[]>((resolve, reject) => {
        const edges: StreamEdge[] = [];
        const handle = apollo
          .subscribe<{ eventStream: StreamEdge }>({ query: subscription, variables })
          .subscribe({
            next: (result) => {
              if (result.error) return reject(result.error);
              edges.push(result.data!.eventStream);
              if (edges.length === count) {
                handle.unsubscribe();
                resolve(edges);
              }
            },
            error: reject,
          });
      });
    const first = await take({ from: 'BEGINNING' }, 2);
    const rest = await take({ after: first.at(-1)!.cursor }, 5);
    expect(actions([...first, ...rest])).toEqual([...allSix, 'doc.live']);
    apollo.stop();
    await wsClient.dispose();
  });

  it('Server-Sent Events through plain fetch: subscribes, receives, and resumes', async () => {
    const read = async (variables: Record<string, unknown>, count: number) => {
      const controller = new AbortController();
      const edges: StreamEdge[] = [];
      try {
        for await (const result of sseStream(port, tenant.key.secret, variables, controller.signal)) {
          expect(result.errors).toBeUndefined();
          edges.push(result.data!.eventStream);
          if (edges.length === count) break;
        }
      } finally {
        controller.abort();
      }
      return edges;
    };
    const first = await read({ from: 'BEGINNING' }, 4);
    const rest = await read({ after: first.at(-1)!.cursor }, 3);
    expect(actions([...first, ...rest])).toEqual([...allSix, 'doc.live']);
    await untilSubscribed(t.app.services.stream, 0);
  });
});
