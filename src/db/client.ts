import { mkdirSync } from 'node:fs';
import type { PGlite } from '@electric-sql/pglite';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import type { DatabaseConfig } from '../config.ts';
import { lockDataDirectory } from './data-dir-lock.ts';
import { cancelWithQueryScope } from './query-scope.ts';
import { schema } from './tables.ts';

export type Database = PgDatabase<PgQueryResultHKT, typeof schema>;

/** Runs raw SQL outside drizzle (whose postgres.js client has its JSON serializers swapped). */
export interface RawSql {
  query<Row = Record<string, unknown>>(text: string, params?: unknown[]): Promise<Row[]>;
}

export interface Notification {
  channel: string;
  payload: string;
}

export interface DatabaseHandle {
  kind: 'postgres' | 'pglite';
  db: Database;
  raw: RawSql;
  /**
   * Subscribes to a NOTIFY channel on the process's listener connection. `onListening` runs each time
   * the LISTEN is (re)established, so callers can catch up on whatever they missed while it was down.
   */
  listen(
    channel: string,
    onNotify: (payload: string) => void,
    onListening?: () => void,
  ): Promise<() => Promise<void>>;
  /** Runs `work` while holding a session-level advisory lock, on its own connection. Null when another holds it. */
  tryWithAdvisoryLock<T>(
    lockId: bigint,
    work: () => Promise<T>,
  ): Promise<{ acquired: true; value: T } | { acquired: false }>;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** Called with each statement drizzle sends (tests count queries with it). */
  onQuery?: (query: string) => void;
}

export async function openDatabase(
  config: DatabaseConfig,
  options: OpenOptions = {},
): Promise<DatabaseHandle> {
  return config.kind === 'postgres'
    ? openPostgres(config.url, config.poolSize, options)
    : openPglite(config.dataDir, options);
}

const drizzleLogger = (options: OpenOptions) =>
  options.onQuery ? { logQuery: (query: string) => options.onQuery!(query) } : false;

function openPostgres(url: string, poolSize: number, options: OpenOptions): DatabaseHandle {
  const clientOptions = { max: poolSize, onnotice: () => {}, connection: { application_name: 'auditline' } };
  const client = postgres(url, clientOptions);
  cancelWithQueryScope(client);
  const rawClient = postgres(url, { ...clientOptions, max: Math.max(3, Math.ceil(poolSize / 4)) });
  // Leaders (purge, sealer) hold a session lock, and so a connection, for a whole run: they get their
  // own connections so they can never starve raw queries, LISTEN or /readyz.
  const lockClient = postgres(url, { ...clientOptions, max: 4 });
  const db = drizzlePostgres(client, { schema, logger: drizzleLogger(options) }) as unknown as Database;
  return {
    kind: 'postgres',
    db,
    raw: { query: async (text, params = []) => (await rawClient.unsafe(text, params as never[])) as never },
    async listen(channel, onNotify, onListening) {
      const subscription = await rawClient.listen(channel, onNotify, onListening);
      return () => subscription.unlisten();
    },
    async tryWithAdvisoryLock(lockId, work) {
      const connection = await lockClient.reserve();
      try {
        const [row] = await connection`select pg_try_advisory_lock(${lockId.toString()}::bigint) as acquired`;
        if (!row?.acquired) return { acquired: false };
        try {
          return { acquired: true, value: await work() };
        } finally {
          await connection`select pg_advisory_unlock(${lockId.toString()}::bigint)`;
        }
      } finally {
        connection.release();
      }
    },
    async close() {
      await Promise.all([
        client.end({ timeout: 5 }),
        rawClient.end({ timeout: 5 }),
        lockClient.end({ timeout: 5 }),
      ]);
    },
  };
}

async function openPglite(dataDir: string, options: OpenOptions): Promise<DatabaseHandle> {
  let unlock = () => {};
  if (!dataDir.startsWith('memory://')) {
    mkdirSync(dataDir, { recursive: true });
    unlock = lockDataDirectory(dataDir);
  }
  // Loaded only here: a server on PostgreSQL (and the sealer's thread) need not carry PGlite's code,
  // some 40 MiB of memory in each.
  const [{ PGlite }, { pg_trgm }, { drizzle: drizzlePglite }] = await Promise.all([
    import('@electric-sql/pglite'),
    import('@electric-sql/pglite/contrib/pg_trgm'),
    import('drizzle-orm/pglite'),
  ]);
  let client: PGlite;
  try {
    client = await PGlite.create(dataDir, { extensions: { pg_trgm } });
  } catch (error) {
    unlock();
    throw error;
  }
  const db = drizzlePglite(client, { schema, logger: drizzleLogger(options) }) as unknown as Database;
  return {
    kind: 'pglite',
    db,
    raw: { query: async (text, params = []) => (await client.query(text, params)).rows as never },
    async listen(channel, onNotify, onListening) {
      const unlisten = await client.listen(channel, onNotify);
      onListening?.();
      return unlisten;
    },
    // One embedded connection serves one process, so the lock is always ours.
    async tryWithAdvisoryLock(_lockId, work) {
      return { acquired: true, value: await work() };
    },
    async close() {
      try {
        await client.close();
      } finally {
        unlock();
      }
    },
  };
}
