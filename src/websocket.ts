import type { Server } from 'node:http';
import { type ExecutionArgs, type ExecutionResult, GraphQLError, getOperationAST } from 'graphql';
import type { Context, SubscribePayload } from 'graphql-ws';
import { isAsyncIterable, type YogaServerInstance } from 'graphql-yoga';
import { type WebSocket, WebSocketServer } from 'ws';
import type { GraphQLContext, Services } from './graphql/context.ts';
import { capReached } from './limits/rate-limited-error.ts';
import type { RateLimits } from './limits/rate-limits.ts';
import { activeKeyIds } from './stream/key-watch.ts';
import type { ViewerState } from './tenancy/viewer.ts';
import { type SocketExtra, serveGraphqlWs, withoutHttpExtensions } from './websocket-transport.ts';

/** Chosen apart from graphql-ws's own codes (its 4408, say, is an init timeout its client retries with the old cursor). */
export const CloseCodes = {
  Unauthorized: 4401,
  Forbidden: 4403,
  /** The client reads too slowly; it should reconnect and resume from its last cursor. */
  SlowConsumer: 4413,
  /** MAX_WS_CONNECTIONS, MAX_WS_CONNECTIONS_PER_KEY or a lockout by RATE_LIMIT_AUTH_FAILURES_PER_IP; the reason names which. */
  TooManyConnections: 4429,
  KeyRevoked: 4410,
} as const;

type Enveloped = ReturnType<YogaServerInstance<Record<string, unknown>, GraphQLContext>['getEnveloped']>;
type Connection = Context<Record<string, unknown>, { auth: ViewerState } & SocketExtra>;

/** What onSubscribe hands on to graphql-ws: the operation's outcome, already started. */
interface PreparedRoot {
  outcome: ExecutionResult | AsyncIterable<ExecutionResult>;
}

/**
 * graphql-ws on the HTTP server's `/graphql` path. Every operation runs through `yoga.getEnveloped()`,
 * so the same plugins (depth and cost limits, error masking) and the same context apply as over HTTP.
 * The key is checked once, at connection_init, from `connectionParams.authorization`. Anything wrong
 * with one operation (syntax, validation, limits, scopes, rate) is an `error` message for its id; the
 * connection and its other operations go on.
 */
