import postgres from 'postgres';
import { type DatabaseHandle, openDatabase } from '../../src/db/client.ts';
import { migrateDatabase } from '../../src/db/migrate.ts';
import { createFreshDatabase } from './fresh-database.ts';

/**
 * A fresh PostgreSQL database migrated by its owner, plus a second connection as a new login role that
 * is only a member of `auditline_app`: the least privilege the server can run with.
 */
export async function openAsAppRole(prefix: string): Promise<{
  owner: DatabaseHandle;
  asApp: DatabaseHandle;
  close(): Promise<void>;
}> {
  const login = `${prefix}_${process.pid}_${Date.now().toString(36)}`;
  const fresh = await createFreshDatabase(prefix);
  const owner = await openDatabase({ kind: 'postgres', url: fresh.url, poolSize: 2 });
  await migrateDatabase(owner);
  await owner.raw.query(`create role ${login} login in role auditline_app`);
  const url = new URL(fresh.url);
  url.username = login;
  const asApp = await openDatabase({ kind: 'postgres', url: url.toString(), poolSize: 2 });
  return {
    owner,
    asApp,
    async close() {
      await asApp.close();
      await owner.raw.query(`drop owned by ${login}`).catch(() => {});
      await owner.close();
      await fresh.drop();
      const admin = postgres(process.env.DATABASE_URL!, { max: 1, onnotice: () => {} });
      await admin.unsafe(`drop role if exists ${login}`);
      await admin.end();
    },
  };
}
