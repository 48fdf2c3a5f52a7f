import { sql } from 'drizzle-orm';
import type { Database, DatabaseHandle } from '../../src/db/client.ts';
import { type EmitEventInput, prepareEvent } from '../../src/events/emit-input.ts';
import { recordOf } from '../../src/events/event-row.ts';
import { fromPublicId, toPublicId, uuidv7 } from '../../src/ids.ts';

const DAY_MS = 86_400_000;

/** Creates the day partitions covering [from, to] (both UTC days included). */
export async function ensureDays(handle: DatabaseHandle, from: Date, to: Date = from): Promise<void> {
  const first = Date.UTC(from.getUTCFullYear(), from.getUTCMonth(), from.getUTCDate());
  const days = Math.floor((to.getTime() - first) / DAY_MS) + 1;
  await handle.raw.query('select auditline_ensure_partitions($1::date, $2)', [
    new Date(first).toISOString().slice(0, 10),
    days,
  ]);
}

export interface Backdated {
  organizationId: string;
  receivedAt: Date;
  occurredAt?: Date;
  idempotencyKey?: string;
  action?: string;
}

/**
 * Stores events as if the server had received them at `receivedAt`: validated like emitted ones and
 * inserted with the writer's statement shape (idempotency keys included). Only tests travel in time;
 * the server always stamps receivedAt itself. Returns the public event ids.
 */
export async function insertBackdated(db: Database, items: Backdated[]): Promise<string[]> {
  const rows = items.map((item) => {
    const input: EmitEventInput = {
      action: item.action ?? 'document.viewed',
      actor: { id: 'usr_backdated', name: 'Time Traveller' },
      targets: [{ id: 'doc_1', type: 'document' }],
      metadata: { receivedAt: item.receivedAt.toISOString() },
      occurredAt: item.occurredAt ?? item.receivedAt,
      idempotencyKey: item.idempotencyKey ?? null,
    };
    const prepared = prepareEvent(
      input,
      { id: uuidv7(item.receivedAt.getTime()), organizationId: fromPublicId('org', item.organizationId)! },
      item.receivedAt,
    );
    if (!prepared.ok) throw new Error(prepared.error.message);
    return { event: prepared.event, receivedAt: item.receivedAt };
  });
  const records = rows.map(({ event, receivedAt }) => recordOf(event, receivedAt));
  const keys = rows
    .filter(({ event }) => event.idempotencyKey !== null)
    .map(({ event, receivedAt }) => ({
      organization_id: event.organizationId,
      key: event.idempotencyKey,
      event_id: event.id,
      received_at: receivedAt.toISOString(),
      payload_hash: event.payloadHash,
    }));
  await db.transaction(async (tx) => {
    if (keys.length > 0) {
      await tx.execute(sql`
        insert into idempotency_keys (organization_id, key, event_id, received_at, payload_hash)
        select organization_id, key, event_id, received_at, payload_hash
        from jsonb_to_recordset(${JSON.stringify(keys)}::text::jsonb)
          as r(organization_id uuid, key text, event_id uuid, received_at timestamptz, payload_hash text)`);
    }
    await tx.execute(sql`
      insert into events (id, organization_id, action, actor_id, actor_type, actor_name, actor_metadata, targets,
        target_ids, target_types, ip_address, user_agent, location, request_id, session_id, metadata, search_text,
        occurred_at, received_at, version, idempotency_key)
      select id, organization_id, action, actor_id, actor_type, actor_name, actor_metadata, targets,
        target_ids, target_types, ip_address, user_agent, location, request_id, session_id, metadata, search_text,
        occurred_at, received_at, version, idempotency_key
      from jsonb_to_recordset(${JSON.stringify(records)}::text::jsonb) as r(id uuid, organization_id uuid, action text,
        actor_id text, actor_type text, actor_name text, actor_metadata jsonb, targets jsonb, target_ids text[],
        target_types text[], ip_address inet, user_agent text, location text, request_id text, session_id text,
        metadata jsonb, search_text text, occurred_at timestamptz, received_at timestamptz, version integer,
        idempotency_key text)`);
  });
  return rows.map(({ event }) => toPublicId('evt', event.id));
}

/**
 * Fills one UTC day with `count` events spread over the day and over `organizationIds`, generated
 * inside the database (fast enough for a million rows): what the benchmark purges.
 */
export async function fillDay(
  handle: DatabaseHandle,
  day: Date,
  organizationIds: string[],
  count: number,
): Promise<void> {
  await ensureDays(handle, day);
  const start = new Date(Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate()));
  const uuids = organizationIds.map((id) => fromPublicId('org', id)!);
  await handle.raw.query(
    `insert into events (id, organization_id, action, actor_id, actor_type, targets, target_ids, target_types,
       metadata, search_text, occurred_at, received_at)
     select gen_random_uuid(), ($3::uuid[])[1 + g % cardinality($3::uuid[])], 'document.viewed', 'usr_' || (g % 1000),
       'user', '[{"id":"doc_1","type":"document"}]', '{doc_1}', '{document}', '{}', 'document.viewed',
       $1::timestamptz + (g * (86400000.0 / $2)) * interval '1 millisecond',
       $1::timestamptz + (g * (86400000.0 / $2)) * interval '1 millisecond'
     from generate_series(0, $2 - 1) g`,
    [start.toISOString(), count, `{${uuids.join(',')}}`],
  );
}
