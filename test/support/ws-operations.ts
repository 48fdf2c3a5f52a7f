import { type Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';

type GraphQLErrorJson = { message: string; extensions?: Record<string, unknown> };

/** How one operation ended: a graphql-ws `error` message, `complete`, or the connection closing. */
export type OperationEnd =
  | { kind: 'error'; errors: GraphQLErrorJson[] }
  | { kind: 'complete' }
  | { kind: 'closed'; code: number; reason: string };

export interface Operation {
  /** Every `next` payload, in order. */
  // biome-ignore lint/suspicious/noExplicitAny: tests read a few fields of arbitrary GraphQL answers
  results: { data?: Record<string, any> | null; errors?: GraphQLErrorJson[] }[];
  end: Promise<OperationEnd>;
  /** Resolves once `count` results arrived; rejects if the operation ends first. */
  waitFor(count: number, timeoutMs?: number): Promise<void>;
  cancel(): void;
}

export interface Connection {
  client: Client;
  /** Resolves true on connection_ack; false when the socket closes first. */
  acknowledged: Promise<boolean>;
  /** The first close of the socket. */
  closed: Promise<{ code: number; reason: string }>;
  run(query: string, variables?: Record<string, unknown>): Operation;
  dispose(): Promise<void>;
}

/** One real graphql-ws client connection that carries many operations at once. */
export function connectClient(url: string, token: string): Connection {
  let acknowledge!: (value: boolean) => void;
  const acknowledged = new Promise<boolean>((resolve) => {
    acknowledge = resolve;
  });
  let closeWith!: (value: { code: number; reason: string }) => void;
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    closeWith = resolve;
  });
  const client = createClient({
    url,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: 0,
    lazy: false,
    onNonLazyError: () => {},
    on: {
      connected: () => acknowledge(true),
      closed: (event) => {
        const { code, reason } = event as { code: number; reason: string };
        acknowledge(false);
        closeWith({ code, reason: String(reason) });
      },
    },
  });

  function run(query: string, variables: Record<string, unknown> = {}): Operation {
    const results: Operation['results'] = [];
    const waiters: { count: number; resolve: () => void; reject: (error: Error) => void }[] = [];
    let settle!: (end: OperationEnd) => void;
    let ended: OperationEnd | null = null;
    const end = new Promise<OperationEnd>((resolve) => {
      settle = resolve;
    });
    const finish = (outcome: OperationEnd) => {
      if (ended) return;
      ended = outcome;
      settle(outcome);
      for (const waiter of waiters.splice(0)) {
        waiter.reject(new Error(`ended after ${results.length} results: ${JSON.stringify(outcome)}`));
      }
    };
    const cancel = client.subscribe(
      { query, variables },
      {
        next: (result) => {
          results.push(result as Operation['results'][number]);
          for (const waiter of [...waiters]) {
            if (results.length >= waiter.count) {
              waiters.splice(waiters.indexOf(waiter), 1);
              waiter.resolve();
            }
          }
        },
        error: (error) => {
          if (Array.isArray(error)) finish({ kind: 'error', errors: error as GraphQLErrorJson[] });
          else {
            const { code, reason } = error as { code: number; reason: string };
            finish({ kind: 'closed', code, reason: String(reason) });
          }
        },
        complete: () => finish({ kind: 'complete' }),
      },
    );
    return {
      results,
      end,
      cancel,
      waitFor(count, timeoutMs = 10_000) {
        if (results.length >= count) return Promise.resolve();
        if (ended) return Promise.reject(new Error(`already ended: ${JSON.stringify(ended)}`));
        return new Promise((resolve, reject) => {
          const timer = setTimeout(
            () => reject(new Error(`only ${results.length} of ${count} results in ${timeoutMs} ms`)),
            timeoutMs,
          );
          waiters.push({
            count,
            resolve: () => {
              clearTimeout(timer);
              resolve();
            },
            reject: (error) => {
              clearTimeout(timer);
              reject(error);
            },
          });
        });
      },
    };
  }

  return { client, acknowledged, closed, run, dispose: async () => client.dispose() };
}
