import { sql } from 'drizzle-orm';
import {
  customType,
  index,
  inet,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uuid,
} from 'drizzle-orm/pg-core';

/** PostgreSQL `xid8`: a 64-bit transaction id, read back as a decimal string. */
const xid8 = customType<{ data: string; driverData: string }>({ dataType: () => 'xid8' });

export const organizations = pgTable('organizations', {
  id: uuid('id').primaryKey(),
  name: text('name').notNull().unique(),
  createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
});

export const apiKeys = pgTable(
  'api_keys',
  {
    id: uuid('id').primaryKey(),
    /** Null for a platform key, which acts across organizations and must carry `admin`. */
    organizationId: uuid('organization_id').references(() => organizations.id),
    name: text('name').notNull(),
    secretHash: text('secret_hash').notNull(),
    scopes: text('scopes').array().notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    revokedAt: timestamp('revoked_at', { withTimezone: true, precision: 3 }),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true, precision: 3 }),
  },
  (t) => [index('api_keys_organization_idx').on(t.organizationId)],
);

/**
 * Range-partitioned by `received_at` (see the hand-edited migration): the primary key must include
 * the partition key, and uniqueness of idempotency keys lives in `idempotency_keys` for that reason.
 * Every filter index ends in `occurred_at DESC, id DESC` so keyset pages seek instead of sorting.
 */
export const events = pgTable(
  'events',
  {
    id: uuid('id').notNull(),
    organizationId: uuid('organization_id').notNull(),
    action: text('action').notNull(),
    actorId: text('actor_id').notNull(),
    actorType: text('actor_type').notNull(),
    actorName: text('actor_name'),
    actorMetadata: jsonb('actor_metadata'),
    targets: jsonb('targets').notNull(),
    targetIds: text('target_ids').array().notNull(),
    targetTypes: text('target_types').array().notNull(),
    ipAddress: inet('ip_address'),
    userAgent: text('user_agent'),
    location: text('location'),
    requestId: text('request_id'),
    sessionId: text('session_id'),
    metadata: jsonb('metadata').notNull(),
    /** Lower-cased text the free-text search matches with a trigram index. */
    searchText: text('search_text').notNull(),
    occurredAt: timestamp('occurred_at', { withTimezone: true, precision: 3 }).notNull(),
    receivedAt: timestamp('received_at', { withTimezone: true, precision: 3 }).notNull(),
    version: integer('version'),
    idempotencyKey: text('idempotency_key'),
    /** Writing transaction's id: the live stream reads rows only once every older transaction settled. */
    xid: xid8('xid').notNull().default(sql`pg_current_xact_id()`),
  },
  (t) => [
    primaryKey({ name: 'events_pkey', columns: [t.id, t.receivedAt] }),
    index('events_org_time_idx').on(
      t.organizationId,
      t.occurredAt.desc().nullsFirst(),
      t.id.desc().nullsFirst(),
    ),
    index('events_org_action_time_idx').on(
      t.organizationId,
      t.action,
      t.occurredAt.desc().nullsFirst(),
      t.id.desc().nullsFirst(),
    ),
    index('events_org_actor_time_idx').on(
      t.organizationId,
      t.actorId,
      t.occurredAt.desc().nullsFirst(),
      t.id.desc().nullsFirst(),
    ),
    index('events_org_ip_time_idx').on(
      t.organizationId,
      t.ipAddress,
      t.occurredAt.desc().nullsFirst(),
      t.id.desc().nullsFirst(),
    ),
    index('events_target_ids_idx').using('gin', t.targetIds),
    index('events_metadata_idx').using('gin', t.metadata.op('jsonb_path_ops')),
    index('events_search_idx').using('gin', t.searchText.op('gin_trgm_ops')),
    index('events_id_idx').on(t.id),
    index('events_org_xid_idx').on(t.organizationId, t.xid, t.id),
    index('events_xid_idx').on(t.xid, t.id),
  ],
);

export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    organizationId: uuid('organization_id').notNull(),
    key: text('key').notNull(),
    eventId: uuid('event_id').notNull(),
    receivedAt: timestamp('received_at', { withTimezone: true, precision: 3 }).notNull(),
    payloadHash: text('payload_hash').notNull(),
  },
  (t) => [primaryKey({ name: 'idempotency_keys_pkey', columns: [t.organizationId, t.key] })],
);

export const schema = { organizations, apiKeys, events, idempotencyKeys };
