import { and, asc, count, desc, eq, isNotNull } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import { events } from '../db/tables.ts';
import { fromPublicId } from '../ids.ts';
import { purgeRuns } from './tables.ts';

export interface RetentionStatus {
  /** receivedAt of the organization's oldest stored event (retention runs on receivedAt). */
  oldestEventAt: Date | null;
  eventCount: number;
  /** When the scheduled purge is next due: the last scheduled run's start plus PURGE_INTERVAL, or now. */
  nextPurgeAt: Date;
  lastPurge: { at: Date; deletedCount: number } | null;
}

export async function retentionStatus(
  db: Database,
  organizationId: string,
  schedule: { purgeIntervalMs: number; now?: Date },
): Promise<RetentionStatus> {
  const uuid = fromPublicId('org', organizationId)!;
  const now = schedule.now ?? new Date();
  // Ordered by the partition key, the scan stops in the first partition holding one of its events.
  const [oldest] = await db
    .select({ receivedAt: events.receivedAt })
    .from(events)
    .where(eq(events.organizationId, uuid))
    .orderBy(asc(events.receivedAt))
    .limit(1);
  const [counted] = await db.select({ n: count() }).from(events).where(eq(events.organizationId, uuid));
  const [last] = await db
    .select({ finishedAt: purgeRuns.finishedAt, deletedCounts: purgeRuns.deletedCounts })
    .from(purgeRuns)
    .where(and(eq(purgeRuns.dryRun, false), isNotNull(purgeRuns.finishedAt)))
    .orderBy(desc(purgeRuns.finishedAt))
    .limit(1);
  const [lastScheduled] = await db
    .select({ startedAt: purgeRuns.startedAt })
    .from(purgeRuns)
    .where(and(eq(purgeRuns.dryRun, false), eq(purgeRuns.trigger, 'schedule')))
    .orderBy(desc(purgeRuns.startedAt))
    .limit(1);
  const due = lastScheduled ? lastScheduled.startedAt.getTime() + schedule.purgeIntervalMs : now.getTime();
  return {
    oldestEventAt: oldest?.receivedAt ?? null,
    eventCount: Number(counted?.n ?? 0),
    nextPurgeAt: new Date(Math.max(due, now.getTime())),
    lastPurge: last
      ? {
          at: last.finishedAt!,
          deletedCount: Number((last.deletedCounts as Record<string, number>)[uuid] ?? 0),
        }
      : null,
  };
}
