import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import type { CliEnv } from './captured-cli.ts';

export interface DatabaseBackend {
  name: 'pglite' | 'postgres';
  /** Creates an empty database and returns the environment that points the CLI at it. */
  setUp(): Promise<CliEnv>;
  tearDown(): Promise<void>;
}

export function pgliteBackend(): DatabaseBackend {
  let dataDir: string | undefined;
  return {
    name: 'pglite',
    async setUp() {
      dataDir = await mkdtemp(join(tmpdir(), 'auditline-cli-'));
      return { AUDITLINE_DATA_DIR: dataDir };
    },
    async tearDown() {
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** A fresh database on the server DATABASE_URL names, dropped afterwards. */
export function postgresBackend(serverUrl: string): DatabaseBackend {
  const databaseName = `auditline_cli_${randomBytes(6).toString('hex')}`;
  const maintenanceUrl = withDatabase(serverUrl, 'postgres');
  return {
    name: 'postgres',
    async setUp() {
      const sql = postgres(maintenanceUrl, { max: 1, onnotice: () => {} });
      try {
        await sql.unsafe(`create database ${databaseName}`);
      } finally {
        await sql.end();
      }
      return { DATABASE_URL: withDatabase(serverUrl, databaseName) };
    },
    async tearDown() {
      const sql = postgres(maintenanceUrl, { max: 1, onnotice: () => {} });
      try {
        await sql.unsafe(`drop database if exists ${databaseName} with (force)`);
      } finally {
        await sql.end();
      }
    },
  };
}

export function databaseBackends(env: CliEnv = process.env): DatabaseBackend[] {
  return env.DATABASE_URL ? [pgliteBackend(), postgresBackend(env.DATABASE_URL)] : [pgliteBackend()];
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}
