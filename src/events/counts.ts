import { asc, count, desc, type SQL, sql } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import { events } from '../db/tables.ts';
import { badInput } from '../errors.ts';
import { MAX_GROUPS } from './input-limits.ts';

export const EVENT_GROUPINGS = ['ACTION', 'ACTOR', 'ACTOR_TYPE', 'IP_ADDRESS', 'HOUR', 'DAY'] as const;
export type EventGrouping = (typeof EVENT_GROUPINGS)[number];

export interface EventCount {
  key: string | null;
  count: number;
}

const keyOf: Record<EventGrouping, SQL<string | null>> = {
  ACTION: sql`${events.action}`,
  ACTOR: sql`${events.actorId}`,
  ACTOR_TYPE: sql`${events.actorType}`,
  IP_ADDRESS: sql`host(${events.ipAddress})`,
  HOUR: sql`to_char(date_trunc('hour', ${events.occurredAt} at time zone 'UTC'), 'YYYY-MM-DD"T"HH24":00:00Z"')`,
  DAY: sql`to_char(${events.occurredAt} at time zone 'UTC', 'YYYY-MM-DD')`,
};

export { MAX_GROUPS };

/**
 * Counts matching events per group: the answer to "how many failed logins per IP in the past hour?".
 * Time buckets come back oldest first; other groupings busiest first.
 */
export async function countEventsBy(
  db: Database,
  where: SQL | undefined,
  grouping: EventGrouping,
  limit: number,
): Promise<EventCount[]> {
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_GROUPS) {
    throw badInput(`limit must be between 1 and ${MAX_GROUPS}; got ${limit}`, ['limit']);
  }
  const key = keyOf[grouping];
  const byTime = grouping === 'HOUR' || grouping === 'DAY';
  const rows = await db
    .select({ key: key.as('key'), count: count() })
    .from(events)
    .where(where)
    .groupBy(sql`1`)
    .orderBy(...(byTime ? [asc(sql`1`)] : [desc(count()), asc(sql`1`)]))
    .limit(limit);
  return rows.map((row) => ({ key: row.key, count: Number(row.count) }));
}
