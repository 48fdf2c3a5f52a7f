// One server's scheduled purge, as its own process: the leader test starts two of these on one database.
import { openDatabase } from '../../src/db/client.ts';
import { runScheduledPurge } from '../../src/retention/scheduler.ts';

const handle = await openDatabase({ kind: 'postgres', url: process.env.DATABASE_URL!, poolSize: 2 });
try {
  const outcome = await runScheduledPurge(handle, {
    defaultDays: 90,
    purgeIntervalMs: 3_600_000,
    purgeBatchSize: 1000,
  });
  const line = outcome.acquired ? { leader: true, runId: outcome.report.runId } : { leader: false };
  process.stdout.write(`${JSON.stringify(line)}\n`);
} finally {
  await handle.close();
}
