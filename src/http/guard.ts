import { randomUUID } from 'node:crypto';
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from '../logger.ts';
import { sendError } from './respond.ts';
import { pathOf, type RouteHandler } from './routes.ts';

interface GuardOptions {
  logger: Logger;
  /** Names the request's route in the log line; the path itself is request data (export tokens). */
  routeName(req: IncomingMessage): string;
}

/**
 * Runs `handle` so that nothing it throws or rejects with reaches the event loop: the client gets a
 * 500 naming a request id (body and `x-request-id`), the log gets that id and the stack, and never
 * the request's path, query string, headers or body.
 */
export function guardRequests(handle: RouteHandler, options: GuardOptions): RequestListener {
  return (req, res) => {
    res.on('error', destroyResponse);
    const fail = (error: unknown) => answerFault(req, res, error, options);
    try {
      const result = handle(req, res);
      if (isThenable(result)) Promise.resolve(result).catch(fail);
    } catch (error) {
      fail(error);
    }
  };
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function';
}

// A write after the end, say, is emitted as an 'error' that would otherwise be an uncaught exception.
function destroyResponse(this: ServerResponse) {
  this.destroy();
}

function answerFault(req: IncomingMessage, res: ServerResponse, error: unknown, options: GuardOptions) {
  const requestId = randomUUID();
  options.logger.error('request failed', {
    requestId,
    method: req.method,
    route: options.routeName(req),
    error: error instanceof Error ? (error.stack ?? error.name) : `a thrown ${typeof error}`,
  });
  if (res.headersSent || res.writableEnded || res.destroyed) {
    // Part of another answer is on the wire: cutting the connection is the only honest signal left.
    res.destroy();
    return;
  }
  for (const name of res.getHeaderNames()) res.removeHeader(name);
  sendError(res, 500, 'INTERNAL_SERVER_ERROR', `Internal server error (request id ${requestId})`, {
    headers: { 'x-request-id': requestId },
    extensions: { requestId },
  });
}

const STATUS_LINES = {
  400: '400 Bad Request',
  404: '404 Not Found',
  408: '408 Request Timeout',
  431: '431 Request Header Fields Too Large',
  500: '500 Internal Server Error',
} as const;

/** Ends a socket that never became an HTTP exchange with a bare status line. */
function refuseOnSocket(socket: Duplex, status: keyof typeof STATUS_LINES) {
  socket.on('error', ignore);
  if (!socket.writable) return void socket.destroy();
  socket.once('finish', () => socket.destroy());
  socket.end(`HTTP/1.1 ${STATUS_LINES[status]}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
}

function ignore() {}

/**
 * Malformed HTTP, oversized headers and requests whose headers (or body) did not arrive in time get a
 * status line and a closed connection, unless part of a response was already written on it.
 */
function answerClientErrors(server: Server): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    const inFlight = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
    if (error.code === 'ECONNRESET' || inFlight?.headersSent) return void socket.destroy();
    refuseOnSocket(
      socket,
      error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : error.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400,
    );
  });
}

type UpgradeListener = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

/**
 * Puts the WebSocket server's `upgrade` listeners behind a guard: only `path` is upgraded (404
 * otherwise), and a listener that throws costs that one socket, not the process. Call it after the
 * WebSocket server is attached.
 */
function guardUpgrades(server: Server, options: { path: string; logger: Logger }): void {
  const listeners = server.listeners('upgrade') as UpgradeListener[];
  server.removeAllListeners('upgrade');
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (pathOf(req.url) !== options.path) return refuseOnSocket(socket, 404);
    try {
      for (const listener of listeners) listener.call(server, req, socket, head);
    } catch (error) {
      const requestId = randomUUID();
      options.logger.error('WebSocket upgrade failed', {
        requestId,
        error: error instanceof Error ? (error.stack ?? error.name) : `a thrown ${typeof error}`,
      });
      if ((socket as Socket).bytesWritten > 0) socket.destroy();
      else refuseOnSocket(socket, 500);
    }
  });
}

/** Guards what reaches the server outside the request handler: malformed HTTP and WebSocket upgrades. */
export function guardServer(server: Server, options: { webSocketPath: string; logger: Logger }): void {
  answerClientErrors(server);
  guardUpgrades(server, { path: options.webSocketPath, logger: options.logger });
}
