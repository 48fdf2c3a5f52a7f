import postgres from 'postgres';

/**
 * A new, empty PostgreSQL database on the server DATABASE_URL points at, for tests that must own a
 * whole database (partitions dropped by a purge, two server processes, a restarted listener).
 */
export async function createFreshDatabase(
  prefix = 'auditline_test',
): Promise<{ url: string; drop(): Promise<void> }> {
  const base = process.env.DATABASE_URL;
  if (!base) throw new Error('createFreshDatabase needs DATABASE_URL');
  const name = `${prefix}_${process.pid}_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e6)}`;
  const admin = postgres(base, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const cleaner = postgres(base, { max: 1, onnotice: () => {} });
      await cleaner.unsafe(`drop database if exists ${name} with (force)`);
      await cleaner.end();
    },
  };
}
