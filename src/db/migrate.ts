import { fileURLToPath } from 'node:url';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import type { DatabaseHandle } from './client.ts';

const migrationsFolder = fileURLToPath(new URL('../../drizzle', import.meta.url));
const MIGRATION_LOCK = 0x61756469746c6e01n;

/** Days of partitions kept ready ahead of today; the maintenance job tops them up. */
export const PARTITION_DAYS_AHEAD = 7;

/** Applies pending migrations. Concurrent starters on one PostgreSQL wait for each other. */
export async function migrateDatabase(handle: DatabaseHandle): Promise<void> {
  if (handle.kind === 'pglite') {
    await migratePglite(handle.db as never, { migrationsFolder });
  } else {
    await handle.raw.query('select pg_advisory_lock($1)', [MIGRATION_LOCK.toString()]);
    try {
      await migratePostgres(handle.db as never, { migrationsFolder });
    } finally {
      await handle.raw.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK.toString()]);
    }
  }
  await ensurePartitions(handle);
}

/** Creates daily partitions from yesterday to PARTITION_DAYS_AHEAD days ahead; returns how many were new. */
export async function ensurePartitions(handle: DatabaseHandle, now = new Date()): Promise<number> {
  const yesterday = new Date(now.getTime() - 86_400_000).toISOString().slice(0, 10);
  const [row] = await handle.raw.query<{ created: number }>(
    'select auditline_ensure_partitions($1::date, $2) as created',
    [yesterday, PARTITION_DAYS_AHEAD + 2],
  );
  return Number(row?.created ?? 0);
}
