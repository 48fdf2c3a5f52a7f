import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.ts';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { type DatabaseHandle, openDatabase } from '../../src/db/client.ts';
import { migrateDatabase } from '../../src/db/migrate.ts';
import { createLogger } from '../../src/logger.ts';
import { backends, postgresOnly } from '../support/backends.ts';
import { createFreshDatabase } from '../support/fresh-database.ts';
import { testConfig } from '../support/test-app.ts';
import { isolatedBackend } from './sessions.ts';

const DAY = 86_400_000;
const partitionOf = (time: number) =>
  `events_p${new Date(time).toISOString().slice(0, 10).replaceAll('-', '')}`;

async function until<T>(probe: () => Promise<T | null | undefined | false>, what: string): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('purge settings', () => {
  it.each([
    [undefined, 3_600_000],
    ['90', 90_000],
    ['45s', 45_000],
    ['30m', 1_800_000],
    ['1h30m', 5_400_000],
    ['2d', 172_800_000],
  ])('PURGE_INTERVAL=%s is %i ms', (value, ms) => {
    const config = loadConfig(value === undefined ? {} : { PURGE_INTERVAL: value });
    expect(config.retention.purgeIntervalMs).toBe(ms);
  });

  it.each([
    ['PURGE_INTERVAL', 'soon'],
    ['PURGE_INTERVAL', '0'],
    ['PURGE_INTERVAL', '1h 30m'],
    ['DEFAULT_RETENTION_DAYS', '0'],
    ['DEFAULT_RETENTION_DAYS', '3651'],
  ])('refuses %s=%s, naming it', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`${name}:`));
  });

  it('defaults to 90 days and takes up to 3650', () => {
    expect(loadConfig({}).retention.defaultDays).toBe(90);
    expect(loadConfig({ DEFAULT_RETENTION_DAYS: '3650' }).retention.defaultDays).toBe(3650);
  });
});

describe.each(backends())('the scheduled purge on $name', (shared) => {
  let database: DatabaseHandle;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    const own = await isolatedBackend(shared);
    drop = own.drop;
    database = await openDatabase(own.backend.config);
    await migrateDatabase(database);
  });
  afterAll(async () => {
    await database.close();
    await drop();
  });

  it('runs with the server, creating partitions a week ahead', async () => {
    const app = buildApp({ config: testConfig(), database, logger: createLogger('silent') });
    await app.start(0, '127.0.0.1');
    try {
      const run = await until(
        async () =>
          (
            await database.raw.query<{ trigger: string }>(
              "select trigger from purge_runs where trigger = 'schedule' and finished_at is not null",
            )
          )[0],
        'a scheduled purge',
      );
      expect(run.trigger).toBe('schedule');
      const names = (
        await database.raw.query<{ name: string }>(
          "select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid where i.inhparent = 'events'::regclass",
        )
      ).map((row) => row.name);
      expect(names).toContain(partitionOf(Date.now() + 7 * DAY));
    } finally {
      await app.stop();
    }
  });
});

describe.each(postgresOnly())('purge leader election on $name', () => {
  let url: string;
  let drop: () => Promise<void>;
  let database: DatabaseHandle;
  beforeAll(async () => {
    const fresh = await createFreshDatabase('auditline_purge_leader');
    url = fresh.url;
    drop = fresh.drop;
    database = await openDatabase({ kind: 'postgres', url, poolSize: 2 });
    await migrateDatabase(database);
  });
  afterAll(async () => {
    await database.close();
    await drop();
  });

  const script = fileURLToPath(new URL('./purge-process.ts', import.meta.url));
  function purgeProcess(): Promise<{ leader: boolean; runId?: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', script], {
        env: { ...process.env, DATABASE_URL: url },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (chunk) => (out += chunk));
      child.stderr.on('data', (chunk) => (err += chunk));
      child.on('error', reject);
      child.on('exit', (code) =>
        code === 0
          ? resolve(JSON.parse(out.trim()))
          : reject(new Error(`purge process exited ${code}: ${err}`)),
      );
    });
  }

  it('lets only one of two processes purge at a time', { timeout: 90_000 }, async () => {
    // Hold the leader inside its purge: it waits for this lock while it holds the purge lock.
    const blocker = postgres(url, { max: 1, onnotice: () => {} });
    await blocker.unsafe('begin');
    await blocker.unsafe('lock table legal_holds in exclusive mode');
    const first = purgeProcess();
    first.catch(() => {}); // awaited below; a failed wait must not leave it unhandled
    await until(async () => {
      const [row] = await database.raw.query<{ n: unknown }>(
        `select count(*) as n from pg_locks where locktype = 'advisory' and granted
           and database = (select oid from pg_database where datname = current_database())`,
      );
      const [running] = await database.raw.query<{ n: unknown }>(
        'select count(*) as n from purge_runs where finished_at is null',
      );
      return Number(row!.n) === 1 && Number(running!.n) === 1;
    }, 'the first process to lead');

    expect(await purgeProcess()).toEqual({ leader: false });

    await blocker.unsafe('commit');
    await blocker.end();
    const led = await first;
    expect(led.leader).toBe(true);
    const next = await purgeProcess();
    expect(next.leader).toBe(true);

    const runs = await database.raw.query<{ id: string; started_at: Date; finished_at: Date }>(
      'select id, started_at, finished_at from purge_runs order by started_at',
    );
    expect(runs.map((run) => run.id)).toEqual([led.runId, next.runId]);
    expect(new Date(runs[0]!.finished_at).getTime()).toBeLessThanOrEqual(
      new Date(runs[1]!.started_at).getTime(),
    );
  });
});
