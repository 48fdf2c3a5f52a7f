import { sql } from 'drizzle-orm';
import {
  bigint,
  check,
  customType,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  smallint,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { organizations } from '../db/tables.ts';

/** PostgreSQL `xid8`, read back as a decimal string (the stream cursor's first half). */
const xid8 = customType<{ data: string; driverData: string }>({ dataType: () => 'xid8' });

const timestamptz = (name: string) => timestamp(name, { withTimezone: true, precision: 3 });

/**
 * A continuous log stream to a customer's SIEM or bucket. The cursor is a stream position
 * (`xid`, `id`) that moves only after the receiver acknowledged everything up to it.
 */
export const destinations = pgTable(
  'export_destinations',
  {
    id: uuid('id').primaryKey(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id),
    name: text('name').notNull(),
    /** webhook, splunk-hec, syslog, s3, sentinel, datadog */
    type: text('type').notNull(),
    url: text('url').notNull(),
    /** An export format: jsonl, csv, cef, leef, ocsf, ecs. */
    format: text('format').notNull(),
    actions: text('actions').array().notNull().default(sql`'{}'::text[]`),
    query: text('query'),
    /** Transport settings that are not secret (Splunk index, S3 region, a private CA, …). */
    options: jsonb('options').notNull().default(sql`'{}'::jsonb`),
    /** Write-only credentials, sealed with DESTINATION_SECRETS_KEY when it is set. */
    sealedSecret: text('sealed_secret'),
    /** ACTIVE, PAUSED or FAILING. */
    status: text('status').notNull().default('ACTIVE'),
    cursorXid: xid8('cursor_xid').notNull(),
    cursorId: uuid('cursor_id').notNull(),
    /** End of a batch that failed after it may have reached the receiver: resent as is, counted as duplicates. */
    resendThroughXid: xid8('resend_through_xid'),
    resendThroughId: uuid('resend_through_id'),
    /** The delivery worker delivering it now; others leave it alone until the lease expires. */
    leaseOwner: text('lease_owner'),
    leaseExpiresAt: timestamptz('lease_expires_at'),
    /** Consecutive failed attempts since the last success. */
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: timestamptz('next_attempt_at'),
    lastSuccessAt: timestamptz('last_success_at'),
    lastError: text('last_error'),
    lastErrorAt: timestamptz('last_error_at'),
    deliveredCount: bigint('delivered_count', { mode: 'number' }).notNull().default(0),
    duplicatesCount: bigint('duplicates_count', { mode: 'number' }).notNull().default(0),
    createdAt: timestamptz('created_at').notNull().defaultNow(),
    updatedAt: timestamptz('updated_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('export_destinations_org_name_idx').on(t.organizationId, t.name),
    index('export_destinations_status_idx').on(t.status, t.nextAttemptAt),
  ],
);

/**
 * An organization's own action mapping rules, checked in `position` order before the defaults
 * (`DEFAULT_ACTION_RULES`); a null column leaves that part of the default classification alone.
 * The list is replaced as a whole, so positions run 0..n-1.
 */
export const actionMappingRules = pgTable(
  'action_mapping_rules',
  {
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id),
    position: smallint('position').notNull(),
    pattern: text('pattern').notNull(),
    category: text('category'),
    /** ECS event.type values. */
    types: text('types').array(),
    outcome: text('outcome'),
    severity: smallint('severity'),
    ocsfClassUid: integer('ocsf_class_uid'),
    ocsfActivityId: smallint('ocsf_activity_id'),
    createdAt: timestamptz('created_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ name: 'action_mapping_rules_pkey', columns: [t.organizationId, t.position] }),
    check('action_mapping_rules_severity_range', sql`${t.severity} between 0 and 10`),
    check('action_mapping_rules_ocsf_pair', sql`(${t.ocsfClassUid} is null) = (${t.ocsfActivityId} is null)`),
  ],
);

export const exportSchema = { destinations, actionMappingRules };
