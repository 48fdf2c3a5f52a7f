import { type BackgroundWorker, intervalWorker, type WorkerContext } from '../background.ts';
import type { Config } from '../config.ts';
import type { DatabaseHandle } from '../db/client.ts';
import { runExclusivePurge } from './purge.ts';

export type RetentionSettings = Config['retention'];

/** One scheduled purge, if this process wins the purge lock; partitions ahead are created by it too. */
export function runScheduledPurge(handle: DatabaseHandle, settings: RetentionSettings) {
  return runExclusivePurge(handle, {
    defaultRetentionDays: settings.defaultDays,
    batchSize: settings.purgeBatchSize,
    trigger: 'schedule',
  });
}

/** Every PURGE_INTERVAL; when several servers share a database, only the lock holder purges. */
export function retentionWorker({ config, database, logger }: WorkerContext): BackgroundWorker {
  return intervalWorker('retention purge', config.retention.purgeIntervalMs, logger, async () => {
    const outcome = await runScheduledPurge(database, config.retention);
    if (!outcome.acquired) {
      logger.debug('retention purge skipped: another instance holds the purge lock');
      return;
    }
    const { report } = outcome;
    logger.info('retention purge finished', {
      deleted: report.deletedCount,
      partitionsDropped: report.droppedPartitions.length,
      organizations: report.organizations.length,
      ms: report.finishedAt.getTime() - report.startedAt.getTime(),
      stepsMs: report.stepsMs,
    });
  });
}
