/**
 * The do-it-yourself ceiling: `node:http` + postgres.js with no GraphQL, no validation beyond
 * JSON.parse, no group commit and no NOTIFY.
 *
 * - `POST /events` with `{ organizationId, event }` (event shaped like EmitEventInput) stores it with
 *   one INSERT into `<RAW_SCHEMA>.events`, a table of the same shape and indexes as `public.events`.
 * - `PUT /queries` with `[{ text, params }]` sets the page queries: the exact SQL and parameters
 *   Auditline sends for a page, captured by the harness.
 * - `GET /page?i=<n>` runs the n-th page query and answers the rows as JSON.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import postgres from 'postgres';

interface RawEvent {
  action: string;
  actor: { id: string; type?: string | null; name?: string | null; metadata?: unknown };
  targets?: { id: string; type: string; name?: string | null; metadata?: unknown }[] | null;
  context?: Record<string, string | null | undefined> | null;
  metadata?: Record<string, unknown> | null;
  occurredAt?: string | null;
  version?: number | null;
}

const schema = process.env.RAW_SCHEMA ?? 'bench_raw';
const sql = postgres(process.env.DATABASE_URL!, {
  max: Number(process.env.DATABASE_POOL_SIZE ?? 10),
  onnotice: () => {},
});
let pageQueries: { text: string; params: unknown[] }[] = [];
/** RAW_PREPARE=false sends page queries unprepared, as drizzle does for unnamed queries (for A/B runs). */
const preparePages = process.env.RAW_PREPARE !== 'false';

const insertText = `insert into ${schema}.events (id, organization_id, action, actor_id, actor_type, actor_name,
  actor_metadata, targets, target_ids, target_types, ip_address, user_agent, location, request_id, session_id,
  metadata, search_text, occurred_at, received_at, version)
  values ($1, $2, $3, $4, $5, $6, $7::jsonb, $8::jsonb, $9::text[], $10::text[], $11::inet, $12, $13, $14, $15,
  $16::jsonb, $17, $18::timestamptz, $19::timestamptz, $20)`;

function leaves(value: unknown, into: string[]): void {
  if (value === null || value === undefined) return;
  if (typeof value === 'object') {
    for (const child of Array.isArray(value) ? value : Object.values(value)) leaves(child, into);
  } else {
    into.push(String(value));
  }
}

async function insertEvent(organizationId: string, event: RawEvent): Promise<string> {
  const targets = event.targets ?? [];
  const words = [event.action, event.actor.id, event.actor.name ?? ''];
  for (const target of targets) words.push(target.id, target.name ?? '');
  leaves(event.metadata, words);
  const id = randomUUID();
  const now = new Date().toISOString();
  await sql.unsafe(insertText, [
    id,
    organizationId,
    event.action,
    event.actor.id,
    event.actor.type ?? 'user',
    event.actor.name ?? null,
    event.actor.metadata ? JSON.stringify(event.actor.metadata) : null,
    JSON.stringify(targets),
    targets.map((target) => target.id),
    targets.map((target) => target.type),
    event.context?.ipAddress ?? null,
    event.context?.userAgent ?? null,
    event.context?.location ?? null,
    event.context?.requestId ?? null,
    event.context?.sessionId ?? null,
    JSON.stringify(event.metadata ?? {}),
    words.filter(Boolean).join('\n').toLowerCase(),
    event.occurredAt ?? now,
    now,
    event.version ?? null,
  ] as never[]);
  return id;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: string) {
  res.writeHead(status, { 'content-type': 'application/json' }).end(body);
}

async function handle(req: IncomingMessage, res: ServerResponse) {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  if (req.method === 'POST' && url.pathname === '/events') {
    const { organizationId, event } = JSON.parse(await readBody(req)) as {
      organizationId: string;
      event: RawEvent;
    };
    return send(res, 200, JSON.stringify({ id: await insertEvent(organizationId, event) }));
  }
  if (req.method === 'PUT' && url.pathname === '/queries') {
    pageQueries = JSON.parse(await readBody(req));
    return send(res, 200, JSON.stringify({ count: pageQueries.length }));
  }
  if (req.method === 'GET' && url.pathname === '/page') {
    const query = pageQueries[Number(url.searchParams.get('i') ?? 0)];
    if (!query) return send(res, 404, '{"error":"no such page query"}');
    const rows = await sql.unsafe(query.text, query.params as never[], { prepare: preparePages });
    return send(res, 200, JSON.stringify({ data: rows }));
  }
  send(res, 404, '{"error":"not found"}');
}

const server = createServer((req, res) => {
  handle(req, res).catch((error: Error) => send(res, 500, JSON.stringify({ error: error.message })));
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`LISTENING ${(server.address() as AddressInfo).port}\n`);
});

async function shutdown() {
  server.close();
  server.closeAllConnections();
  await sql.end({ timeout: 5 });
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown());
process.on('SIGINT', () => void shutdown());
