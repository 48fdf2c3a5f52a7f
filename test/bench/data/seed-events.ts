import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import postgres from 'postgres';
import { prepareEvent } from '../../../src/events/emit-input.ts';
import { recordOf } from '../../../src/events/event-row.ts';
import { uuidv7 } from '../../../src/ids.ts';
import { copyField, jsonField, textArrayLiteral } from './copy-format.ts';
import {
  type DatasetOrganization,
  datasetOrganizations,
  generateEvent,
  ORGANIZATION_COUNT,
  organizationName,
  pickOrganization,
} from './events.ts';
import { Random } from './random.ts';

const DAY_MS = 86_400_000;

export const COPY_COLUMNS = [
  'id',
  'organization_id',
  'action',
  'actor_id',
  'actor_type',
  'actor_name',
  'actor_metadata',
  'targets',
  'target_ids',
  'target_types',
  'ip_address',
  'user_agent',
  'location',
  'request_id',
  'session_id',
  'metadata',
  'search_text',
  'occurred_at',
  'received_at',
  'version',
  'idempotency_key',
] as const;

export interface SeedOptions {
  url: string;
  events: number;
  /** received_at is spread over this many days up to `now` (one minute before it)... */
  days?: number;
  /** ...or over exactly this range (e.g. one old day for a purge scenario). */
  range?: { from: Date; to: Date };
  seed?: number;
  now?: Date;
  /** Tables (schema-qualified or not) that receive the same rows, each through its own COPY. */
  tables?: string[];
  /** COPY sessions per table, fed chunks in turn (PostgreSQL's index upkeep is the bottleneck). */
  parallel?: number;
  /**
   * Drop the tables' secondary indexes before the load and rebuild them (same definitions, two
   * sessions at a time) after it: several times cheaper than keeping three GIN indexes up to date
   * row by row. Only for a database nobody else uses meanwhile.
   */
  rebuildIndexes?: boolean;
  log?: (message: string) => void;
}

export interface SeedReport {
  events: number;
  seconds: number;
  eventsPerSecond: number;
  organizations: { rank: number; name: string; uuid: string; events: number }[];
  from: Date;
  to: Date;
}

/** Makes sure the 100 bench organizations exist; returns their uuids by rank. */
export async function ensureBenchOrganizations(sql: postgres.Sql): Promise<string[]> {
  const names = Array.from({ length: ORGANIZATION_COUNT }, (_, rank) => organizationName(rank));
  const existing = await sql<{ id: string; name: string }[]>`
    select id, name from organizations where name = any(${names})`;
  const byName = new Map(existing.map((row) => [row.name, row.id]));
  const missing = names.filter((name) => !byName.has(name)).map((name) => ({ id: uuidv7(), name }));
  if (missing.length > 0) await sql`insert into organizations ${sql(missing, 'id', 'name')}`;
  for (const row of missing) byName.set(row.name, row.id);
  return names.map((name) => byName.get(name)!);
}

