import type { IncomingMessage } from 'node:http';
import type { GraphQLError, GraphQLFormattedError } from 'graphql';
import { CloseCode, handleProtocols, makeServer, type ServerOptions } from 'graphql-ws';
import type { WebSocket, WebSocketServer } from 'ws';

export interface SocketExtra {
  socket: WebSocket;
  request: IncomingMessage;
}

/** Past this many bytes queued on a socket, a message waits until it is written (the client is reading slowly). */
const HIGH_WATER_BYTES = 1024 * 1024;

/**
 * graphql-ws on a `ws` server, like graphql-ws's own `useServer`, with one difference that matters for
 * fan-out: messages are not written one system call each. graphql-ws awaits every `send` before it
 * pulls the next event, and the stock adapter resolves a send only once its frame reached the kernel,
 * so a page of 500 events cost each subscriber 500 writes. Here a send resolves at once while the
 * socket's queue is short, and the TCP socket is corked until the current burst of messages is queued,
 * so a page goes out in one write. A slow reader still pushes back: above HIGH_WATER_BYTES a send waits
 * for its frame to be written, the subscription's own buffer fills, and the stream's slow-consumer
 * rule takes over.
 */
export function serveGraphqlWs<Extra extends Record<PropertyKey, unknown>>(
  options: ServerOptions<Record<string, unknown>, Extra & SocketExtra>,
  webSocketServer: WebSocketServer,
  settings: { keepAliveMs: number; exposeErrors: boolean },
) {
  const server = makeServer(options);
  webSocketServer.options.handleProtocols = handleProtocols;

  webSocketServer.on('connection', (socket, request) => {
    const tcp = request.socket;
    let corked = false;
    const uncork = () => {
      corked = false;
      tcp.uncork();
    };
    const send = (data: string) =>
      new Promise<void>((resolve, reject) => {
        if (socket.readyState !== socket.OPEN) return resolve();
        if (!corked) {
          corked = true;
          tcp.cork();
          process.nextTick(uncork);
        }
        if (socket.bufferedAmount < HIGH_WATER_BYTES) {
          socket.send(data);
          resolve();
        } else {
          socket.send(data, (error) => (error ? reject(error) : resolve()));
        }
      });

    // Only a fault of the server itself ends the connection: errors of one operation are `error` messages.
    const failed = (error: unknown) =>
      socket.close(
        CloseCode.InternalServerError,
        settings.exposeErrors
          ? String((error as Error)?.message ?? error).slice(0, 120)
          : 'Internal server error',
      );
    socket.once('error', failed);

    const keepAlive = setInterval(() => {
      if (socket.readyState !== socket.OPEN) return;
      const deadline = setTimeout(() => socket.terminate(), settings.keepAliveMs).unref();
      socket.once('pong', () => clearTimeout(deadline));
      socket.ping();
    }, settings.keepAliveMs).unref();

    const closed = server.opened(
      {
        protocol: socket.protocol,
        send,
        close: (code, reason) => socket.close(code, reason),
        onMessage: (handle) =>
          socket.on('message', (message) => {
            Promise.resolve(handle(String(message))).catch(failed);
          }),
      },
      { socket, request } as Extra & SocketExtra,
    );
    socket.once('close', (code, reason) => {
      clearInterval(keepAlive);
      if (corked) uncork();
      void closed(code, String(reason));
    });
  });

  return {
    async dispose() {
      for (const client of webSocketServer.clients) client.close(1001, 'Going away');
    },
  };
}

/** Errors as sent over a socket: without the `http` extension (status, headers) that only HTTP responses use. */
export function withoutHttpExtensions(errors: readonly GraphQLError[]): GraphQLFormattedError[] {
  return errors.map((error) => {
    const formatted = error.toJSON();
    if (!formatted.extensions || !('http' in formatted.extensions)) return formatted;
    const { http: _http, ...extensions } = formatted.extensions;
    return { ...formatted, extensions };
  });
}
