/**
 * The live-stream baseline: what PostgreSQL's own LISTEN/NOTIFY costs, end to end, from Node.
 * Writers commit `INSERT one ~1 KB row; NOTIFY with the send time` transactions at `rate` per second
 * over `connections` connections, and a LISTEN connection in the same process records commit-to-callback
 * latency for every notification. Auditline adds to this the settling check, the shared read, GraphQL
 * execution and the WebSocket hop.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import postgres from 'postgres';
import { type LatencySummary, summarizeLatencies } from './percentile.ts';
import { wallClockMs } from './wall-clock.ts';

export interface RawNotifySpec {
  databaseUrl: string;
  /** A schema the baseline may create its table in. */
  schema: string;
  /** Transactions per second. */
  rate: number;
  connections: number;
  durationSeconds: number;
  /** The row each transaction inserts (JSON), about the size of an emitted event. */
  payload: string;
}

export interface RawNotifyResult {
  sent: number;
  received: number;
  latencyMs: LatencySummary;
}

const CHANNEL = 'auditline_bench_notify';
/** How often the writer loop wakes to start the transactions that are due. */
const TICK_MS = 10;

export async function runRawNotify(spec: RawNotifySpec): Promise<RawNotifyResult> {
  const writers = postgres(spec.databaseUrl, { max: spec.connections, onnotice: () => {} });
  const listener = postgres(spec.databaseUrl, { max: 1, onnotice: () => {} });
  const table = `${spec.schema}.stream_probe`;
  const latencies: number[] = [];
  try {
    await writers.unsafe(`create schema if not exists ${spec.schema}`);
    await writers.unsafe(
      `create table if not exists ${table} (id bigserial primary key, payload jsonb not null)`,
    );
    await listener.listen(CHANNEL, (sentAt) => latencies.push(wallClockMs() - Number(sentAt)));

    const inFlight = new Set<Promise<unknown>>();
    const started = wallClockMs();
    let sent = 0;
    for (let elapsed = 0; elapsed < spec.durationSeconds * 1000; elapsed = wallClockMs() - started) {
      // Catch up to the schedule rather than count ticks: timers fire late on a busy machine.
      for (const due = Math.floor((elapsed * spec.rate) / 1000); sent < due; ) {
        const sentAt = wallClockMs();
        const transaction = writers.begin(async (sql) => {
          await sql.unsafe(`insert into ${table} (payload) values ($1::jsonb)`, [spec.payload]);
          await sql`select pg_notify(${CHANNEL}, ${String(sentAt)})`;
        });
        inFlight.add(transaction);
        void transaction.finally(() => inFlight.delete(transaction));
        sent += 1;
      }
      await sleep(TICK_MS);
    }
    await Promise.all(inFlight);
    // Notifications are delivered after commit; give the last ones a moment to arrive.
    for (let waited = 0; latencies.length < sent && waited < 5000; waited += 50) await sleep(50);
    return { sent, received: latencies.length, latencyMs: summarizeLatencies(latencies) };
  } finally {
    await listener.end({ timeout: 5 });
    await writers.end({ timeout: 5 });
  }
}
