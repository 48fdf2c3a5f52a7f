import type { Server } from 'node:http';
import type { ExecutionArgs } from 'graphql';
import type { YogaServerInstance } from 'graphql-yoga';
import { type WebSocket, WebSocketServer } from 'ws';
import type { GraphQLContext, Services } from './graphql/context.ts';
import { activeKeyIds } from './stream/key-watch.ts';
import type { ViewerState } from './tenancy/viewer.ts';
import { serveGraphqlWs } from './websocket-transport.ts';

/** Chosen apart from graphql-ws's own codes (its 4408, say, is an init timeout its client retries with the old cursor). */
export const CloseCodes = {
  Unauthorized: 4401,
  Forbidden: 4403,
  /** The client reads too slowly; it should reconnect and resume from its last cursor. */
  SlowConsumer: 4413,
  TooManyConnections: 4429,
  KeyRevoked: 4410,
} as const;

type Enveloped = ReturnType<YogaServerInstance<Record<string, unknown>, GraphQLContext>['getEnveloped']>;

/**
 * graphql-ws on the HTTP server's `/graphql` path. Every operation runs through `yoga.getEnveloped()`,
 * so the same plugins (depth and cost limits, error masking) and the same context apply as over HTTP.
 * The key is checked once, at connection_init, from `connectionParams.authorization`.
 */
export function attachWebSocketServer(options: {
  server: Server;
  yoga: YogaServerInstance<Record<string, unknown>, GraphQLContext>;
  services: Services;
  maxConnections: number;
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

  const graphqlWs = serveGraphqlWs<{ auth: ViewerState }>(
    {
      onConnect: async (ctx) => {
        const authorization = ctx.connectionParams?.authorization;
        const auth = await options.services.authenticator.fromAuthorizationHeader(
          typeof authorization === 'string' ? authorization : undefined,
        );
        if (!auth.viewer) {
          ctx.extra.socket.close(CloseCodes.Unauthorized, auth.problem.slice(0, 120));
          return false;
        }
        ctx.extra.auth = auth;
        keyOfSocket.set(ctx.extra.socket, auth.viewer.keyId);
        ctx.extra.socket.once('close', () => keyOfSocket.delete(ctx.extra.socket));
        return true;
      },
      onSubscribe: async (ctx, _id, payload) => {
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
          rootValue: { execute: enveloped.execute, subscribe: enveloped.subscribe },
        };
        return args;
      },
      execute: (args) => (args.rootValue as { execute: Enveloped['execute'] }).execute(args),
      subscribe: (args) => (args.rootValue as { subscribe: Enveloped['subscribe'] }).subscribe(args),
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
