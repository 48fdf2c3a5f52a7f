import { readFile } from 'node:fs/promises';
import type { DatabaseHandle } from '../db/client.ts';
import { migrateDatabase } from '../db/migrate.ts';

export interface MigrationReport {
  /** Tags of the migrations this run applied, oldest first. */
  applied: string[];
  /** Migrations recorded in the database afterwards. */
  total: number;
}

interface JournalEntry {
  when: number;
  tag: string;
}

const journalUrl = new URL('../../drizzle/meta/_journal.json', import.meta.url);

/** Runs migrateDatabase and works out what it did from drizzle's bookkeeping table. */
export async function migrateAndReport(handle: DatabaseHandle): Promise<MigrationReport> {
  const before = await lastAppliedMigration(handle);
  await migrateDatabase(handle);
  const after = await lastAppliedMigration(handle);
  const journal = JSON.parse(await readFile(journalUrl, 'utf8')) as { entries: JournalEntry[] };
  // Drizzle applies every journal entry newer than the newest recorded `created_at`, so that
  // timestamp alone tells which ones ran.
  const applied = journal.entries.filter((entry) => entry.when > before.at && entry.when <= after.at);
  return { applied: applied.map((entry) => entry.tag), total: after.count };
}

async function lastAppliedMigration(handle: DatabaseHandle): Promise<{ at: number; count: number }> {
  const [table] = await handle.raw.query<{ present: boolean }>(
    `select to_regclass('drizzle.__drizzle_migrations') is not null as present`,
  );
  if (!table?.present) return { at: 0, count: 0 };
  const [row] = await handle.raw.query<{ at: string; count: string }>(
    'select coalesce(max(created_at), 0)::text as at, count(*)::text as count from drizzle.__drizzle_migrations',
  );
  return { at: Number(row?.at ?? 0), count: Number(row?.count ?? 0) };
}