/** A UUIDv7 for an arbitrary past millisecond (ids.ts's generator is monotonic for the current clock). */
function uuidv7At(millis: number): string {
  const bytes = randomBytes(16);
  bytes.writeUIntBE(millis, 0, 6);
  bytes[6] = 0x70 | (bytes[6]! & 0x0f);
  bytes[8] = 0x80 | (bytes[8]! & 0x3f);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** One event as a COPY line, with the derived columns computed by the product's own functions. */
function copyLine(organization: DatasetOrganization, random: Random, receivedMillis: number): string {
  // Most events arrive within seconds of happening; a few are delivered minutes late.
  const lag = random.chance(0.02) ? random.int(600_000) : random.int(3_000);
  const receivedAt = new Date(receivedMillis);
  const input = generateEvent(random, organization, new Date(receivedMillis - lag));
  const prepared = prepareEvent(
    input,
    { id: uuidv7At(receivedMillis), organizationId: organization.uuid },
    receivedAt,
  );
  if (!prepared.ok) throw new Error(`generated an invalid event: ${prepared.error.message}`);
  const row = recordOf(prepared.event, receivedAt);
  return [
    row.id,
    row.organization_id,
    copyField(row.action),
    copyField(row.actor_id),
    copyField(row.actor_type),
    copyField(row.actor_name),
    copyField(jsonField(row.actor_metadata)),
    copyField(jsonField(row.targets)),
    copyField(textArrayLiteral(row.target_ids)),
    copyField(textArrayLiteral(row.target_types)),
    copyField(row.ip_address),
    copyField(row.user_agent),
    copyField(row.location),
    copyField(row.request_id),
    copyField(row.session_id),
    copyField(jsonField(row.metadata)),
    copyField(row.search_text),
    row.occurred_at,
    row.received_at,
    row.version === null ? '\\N' : String(row.version),
    copyField(row.idempotency_key),
  ].join('\t');
}

/** Drops the secondary indexes of `tables` (on a partitioned table, with its partitions'); returns their definitions. */
async function dropSecondaryIndexes(sql: postgres.Sql, tables: string[]): Promise<string[]> {
  const definitions: string[] = [];
  for (const table of tables) {
    const indexes = await sql<{ name: string; definition: string }[]>`
      select indexrelid::regclass::text as name, pg_get_indexdef(indexrelid) as definition
      from pg_index where indrelid = ${table}::regclass and not indisprimary`;
    for (const index of indexes) {
      await sql.unsafe(`drop index ${index.name}`);
      // A partitioned table's index reads `ON ONLY …`; rebuilt that way it would skip the partitions.
      definitions.push(index.definition.replace(' ON ONLY ', ' ON '));
    }
  }
  return definitions;
}

/** Rebuilds indexes from their definitions, the costliest (GIN) first, one per session at a time. */
async function rebuildIndexes(sessions: postgres.Sql[], definitions: string[]): Promise<void> {
  const queue = [...definitions].sort(
    (a, b) => Number(/ USING gin /.test(b)) - Number(/ USING gin /.test(a)),
  );
  await Promise.all(
    sessions.map(async (session) => {
      await session.unsafe(`set maintenance_work_mem = '512MB'`);
      for (let definition = queue.shift(); definition; definition = queue.shift())
        await session.unsafe(definition);
    }),
  );
}

async function write(stream: Writable, chunk: string): Promise<void> {
  if (!stream.write(chunk)) await once(stream, 'drain');
}

/**
 * Loads `events` generated events with COPY into the real, partitioned `events` table (and any other
 * table of the same shape given in `tables`), received over the last `days` days in time order.
 */
export async function seedEvents(options: SeedOptions): Promise<SeedReport> {
  const days = options.days ?? 30;
  const now = options.now ?? new Date();
  const tables = options.tables ?? ['events'];
  const log = options.log ?? (() => {});
  const admin = postgres(options.url, { max: 1, onnotice: () => {} });
  const parallel = Math.max(1, options.parallel ?? 1);
  const targets = Array.from({ length: parallel }, () => tables).flat();
  const copiers = targets.map(() => postgres(options.url, { max: 1, onnotice: () => {} }));
  try {
    const uuids = await ensureBenchOrganizations(admin);
    const organizations = datasetOrganizations(uuids);
    const to = options.range ? options.range.to.getTime() : now.getTime() - 60_000;
    const from = options.range ? options.range.from.getTime() : to - days * DAY_MS;
    const firstDay = new Date(from).toISOString().slice(0, 10);
    const partitionDays = Math.ceil((to - Date.parse(firstDay)) / DAY_MS) + 1;
    await admin`select auditline_ensure_partitions(${firstDay}::date, ${partitionDays})`;

    const started = performance.now();
    const dropped = options.rebuildIndexes ? await dropSecondaryIndexes(admin, tables) : [];
    const streams = await Promise.all(
      targets.map(
        (table, index) =>
          copiers[index]!.unsafe(
            `copy ${table} (${COPY_COLUMNS.join(', ')}) from stdin`,
          ).writable() as Promise<Writable>,
      ),
    );
    const random = new Random(options.seed ?? 1);
    const perOrganization = new Array<number>(organizations.length).fill(0);
    const step = (to - from) / Math.max(1, options.events);
    let chunk = '';
    let chunks = 0;
    let lastLog = started;
    // Chunk k goes to every table's session number k % parallel; a lane takes its next chunk only
    // once its previous one drained, so generation overlaps with PostgreSQL's work without piling up.
    const pending: Promise<unknown>[] = Array.from({ length: parallel }, () => Promise.resolve());
    const flush = async () => {
      const lane = chunks % parallel;
      chunks += 1;
      const data = chunk;
      chunk = '';
      await pending[lane];
      const written = Promise.all(
        streams.slice(lane * tables.length, (lane + 1) * tables.length).map((stream) => write(stream, data)),
      );
      written.catch(() => {}); // awaited (and thrown) on the lane's next turn
      pending[lane] = written;
    };
    for (let index = 0; index < options.events; index += 1) {
      const rank = pickOrganization(random);
      perOrganization[rank]! += 1;
      chunk += `${copyLine(organizations[rank]!, random, Math.floor(from + (index + random.next()) * step))}\n`;
      if (chunk.length > 512 * 1024) {
        await flush();
        if (performance.now() - lastLog > 5000) {
          lastLog = performance.now();
          const rate = Math.round((index + 1) / ((lastLog - started) / 1000));
          log(`seed: ${index + 1} of ${options.events} events (${rate}/s)`);
        }
      }
    }
    if (chunk) await flush();
    await Promise.all(pending);
    await Promise.all(
      streams.map(async (stream) => {
        const finished = once(stream, 'finish');
        stream.end();
        await finished;
      }),
    );
    if (dropped.length > 0) {
      log(
        `seed: rows loaded in ${((performance.now() - started) / 1000).toFixed(1)} s; rebuilding ${dropped.length} indexes`,
      );
      await rebuildIndexes([admin, copiers[0]!], dropped);
    }
    // After a bulk load, VACUUM too: it sets hint bits and the visibility map now, instead of the
    // first readers (or autovacuum, in the middle of a measurement) doing it.
    for (const table of tables)
      await admin.unsafe(`${dropped.length > 0 ? 'vacuum (analyze)' : 'analyze'} ${table}`);
    const seconds = (performance.now() - started) / 1000;
    return {
      events: options.events,
      seconds,
      eventsPerSecond: options.events / seconds,
      organizations: organizations.map((organization) => ({
        rank: organization.rank,
        name: organization.name,
        uuid: organization.uuid,
        events: perOrganization[organization.rank]!,
      })),
      from: new Date(from),
      to: new Date(to),
    };
  } finally {
    await Promise.all([admin.end(), ...copiers.map((copier) => copier.end())]);
  }
}
