import { loadConfig } from '../config.ts';
import { openDatabase } from '../db/client.ts';
import type { OpenedDatabase } from './command.ts';
import { migrateAndReport } from './migration-report.ts';

export interface DatabaseSession {
  open(): Promise<OpenedDatabase>;
  close(): Promise<void>;
}

/** Opens lazily so help and argument errors never touch the database (PGlite takes a while to start). */
export function createDatabaseSession(env: Record<string, string | undefined>): DatabaseSession {
  let opening: Promise<OpenedDatabase> | undefined;
  return {
    open() {
      opening ??= openAndMigrate(env);
      return opening;
    },
    async close() {
      if (!opening) return;
      const opened = await opening.catch(() => null);
      await opened?.handle.close();
    },
  };
}

async function openAndMigrate(env: Record<string, string | undefined>): Promise<OpenedDatabase> {
  const config = loadConfig(env);
  const handle = await openDatabase(config.database);
  try {
    const migrations = await migrateAndReport(handle);
    return { config, handle, db: handle.db, migrations };
  } catch (error) {
    await handle.close();
    throw error;
  }
}
