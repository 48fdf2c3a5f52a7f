import { type Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';

export const STREAM = /* GraphQL */ `
  subscription Stream($filter: EventFilter, $query: String, $after: String, $from: StreamStart) {
    eventStream(filter: $filter, query: $query, after: $after, from: $from) {
      cursor
      node { id organizationId action actor { id } }
    }
  }
`;

export interface StreamEdge {
  cursor: string;
  node: { id: string; organizationId: string; action: string; actor: { id: string } };
}

/** How a stream ended: completed by the server, a GraphQL error, or the socket closed with a code. */
export type StreamOutcome =
  | { kind: 'complete' }
  | { kind: 'errors'; errors: { message: string; extensions?: { code?: string } }[] }
  | { kind: 'closed'; code: number; reason: string };

export interface StreamClient {
  client: Client;
  edges: StreamEdge[];
  /** Settles when the stream ends for any reason. */
  outcome: Promise<StreamOutcome>;
  /** Resolves once at least `count` edges arrived; rejects if the stream ends first. */
  waitFor(count: number): Promise<StreamEdge[]>;
  dispose(): Promise<void>;
}

export const wsUrl = (port: number) => `ws://127.0.0.1:${port}/graphql`;

/** A real graphql-ws client on its own connection, subscribed to `eventStream`, collecting every edge. */
export function openStream(
  url: string,
  token: string,
  variables: Record<string, unknown> = {},
  options: { query?: string; webSocketImpl?: unknown } = {},
): StreamClient {
  const query = options.query ?? STREAM;
  const edges: StreamEdge[] = [];
  const waiters: { count: number; resolve: () => void; reject: (error: Error) => void }[] = [];
  let ended: StreamOutcome | null = null;
  let settle!: (outcome: StreamOutcome) => void;
  const outcome = new Promise<StreamOutcome>((resolve) => {
    settle = resolve;
  });
  const finish = (result: StreamOutcome) => {
    if (ended) return;
    ended = result;
    settle(result);
    for (const waiter of waiters.splice(0)) {
      waiter.reject(new Error(`stream ended after ${edges.length} edges: ${JSON.stringify(result)}`));
    }
  };
  const client = createClient({
    url,
    webSocketImpl: options.webSocketImpl ?? WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: 0,
    on: {
      closed: (event) => {
        const { code, reason } = event as { code: number; reason: string };
        finish({ kind: 'closed', code, reason: String(reason) });
      },
    },
  });
  client.subscribe<{ eventStream: StreamEdge }>(
    { query, variables },
    {
      next: (result) => {
        if (result.errors) {
          finish({ kind: 'errors', errors: result.errors as never });
          return;
        }
        edges.push(result.data!.eventStream);
        for (const waiter of [...waiters]) {
          if (edges.length >= waiter.count) {
            waiters.splice(waiters.indexOf(waiter), 1);
            waiter.resolve();
          }
        }
      },
      error: (error) => {
        if (Array.isArray(error)) finish({ kind: 'errors', errors: error as never });
        else if (error && typeof error === 'object' && 'code' in error) {
          const { code, reason } = error as { code: number; reason: string };
          finish({ kind: 'closed', code, reason: String(reason) });
        } else finish({ kind: 'errors', errors: [{ message: String(error) }] });
      },
      complete: () => finish({ kind: 'complete' }),
    },
  );
  return {
    client,
    edges,
    outcome,
    waitFor(count) {
      if (edges.length >= count) return Promise.resolve(edges);
      if (ended) return Promise.reject(new Error(`stream already ended: ${JSON.stringify(ended)}`));
      return new Promise((resolve, reject) => waiters.push({ count, resolve: () => resolve(edges), reject }));
    },
    async dispose() {
      await client.dispose();
    },
  };
}
