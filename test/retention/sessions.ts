import postgres from 'postgres';
import type { DatabaseHandle } from '../../src/db/client.ts';
import type { Backend } from '../support/backends.ts';
import { createFreshDatabase } from '../support/fresh-database.ts';

/** One database connection of its own, optionally switched to `role` with SET ROLE. */
export interface Session {
  query<Row = Record<string, unknown>>(text: string, params?: unknown[]): Promise<Row[]>;
  close(): Promise<void>;
}

/**
 * PostgreSQL: a new single connection. PGlite has exactly one connection, so the role is switched on
 * it and switched back by `close` (nothing else may use the database meanwhile).
 */
export async function openSession(backend: Backend, handle: DatabaseHandle, role?: string): Promise<Session> {
  if (backend.config.kind === 'postgres') {
    const client = postgres(backend.config.url, { max: 1, onnotice: () => {} });
    if (role) await client.unsafe(`set role ${role}`);
    return {
      query: async (text, params = []) => (await client.unsafe(text, params as never[])) as never,
      close: () => client.end({ timeout: 5 }),
    };
  }
  if (role) await handle.raw.query(`set role ${role}`);
  return {
    query: (text, params) => handle.raw.query(text, params),
    close: async () => {
      await handle.raw.query('reset role');
    },
  };
}

/** Time-travelling purges touch the whole database: on PostgreSQL such suites get one of their own. */
export async function isolatedBackend(
  backend: Backend,
): Promise<{ backend: Backend; drop(): Promise<void> }> {
  if (backend.config.kind === 'pglite') return { backend, drop: async () => {} };
  const fresh = await createFreshDatabase('auditline_retention');
  return {
    backend: { name: 'postgres', config: { kind: 'postgres', url: fresh.url, poolSize: 4 } },
    drop: fresh.drop,
  };
}
