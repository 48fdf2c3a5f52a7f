/**
 * `npm run bench:seed -- --events 10000000 [--database URL] [--days 30] [--seed 1] [--keep-indexes]`
 *
 * Loads realistic audit events with COPY into a migrated Auditline database (migrating it first).
 * Into an empty events table it drops the secondary indexes during the load and rebuilds them after
 * (unless --keep-indexes); into a table that has rows it keeps them, so concurrent readers stay fast.
 * Without --database it uses postgres://postgres@127.0.0.1:5432/auditline_bench, created if missing.
 */
import postgres from 'postgres';
import { loadConfig } from '../../src/config.ts';
import { openDatabase } from '../../src/db/client.ts';
import { migrateDatabase } from '../../src/db/migrate.ts';
import { seedEvents } from './data/seed-events.ts';
import { numberArg, parseArgs, stringArg } from './lib/args.ts';

const DEFAULT_URL = 'postgres://postgres@127.0.0.1:5432/auditline_bench';

async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  const maintenance = new URL(url);
  maintenance.pathname = '/postgres';
  const admin = postgres(maintenance.toString(), { max: 1, onnotice: () => {} });
  try {
    const [row] = await admin`select 1 as present from pg_database where datname = ${name}`;
    if (!row) await admin.unsafe(`create database "${name.replaceAll('"', '""')}"`);
  } finally {
    await admin.end();
  }
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const url = stringArg(args, 'database') ?? DEFAULT_URL;
  const events = numberArg(args, 'events', 2_000_000);
  await ensureDatabase(url);
  const database = await openDatabase(loadConfig({ DATABASE_URL: url, DATABASE_POOL_SIZE: '2' }).database);
  try {
    await migrateDatabase(database);
  } finally {
    await database.close();
  }
  const probe = postgres(url, { max: 1, onnotice: () => {} });
  const [row] = await probe`select exists (select 1 from events) as loaded`;
  await probe.end();
  const report = await seedEvents({
    url,
    events,
    parallel: 2,
    // Into an empty table, building the indexes after the load is several times faster.
    rebuildIndexes: !row?.loaded && !args.has('keep-indexes'),
    days: numberArg(args, 'days', 30),
    seed: numberArg(args, 'seed', 1),
    log: (message) => process.stderr.write(`${message}\n`),
  });
  const top = report.organizations.slice(0, 3).map((org) => `${org.name}=${org.events}`);
  process.stdout.write(
    `Loaded ${report.events} events in ${report.seconds.toFixed(1)} s ` +
      `(${Math.round(report.eventsPerSecond)}/s) into ${url.replace(/\/\/[^@]*@/, '//')}; ` +
      `received ${report.from.toISOString()} to ${report.to.toISOString()}; largest tenants ${top.join(', ')}\n`,
  );
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
