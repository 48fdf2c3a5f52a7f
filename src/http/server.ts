import { createServer, type Server } from 'node:http';
import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import { guardRequests } from './guard.ts';
import { createRouter, type Route, routeNameOf } from './routes.ts';

/**
 * The HTTP server: `routes` behind the guard, with the configured timeouts. Node looks for overdue
 * requests only every `connectionsCheckingInterval` (30 s unless told), so a socket that never
 * finishes its headers would live up to headersTimeout + 30 s; checking four times per headers
 * timeout (at most every 5 s) closes it within 1.25 × HTTP_HEADERS_TIMEOUT_MS, 25 s by default.
 *
 * The timeouts cover receiving a request only: a long export download or an SSE response, and
 * upgraded WebSocket connections, which Node no longer tracks as requests, are not cut.
 */
export function createHttpServer(http: Config['http'], routes: readonly Route[], logger: Logger): Server {
  const requestTimeout = http.requestTimeoutMs;
  // Node refuses a headers timeout longer than the request timeout; the whole request bounds its headers.
  const headersTimeout = Math.min(http.headersTimeoutMs, requestTimeout);
  const server = createServer(
    {
      headersTimeout,
      requestTimeout,
      connectionsCheckingInterval: Math.min(5_000, Math.max(50, Math.floor(headersTimeout / 4))),
    },
    guardRequests(createRouter(routes), { logger, routeName: (req) => routeNameOf(routes, req) }),
  );
  server.keepAliveTimeout = http.keepAliveTimeoutMs;
  return server;
}
