import { and, asc, eq, type SQL, sql } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import { rowsOf } from '../db/rows.ts';
import { events } from '../db/tables.ts';
import { badInput } from '../errors.ts';
import { compileEventWhere } from '../events/filter.ts';
import { currentStreamPosition, STREAM_BEGINNING, type StreamPosition } from '../events/settled.ts';
import { toPublicId, uuidv7 } from '../ids.ts';
import type { DestinationType } from './destinations/index.ts';
import type { ExportFormat } from './formats/index.ts';
import { destinations } from './tables.ts';

export type DestinationStatus = 'ACTIVE' | 'PAUSED' | 'FAILING';

export interface Destination {
  uuid: string;
  /** Public id, `dst_…`. */
  id: string;
  organizationUuid: string;
  /** Public id, `org_…`. */
  organizationId: string;
  name: string;
  type: DestinationType;
  url: string;
  format: ExportFormat;
  actions: string[];
  query: string | null;
  options: Record<string, unknown>;
  sealedSecret: string | null;
  status: DestinationStatus;
  cursor: StreamPosition;
  resendThrough: StreamPosition | null;
  attempts: number;
  nextAttemptAt: Date | null;
  lastSuccessAt: Date | null;
  lastError: string | null;
  lastErrorAt: Date | null;
  deliveredCount: number;
  duplicatesCount: number;
  createdAt: Date;
  updatedAt: Date;
}

type DestinationRow = typeof destinations.$inferSelect;

export function destinationFromRow(row: DestinationRow): Destination {
  return {
    uuid: row.id,
    id: toPublicId('dst', row.id),
    organizationUuid: row.organizationId,
    organizationId: toPublicId('org', row.organizationId),
    name: row.name,
    type: row.type as DestinationType,
    url: row.url,
    format: row.format as ExportFormat,
    actions: row.actions,
    query: row.query,
    options: row.options as Record<string, unknown>,
    sealedSecret: row.sealedSecret,
    status: row.status as DestinationStatus,
    cursor: { xid: String(row.cursorXid), id: row.cursorId },
    resendThrough:
      row.resendThroughXid && row.resendThroughId
        ? { xid: String(row.resendThroughXid), id: row.resendThroughId }
        : null,
    attempts: row.attempts,
    nextAttemptAt: row.nextAttemptAt,
    lastSuccessAt: row.lastSuccessAt,
    lastError: row.lastError,
    lastErrorAt: row.lastErrorAt,
    deliveredCount: Number(row.deliveredCount),
    duplicatesCount: Number(row.duplicatesCount),
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

/** Which events a destination carries: its organization's, narrowed by its actions and query. */
export function destinationWhere(
  destination: Pick<Destination, 'organizationUuid' | 'actions' | 'query'>,
): SQL | undefined {
  return compileEventWhere(
    destination.organizationUuid,
    { actions: destination.actions.length > 0 ? destination.actions : null },
    destination.query,
  );
}

/** What an admin configures; everything else (ids, status, cursor, counters) the store sets. */
export type NewDestination = Pick<
  Destination,
  'organizationUuid' | 'name' | 'type' | 'url' | 'format' | 'actions' | 'query' | 'options' | 'sealedSecret'
> & {
  /** Deliver events already stored too, or only those from now on (the default). */
  fromBeginning?: boolean;
};

async function assertNameFree(db: Database, organizationUuid: string, name: string, except?: string) {
  const [clash] = await db
    .select({ id: destinations.id })
    .from(destinations)
    .where(and(eq(destinations.organizationId, organizationUuid), eq(destinations.name, name)));
  if (clash && clash.id !== except) {
    throw badInput(`This organization already has a destination named "${name}"`, ['input', 'name']);
  }
}

export async function createDestination(db: Database, input: NewDestination): Promise<Destination> {
  await assertNameFree(db, input.organizationUuid, input.name);
  const start = input.fromBeginning ? STREAM_BEGINNING : await currentStreamPosition(db);
  const [row] = await db
    .insert(destinations)
    .values({
      id: uuidv7(),
      organizationId: input.organizationUuid,
      name: input.name,
      type: input.type,
      url: input.url,
      format: input.format,
      actions: input.actions,
      query: input.query,
      options: input.options,
      sealedSecret: input.sealedSecret,
      cursorXid: start.xid,
      cursorId: start.id,
    })
    .returning();
  return destinationFromRow(row!);
}

export async function findDestination(db: Database, uuid: string): Promise<Destination | null> {
  const [row] = await db.select().from(destinations).where(eq(destinations.id, uuid));
  return row ? destinationFromRow(row) : null;
}

/** One organization's destinations, or every organization's when `organizationUuid` is null. */
export async function listDestinations(
  db: Database,
  organizationUuid: string | null,
): Promise<Destination[]> {
  const rows = await db
    .select()
    .from(destinations)
    .where(organizationUuid ? eq(destinations.organizationId, organizationUuid) : undefined)
    .orderBy(asc(destinations.createdAt), asc(destinations.id));
  return rows.map(destinationFromRow);
}

export type DestinationChanges = Partial<
  Pick<Destination, 'name' | 'url' | 'format' | 'actions' | 'query' | 'options' | 'sealedSecret'>
>;

export async function updateDestination(
  db: Database,
  current: Destination,
  changes: DestinationChanges,
): Promise<Destination> {
  if (changes.name !== undefined && changes.name !== current.name) {
    await assertNameFree(db, current.organizationUuid, changes.name, current.uuid);
  }
  const [row] = await db
    .update(destinations)
    .set({ ...changes, updatedAt: sql`now()` })
    .where(eq(destinations.id, current.uuid))
    .returning();
  return destinationFromRow(row!);
}

/** PAUSED stops delivery; ACTIVE resumes it at once, where the cursor stands, with the retry count reset. */
export async function setDestinationStatus(
  db: Database,
  uuid: string,
  status: 'ACTIVE' | 'PAUSED',
): Promise<Destination | null> {
  const [row] = await db
    .update(destinations)
    .set(
      status === 'PAUSED'
        ? { status, updatedAt: sql`now()` }
        : { status, attempts: 0, nextAttemptAt: null, updatedAt: sql`now()` },
    )
    .where(eq(destinations.id, uuid))
    .returning();
  return row ? destinationFromRow(row) : null;
}

export async function removeDestination(db: Database, uuid: string): Promise<boolean> {
  const removed = await db
    .delete(destinations)
    .where(eq(destinations.id, uuid))
    .returning({ id: destinations.id });
  return removed.length > 0;
}

export interface DestinationLag {
  events: number;
  seconds: number;
}

/** Matching events after the cursor (settled or not) and how long the oldest of them has waited. */
export async function destinationLag(
  db: Database,
  destination: Destination,
  now = new Date(),
): Promise<DestinationLag> {
  const [row] = rowsOf<{ n: string | number; oldest: string | Date | null }>(
    await db.execute(sql`
      select count(*) as n, min(${events.receivedAt}) as oldest from ${events}
      where ${and(
        destinationWhere(destination),
        sql`(${events.xid}, ${events.id}) > (${destination.cursor.xid}::xid8, ${destination.cursor.id}::uuid)`,
      )}`),
  );
  const oldest = row?.oldest ? new Date(row.oldest) : null;
  return {
    events: Number(row?.n ?? 0),
    seconds: oldest ? Math.max(0, (now.getTime() - oldest.getTime()) / 1000) : 0,
  };
}
