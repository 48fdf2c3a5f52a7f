import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

export interface ReceivedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
  /** The status the receiver answered with, once it answered. */
  status?: number;
}

export interface HttpReceiver {
  url: string;
  port: number;
  requests: ReceivedRequest[];
  /** Answers each request; the default answers 200 `{}`. */
  respond: (request: ReceivedRequest, res: ServerResponse) => void;
  close(): Promise<void>;
  /** Listens again on the same port after `close`. */
  reopen(): Promise<void>;
}

/** A tiny HTTP server recording every request, for the fake receivers below and the webhook test. */
export async function startHttpReceiver(port = 0): Promise<HttpReceiver> {
  let server: Server;
  const receiver: HttpReceiver = {
    url: '',
    port: 0,
    requests: [],
    respond: (_request, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'),
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
    async reopen() {
      await listen(receiver.port);
    },
  };
  async function listen(at: number) {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk) => chunks.push(chunk));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
        const request: ReceivedRequest = {
          method: req.method!,
          url: req.url!,
          headers: req.headers,
          body: body.toString('utf8'),
        };
        receiver.requests.push(request);
        res.on('finish', () => {
          request.status = res.statusCode;
        });
        receiver.respond(request, res);
      });
    });
    await new Promise<void>((resolve) => server.listen(at, '127.0.0.1', resolve));
    receiver.port = (server.address() as AddressInfo).port;
    receiver.url = `http://127.0.0.1:${receiver.port}`;
  }
  await listen(port);
  return receiver;
}

export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** A localhost port nothing listens on (taken from the OS, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
