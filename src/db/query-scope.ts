import { AsyncLocalStorage } from 'node:async_hooks';

/** What bounds the SQL a GraphQL request sends: its client's liveness and a per-statement time limit. */
export interface QueryScope {
  /** Aborted when the client goes away; the scope's running statements are then cancelled. */
  signal?: AbortSignal | undefined;
  /** Longest time one statement may take, waiting for a connection included; 0 for no limit. */
  statementTimeoutMs: number;
  /** Set once a statement of this scope was cancelled for running too long. */
  timedOut: boolean;
}

const scopes = new AsyncLocalStorage<QueryScope>();

export const runInQueryScope = <T>(scope: QueryScope, work: () => T): T => scopes.run(scope, work);

interface CancellableQuery {
  then(onSettled: () => void, onRejected: () => void): unknown;
  cancel(): unknown;
}

/**
 * Makes every statement a postgres.js client sends through `unsafe` (all that drizzle sends outside
 * transactions) honour the query scope it was sent from: cancelled on PostgreSQL (the protocol's
 * CancelRequest) when the scope's signal aborts or the statement outlives the scope's timeout.
 * Statements sent outside a scope (background work: purge, delivery, streams, sealing) are untouched,
 * which is why the limit is kept per statement here rather than as the pool's `statement_timeout`.
 */
export function cancelWithQueryScope<Client extends { unsafe: (...args: never[]) => unknown }>(
  client: Client,
): void {
  const unsafe = client.unsafe;
  client.unsafe = ((...args: never[]) => {
    const query = unsafe(...args) as CancellableQuery;
    const scope = scopes.getStore();
    if (scope) watch(query, scope);
    return query;
  }) as Client['unsafe'];
}

function watch(query: CancellableQuery, scope: QueryScope): void {
  const cancel = () => {
    Promise.resolve(query.cancel()).catch(() => {});
  };
  if (scope.signal?.aborted) {
    cancel();
    return;
  }
  const timer =
    scope.statementTimeoutMs > 0
      ? setTimeout(() => {
          scope.timedOut = true;
          cancel();
        }, scope.statementTimeoutMs)
      : undefined;
  timer?.unref();
  scope.signal?.addEventListener('abort', cancel, { once: true });
  const settled = () => {
    clearTimeout(timer);
    scope.signal?.removeEventListener('abort', cancel);
  };
  // postgres.js sends the statement a microtask after the first `then`: drizzle's `.values()`,
  // called right after `unsafe` returns, still applies.
  query.then(settled, settled);
}

/** PostgreSQL's query_canceled: a cancel request or a statement timeout ended the statement. */
export function isCancelledStatement(error: unknown): boolean {
  for (let cause = error, depth = 0; cause && depth < 5; depth++) {
    if ((cause as { code?: unknown }).code === '57014') return true;
    cause =
      (cause as { cause?: unknown; originalError?: unknown }).originalError ??
      (cause as { cause?: unknown }).cause;
  }
  return false;
}
