import type { DatabaseConfig } from '../../src/config.ts';

export interface Backend {
  name: 'pglite' | 'postgres';
  config: DatabaseConfig;
}

/**
 * Every suite runs on embedded PGlite, and also on the real PostgreSQL named by DATABASE_URL when it
 * is set (CI always sets it). Tests isolate themselves with a fresh organization, not by truncating.
 */
export function backends(): Backend[] {
  const list: Backend[] = [{ name: 'pglite', config: { kind: 'pglite', dataDir: 'memory://' } }];
  const url = process.env.DATABASE_URL;
  if (url) list.push({ name: 'postgres', config: { kind: 'postgres', url, poolSize: 8 } });
  return list;
}

export const postgresOnly = (): Backend[] => backends().filter((backend) => backend.name === 'postgres');
