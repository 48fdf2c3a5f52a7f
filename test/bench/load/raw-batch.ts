/**
 * The batch baseline: multi-row INSERTs of ready-made rows from Node with postgres.js, `connections`
 * at a time, for `durationSeconds`. Runs in the load child process; answers events per second.
 * Each INSERT gets fresh ids and received_at; the statement text never changes, so it is prepared once.
 */
import { randomUUID } from 'node:crypto';
import postgres from 'postgres';
import { COPY_COLUMNS } from '../data/seed-events.ts';

export interface RawBatchSpec {
  databaseUrl: string;
  table: string;
  /** Rows as `recordOf` makes them (column name → value). */
  rows: Record<string, unknown>[];
  connections: number;
  durationSeconds: number;
}

export interface RawBatchResult {
  rows: number;
  seconds: number;
  eventsPerSecond: number;
  insertLatencyMs: { p50: number; p99: number };
}

const CASTS: Record<string, string> = {
  id: 'uuid',
  organization_id: 'uuid',
  actor_metadata: 'jsonb',
  targets: 'jsonb',
  target_ids: 'text[]',
  target_types: 'text[]',
  ip_address: 'inet',
  metadata: 'jsonb',
  occurred_at: 'timestamptz',
  received_at: 'timestamptz',
  version: 'int',
};
const JSON_COLUMNS = new Set(['actor_metadata', 'targets', 'metadata']);

function statement(table: string, rowCount: number): string {
  const width = COPY_COLUMNS.length;
  const tuples = Array.from(
    { length: rowCount },
    (_, row) =>
      `(${COPY_COLUMNS.map((column, index) => {
        const placeholder = `$${row * width + index + 1}`;
        return CASTS[column] ? `${placeholder}::${CASTS[column]}` : placeholder;
      }).join(', ')})`,
  );
  return `insert into ${table} (${COPY_COLUMNS.join(', ')}) values ${tuples.join(', ')}`;
}

export async function runRawBatch(spec: RawBatchSpec): Promise<RawBatchResult> {
  const sql = postgres(spec.databaseUrl, { max: spec.connections, onnotice: () => {} });
  const text = statement(spec.table, spec.rows.length);
  const template = spec.rows.map((row) =>
    COPY_COLUMNS.map((column) => {
      const value = row[column] ?? null;
      return JSON_COLUMNS.has(column) && value !== null ? JSON.stringify(value) : value;
    }),
  );
  const idIndex = COPY_COLUMNS.indexOf('id');
  const receivedIndex = COPY_COLUMNS.indexOf('received_at');
  const latencies: number[] = [];
  let rows = 0;
  const deadline = performance.now() + spec.durationSeconds * 1000;
  const started = performance.now();
  const worker = async () => {
    while (performance.now() < deadline) {
      const receivedAt = new Date().toISOString();
      const params = template.flatMap((values) => {
        const copy = [...values];
        copy[idIndex] = randomUUID();
        copy[receivedIndex] = receivedAt;
        return copy;
      });
      const begun = performance.now();
      await sql.unsafe(text, params as never[], { prepare: true });
      latencies.push(performance.now() - begun);
      rows += spec.rows.length;
    }
  };
  await Promise.all(Array.from({ length: spec.connections }, worker));
  const seconds = (performance.now() - started) / 1000;
  await sql.end();
  latencies.sort((a, b) => a - b);
  const at = (fraction: number) =>
    latencies[Math.min(latencies.length - 1, Math.ceil(fraction * latencies.length) - 1)]!;
  return { rows, seconds, eventsPerSecond: rows / seconds, insertLatencyMs: { p50: at(0.5), p99: at(0.99) } };
}
