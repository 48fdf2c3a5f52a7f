import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { type AddressInfo, createServer as createNetServer, type Server } from 'node:net';

/** What an internal service would give away: a marker, then enough multi-byte text to need cutting. */
export const INTERNAL_PREFIX = 'internal-service-secret: ';
export const INTERNAL_BODY = `${INTERNAL_PREFIX}${'ü'.repeat(300)}`;

export interface Canary {
  host: string;
  port: number;
  /** Connections the listener accepted. */
  connections: number;
  /** HTTP requests it answered (HTTP canaries only): path and Host header. */
  requests: { url: string; host: string | undefined }[];
  close(): Promise<void>;
}

async function listen(server: Server | HttpServer, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

function canaryOf(server: Server | HttpServer, host: string, port: number): Canary {
  const canary: Canary = {
    host,
    port,
    connections: 0,
    requests: [],
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        if ('closeAllConnections' in server) server.closeAllConnections();
      }),
  };
  server.on('connection', () => {
    canary.connections++;
  });
  return canary;
}

/**
 * A loopback HTTP service standing in for an internal one: `/ok…` answers 200 `{}`, `/redirect?to=URL`
 * a 307 to URL, anything else a 500 with INTERNAL_BODY. Counts every connection it accepts.
 */
export async function startHttpCanary(host = '127.0.0.1'): Promise<Canary> {
  const server = createHttpServer((req, res) => {
    req.resume();
    req.on('end', () => {
      canary.requests.push({ url: req.url!, host: req.headers.host });
      const redirect = /^\/redirect\?to=(.+)$/.exec(req.url!);
      if (req.url!.startsWith('/ok')) res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      else if (redirect) res.writeHead(307, { location: decodeURIComponent(redirect[1]!) }).end();
      else res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(INTERNAL_BODY);
    });
  });
  const canary = canaryOf(server, host, await listen(server, host));
  return canary;
}

/**
 * A loopback TCP listener (a database port, say). `mode: 'syslog'` reads to the peer's FIN and then
 * closes, as a TCP syslog receiver does; `'drop'` closes at once.
 */
export async function startTcpCanary(
  host = '127.0.0.1',
  mode: 'syslog' | 'drop' = 'syslog',
): Promise<Canary> {
  const server = createNetServer((socket) => {
    socket.on('error', () => {});
    if (mode === 'drop') {
      socket.destroy();
      return;
    }
    socket.resume();
    socket.on('end', () => socket.end());
  });
  return canaryOf(server, host, await listen(server, host));
}

/** A TCP canary on ::1, or null where the machine has no IPv6 loopback. */
export async function startIpv6TcpCanary(mode: 'syslog' | 'drop' = 'syslog'): Promise<Canary | null> {
  return startTcpCanary('::1', mode).catch(() => null);
}
