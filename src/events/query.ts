import { and, asc, count, desc, inArray, type SQL, sql } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import { events } from '../db/tables.ts';
import { badInput } from '../errors.ts';
import { fromPublicId } from '../ids.ts';
import { decodePageCursor, encodePageCursor, type PageCursor } from './cursor.ts';
import type { AuditEvent } from './event.ts';
import { eventFromRow } from './event-row.ts';
import { MAX_PAGE_SIZE } from './input-limits.ts';

export type EventOrder = 'OCCURRED_AT_DESC' | 'OCCURRED_AT_ASC';

export interface PageArguments {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
}

export interface EventPage {
  edges: { cursor: string; node: AuditEvent }[];
  pageInfo: {
    hasNextPage: boolean;
    hasPreviousPage: boolean;
    startCursor: string | null;
    endCursor: string | null;
  };
}

export const DEFAULT_PAGE_SIZE = 50;
export { MAX_PAGE_SIZE };

function pageSize(value: number | null | undefined, name: string): number | null {
  if (value === null || value === undefined) return null;
  if (!Number.isInteger(value) || value < 0 || value > MAX_PAGE_SIZE) {
    throw badInput(`${name} must be between 0 and ${MAX_PAGE_SIZE}; got ${value}`, [name]);
  }
  return value;
}

/** `(occurred_at, id)` strictly past the cursor in the direction of travel. */
function beyond(cursor: PageCursor, direction: 'older' | 'newer'): SQL {
  const position = sql`(${events.occurredAt}, ${events.id})`;
  const at = sql`(${cursor.occurredAt.toISOString()}::timestamptz, ${cursor.id}::uuid)`;
  return direction === 'older' ? sql`${position} < ${at}` : sql`${position} > ${at}`;
}

/**
 * Keyset pagination: a page is one index range scan from the cursor, so page 10,000 costs what page
 * 1 costs. Reads one row more than asked to learn whether another page follows.
 */
export async function findEventsPage(
  db: Database,
  where: SQL | undefined,
  order: EventOrder,
  page: PageArguments,
  options: { reusePlan?: boolean } = {},
): Promise<EventPage> {
  const first = pageSize(page.first, 'first');
  const last = pageSize(page.last, 'last');
  if (first !== null && last !== null) throw badInput('Pass either first or last, not both', ['last']);
  const after = page.after ? decodePageCursor(page.after, 'after') : null;
  const before = page.before ? decodePageCursor(page.before, 'before') : null;
  const backwards = last !== null || (first === null && before !== null && after === null);
  const limit = (backwards ? last : first) ?? DEFAULT_PAGE_SIZE;

  const newestFirst = order === 'OCCURRED_AT_DESC';
  const forwardOlder = newestFirst !== backwards;
  const conditions = [where];
  if (after) conditions.push(beyond(after, newestFirst ? 'older' : 'newer'));
  if (before) conditions.push(beyond(before, newestFirst ? 'newer' : 'older'));
  const sort = forwardOlder
    ? [desc(events.occurredAt), desc(events.id)]
    : [asc(events.occurredAt), asc(events.id)];

  const query = db
    .select()
    .from(events)
    .where(and(...conditions))
    .orderBy(...sort)
    .limit(limit + 1);
  // A prepared statement lets PostgreSQL keep one plan for the query across executions instead of
  // planning it anew over every partition each time (see compileEventQuery for when that is right).
  const rows = options.reusePlan ? await query.prepare('events_page').execute() : await query;
  const hasMore = rows.length > limit;
  const pageRows = rows.slice(0, limit);
  if (backwards) pageRows.reverse();
  const edges = pageRows.map((row) => ({
    cursor: encodePageCursor({ occurredAt: row.occurredAt, id: row.id }),
    node: eventFromRow(row),
  }));
  return {
    edges,
    pageInfo: {
      hasNextPage: backwards ? before !== null : hasMore,
      hasPreviousPage: backwards ? hasMore : after !== null,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
}

export async function countEvents(db: Database, where: SQL | undefined): Promise<number> {
  const [row] = await db.select({ n: count() }).from(events).where(where);
  return Number(row?.n ?? 0);
}

/** Loads events by public id, in the order asked, null where missing or outside the organization. */
export async function loadEvents(
  db: Database,
  publicIds: readonly string[],
  organizationUuid: string | null,
): Promise<(AuditEvent | null)[]> {
  const uuids = publicIds.map((id) => fromPublicId('evt', id)).filter((id): id is string => id !== null);
  if (uuids.length === 0) return publicIds.map(() => null);
  const rows = await db
    .select()
    .from(events)
    .where(
      and(
        inArray(events.id, uuids),
        organizationUuid ? sql`${events.organizationId} = ${organizationUuid}::uuid` : undefined,
      ),
    );
  const byId = new Map(rows.map((row) => [row.id, eventFromRow(row)]));
  return publicIds.map((id) => byId.get(fromPublicId('evt', id) ?? '') ?? null);
}
