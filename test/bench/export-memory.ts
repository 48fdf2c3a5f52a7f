/**
 * One-shot export of N events (default 1,000,000) through the real download route, gzipped, while
 * sampling the process's memory: the exporter reads one keyset page at a time, so RSS and heap
 * should stay flat however large the export. Needs DATABASE_URL (it makes and drops its own
 * database). Usage: node --import tsx test/bench/export-memory.ts [events] [format]
 */
import { request } from 'node:http';
import { buildApp } from '../../src/app.ts';
import { openDatabase } from '../../src/db/client.ts';
import { migrateDatabase } from '../../src/db/migrate.ts';
import { fromPublicId } from '../../src/ids.ts';
import { createLogger } from '../../src/logger.ts';
import { createApiKey } from '../../src/tenancy/api-keys.ts';
import { createOrganization } from '../../src/tenancy/organizations.ts';
import { createFreshDatabase } from '../support/fresh-database.ts';
import { testConfig } from '../support/test-app.ts';

const total = Number(process.argv[2] ?? 1_000_000);
const format = (process.argv[3] ?? 'JSONL').toUpperCase();
const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);

const fresh = await createFreshDatabase('auditline_bench_export');
const database = await openDatabase({ kind: 'postgres', url: fresh.url, poolSize: 4 });
try {
  await migrateDatabase(database);
  const organization = await createOrganization(database.db, 'bench');
  const key = await createApiKey(database.db, { organizationId: organization.id, scopes: ['events:read'] });
  const seeding = Date.now();
  for (let start = 0; start < total; start += 100_000) {
    await database.raw.query(
      `insert into events (id, organization_id, action, actor_id, actor_type, actor_name, targets, target_ids,
         target_types, ip_address, user_agent, metadata, search_text, occurred_at, received_at)
       select gen_random_uuid(), $1::uuid, case when n % 3 = 0 then 'user.login_failed' else 'document.updated' end,
         'usr_' || n, 'user', 'User ' || n, jsonb_build_array(jsonb_build_object('id', 'doc_' || n, 'type', 'document')),
         array['doc_' || n], array['document'], '203.0.113.9'::inet, 'Mozilla/5.0',
         jsonb_build_object('seq', n, 'reason', 'benchmark'), 'usr_' || n,
         timestamptz '2026-01-01' + n * interval '1 second', now()
       from generate_series($2::int, $3::int) as n`,
      [fromPublicId('org', organization.id), start, Math.min(start + 100_000, total) - 1],
    );
  }
  // Fresh bulk-loaded tables have no statistics yet; a real one has them (autovacuum's analyze).
  await database.raw.query('analyze events');
  console.log(`seeded ${total} events in ${((Date.now() - seeding) / 1000).toFixed(1)}s`);

  const app = buildApp({
    config: testConfig(),
    database,
    logger: createLogger('error'),
    runBackgroundWorkers: false,
  });
  const port = await app.start(0, '127.0.0.1');
  const response = await app.yoga.fetch('http://127.0.0.1/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key.secret}` },
    body: JSON.stringify({ query: `{ exportEvents(format: ${format}) { path } }` }),
  });
  const { path } = ((await response.json()) as { data: { exportEvents: { path: string } } }).data
    .exportEvents;

  global.gc?.();
  const baseline = process.memoryUsage();
  let peakRss = baseline.rss;
  let peakHeap = baseline.heapUsed;
  const samples: string[] = [];
  let received = 0;
  const sampler = setInterval(() => {
    const usage = process.memoryUsage();
    peakRss = Math.max(peakRss, usage.rss);
    peakHeap = Math.max(peakHeap, usage.heapUsed);
    samples.push(`${mib(received)} MiB gz: rss ${mib(usage.rss)} heap ${mib(usage.heapUsed)}`);
  }, 2000);
  const started = Date.now();
  await new Promise<void>((resolve, reject) => {
    request({ host: '127.0.0.1', port, path, headers: { 'accept-encoding': 'gzip' } }, (res) => {
      res.on('data', (chunk: Buffer) => (received += chunk.length));
      res.on('end', resolve);
      res.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
  clearInterval(sampler);
  const seconds = (Date.now() - started) / 1000;
  for (const sample of samples) console.log(sample);
  console.log(
    `exported ${total} events (${format}) in ${seconds.toFixed(1)}s (${Math.round(total / seconds)}/s), ` +
      `${mib(received)} MiB gzipped; baseline rss ${mib(baseline.rss)} heap ${mib(baseline.heapUsed)} MiB, ` +
      `peak rss ${mib(peakRss)} heap ${mib(peakHeap)} MiB`,
  );
  await app.stop();
} finally {
  await database.close();
  await fresh.drop();
}
