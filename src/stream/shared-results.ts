import {
  createSourceEventStream,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  execute,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { GraphQLContext } from '../graphql/context.ts';

type MaybePromise<T> = T | Promise<T>;

/**
 * Executes each subscription event once per distinct operation instead of once per subscriber.
 *
 * The subscribers of a stream group receive the very same event objects; when they also sent the
 * same document with the same variables under the same organization and scopes, the result of
 * executing that event is the same for all of them. Without this, 500 subscribers meant 500
 * executions of every event, which dominated the server's CPU.
 */
export function useSharedSubscriptionResults(): Plugin<GraphQLContext> {
  const documentIds = new WeakMap<DocumentNode, number>();
  let nextDocumentId = 0;
  /** Per event object: operation key → its result. Entries go with the event once every subscriber has it. */
  const results = new WeakMap<object, Map<string, MaybePromise<ExecutionResult>>>();

  /** The query text when the document has one (equal texts share even when parsed apart), else the document's identity. */
  const documentKey = (document: DocumentNode): string | number => {
    if (document.loc) return document.loc.source.body;
    let documentId = documentIds.get(document);
    if (documentId === undefined) {
      documentId = nextDocumentId++;
      documentIds.set(document, documentId);
    }
    return documentId;
  };

  const operationKey = (args: ExecutionArgs): string => {
    const viewer = (args.contextValue as GraphQLContext | undefined)?.auth?.viewer;
    return JSON.stringify([
      documentKey(args.document),
      args.operationName ?? null,
      args.variableValues ?? null,
      viewer ? [viewer.organizationId, [...viewer.scopes].sort()] : null,
    ]);
  };

  return {
    onSubscribe({ setSubscribeFn }) {
      setSubscribeFn(async (args: ExecutionArgs) => {
        const source = await createSourceEventStream(args);
        if (!isAsyncIterable(source)) return source;
        const key = operationKey(args);
        return mapEvents(source, (payload) => {
          if (typeof payload !== 'object' || payload === null)
            return execute({ ...args, rootValue: payload });
          let byOperation = results.get(payload);
          if (!byOperation) {
            byOperation = new Map();
            results.set(payload, byOperation);
          }
          let result = byOperation.get(key);
          if (result === undefined) {
            result = execute({ ...args, rootValue: payload });
            byOperation.set(key, result);
          }
          return result;
        });
      });
    },
  };
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof (value as AsyncIterable<unknown>)?.[Symbol.asyncIterator] === 'function';
}

/** The source's events mapped to results; ending the mapped stream ends the source (the subscription). */
function mapEvents(
  source: AsyncIterable<unknown>,
  map: (payload: unknown) => MaybePromise<ExecutionResult>,
): AsyncIterableIterator<ExecutionResult> {
  const iterator = source[Symbol.asyncIterator]();
  const done = (): IteratorResult<ExecutionResult> => ({ value: undefined, done: true });
  return {
    async next() {
      const event = await iterator.next();
      if (event.done) return done();
      return { value: await map(event.value), done: false };
    },
    async return() {
      await iterator.return?.();
      return done();
    },
    async throw(error?: unknown) {
      if (iterator.throw) await iterator.throw(error);
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