export function attachWebSocketServer(options: {
  server: Server;
  yoga: YogaServerInstance<Record<string, unknown>, GraphQLContext>;
  services: Services;
  rateLimits: RateLimits;
  maxConnections: number;
  maxConnectionsPerKey: number;
  maxSubscriptionsPerConnection: number;
  /** How often open connections re-check their key, so a revoked key loses its sockets. */
  keyRecheckMs: number;
  /** Whether an internal error's message may reach the client (development only). */
  exposeErrors: boolean;
}) {
  const webSocketServer = new WebSocketServer({
    server: options.server,
    path: '/graphql',
    maxPayload: 1024 * 1024,
  });
  webSocketServer.on('connection', (socket) => {
    if (webSocketServer.clients.size > options.maxConnections) {
      socket.close(CloseCodes.TooManyConnections, 'Too many connections (MAX_WS_CONNECTIONS)');
    }
  });

  const keyOfSocket = new Map<WebSocket, string>();
  const connectionsOfKey = new Map<string, number>();
  const closeRevoked = (socket: WebSocket) =>
    socket.close(CloseCodes.KeyRevoked, 'The API key of this connection was revoked');
  const recheckKeys = async () => {
    if (keyOfSocket.size === 0) return;
    try {
      const active = await activeKeyIds(options.services.database.db, new Set(keyOfSocket.values()));
      for (const [socket, keyId] of keyOfSocket) if (!active.has(keyId)) closeRevoked(socket);
    } catch {
      // A failed check is retried on the next tick; it must not take connections down.
    }
  };
  const keyCheck = setInterval(() => void recheckKeys(), options.keyRecheckMs);
  keyCheck.unref();

  /** Registers an authenticated connection under its key; false when the key already has its maximum. */
  function admit(socket: WebSocket, keyId: string): boolean {
    const open = connectionsOfKey.get(keyId) ?? 0;
    if (open >= options.maxConnectionsPerKey) return false;
    connectionsOfKey.set(keyId, open + 1);
    keyOfSocket.set(socket, keyId);
    socket.once('close', () => {
      keyOfSocket.delete(socket);
      const left = (connectionsOfKey.get(keyId) ?? 1) - 1;
      if (left > 0) connectionsOfKey.set(keyId, left);
      else connectionsOfKey.delete(keyId);
    });
    return true;
  }

  async function prepare(
    ctx: Connection,
    payload: SubscribePayload,
  ): Promise<ExecutionArgs | readonly GraphQLError[]> {
    // graphql-ws has already registered this operation, so the count includes it.
    if (Object.keys(ctx.subscriptions).length > options.maxSubscriptionsPerConnection) {
      throw capReached(
        'MAX_SUBSCRIPTIONS_PER_CONNECTION',
        `This connection already runs ${options.maxSubscriptionsPerConnection} operations, the limit ` +
          '(MAX_SUBSCRIPTIONS_PER_CONNECTION): complete one or open another connection',
      );
    }
    const viewer = ctx.extra.auth.viewer;
    if (viewer) await options.rateLimits.consumeRequest(viewer.keyId);
    const enveloped: Enveloped = options.yoga.getEnveloped({
      ...ctx,
      auth: ctx.extra.auth,
      req: ctx.extra.request,
      socket: ctx.extra.socket,
      params: payload,
    });
    const document = enveloped.parse(payload.query);
    const errors = enveloped.validate(enveloped.schema, document);
    if (errors.length > 0) return errors;
    const args: ExecutionArgs = {
      schema: enveloped.schema,
      document,
      operationName: payload.operationName,
      variableValues: payload.variables,
      contextValue: await enveloped.contextFactory(),
    };
    // Started here so that an operation that cannot start (scope, input, rate) answers with an
    // `error` message rather than a `next` carrying errors.
    const outcome =
      getOperationAST(document, payload.operationName)?.operation === 'subscription'
        ? await enveloped.subscribe(args)
        : await enveloped.execute(args);
    if (!isAsyncIterable(outcome) && outcome.errors?.length && outcome.data == null) return outcome.errors;
    const root: PreparedRoot = { outcome: outcome as PreparedRoot['outcome'] };
    args.rootValue = root;
    return args;
  }

  const graphqlWs = serveGraphqlWs<{ auth: ViewerState }>(
    {
      onConnect: async (ctx) => {
        const socket = ctx.extra.socket;
        const address = ctx.extra.request.socket.remoteAddress;
        try {
          await options.rateLimits.refuseLockedOut(address);
        } catch (error) {
          if (!(error instanceof GraphQLError)) throw error;
          socket.close(
            CloseCodes.TooManyConnections,
            'Too many failed authentications from this address (RATE_LIMIT_AUTH_FAILURES_PER_IP)',
          );
          return false;
        }
        const authorization = ctx.connectionParams?.authorization;
        const auth = await options.services.authenticator.fromAuthorizationHeader(
          typeof authorization === 'string' ? authorization : undefined,
        );
        if (!auth.viewer) {
          if (authorization !== undefined) await options.rateLimits.recordAuthFailure(address);
          socket.close(CloseCodes.Unauthorized, auth.problem.slice(0, 120));
          return false;
        }
        if (!admit(socket, auth.viewer.keyId)) {
          socket.close(
            CloseCodes.TooManyConnections,
            'Too many connections for this API key (MAX_WS_CONNECTIONS_PER_KEY)',
          );
          return false;
        }
        ctx.extra.auth = auth;
        return true;
      },
      onSubscribe: async (ctx, _id, payload) => {
        try {
          return await prepare(ctx, payload);
        } catch (error) {
          // Parse errors, limits and rate limits are the client's; anything else is a server fault.
          if (error instanceof GraphQLError) return [error];
          throw error;
        }
      },
      execute: (args) => (args.rootValue as PreparedRoot).outcome,
      subscribe: (args) => (args.rootValue as PreparedRoot).outcome,
      onError: (_ctx, _id, _payload, errors) => withoutHttpExtensions(errors),
      onNext: (_ctx, _id, _payload, _args, result) =>
        result.errors ? { ...result, errors: withoutHttpExtensions(result.errors) } : undefined,
    },
    webSocketServer,
    { keepAliveMs: 12_000, exposeErrors: options.exposeErrors },
  );

  return {
    webSocketServer,
    /** Closes the connections of a key that was just revoked (4410). */
    keyRevoked(keyId: string) {
      for (const [socket, socketKeyId] of keyOfSocket) if (socketKeyId === keyId) closeRevoked(socket);
    },
    recheckKeys,
    async close() {
      clearInterval(keyCheck);
      await graphqlWs.dispose();
      await new Promise<void>((resolve) => webSocketServer.close(() => resolve()));
    },
  };
}
