import { sql } from 'drizzle-orm';
import { boolean, check, index, integer, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { organizations } from '../db/tables.ts';

/** An organization's own window; without a row the server's DEFAULT_RETENTION_DAYS applies. */
export const retentionPolicies = pgTable(
  'retention_policies',
  {
    organizationId: uuid('organization_id')
      .primaryKey()
      .references(() => organizations.id),
    retentionDays: integer('retention_days').notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [check('retention_policies_days_range', sql`${t.retentionDays} between 1 and 3650`)],
);

/**
 * A hold keeps an organization's events whose occurred_at lies in [from_at, to_at) (null: unbounded)
 * from being purged until it is released. Rows are never deleted; releasing sets released_at once.
 */
export const legalHolds = pgTable(
  'legal_holds',
  {
    id: uuid('id').primaryKey(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id),
    reason: text('reason').notNull(),
    fromAt: timestamp('from_at', { withTimezone: true, precision: 3 }),
    toAt: timestamp('to_at', { withTimezone: true, precision: 3 }),
    placedAt: timestamp('placed_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    placedBy: text('placed_by').notNull(),
    releasedAt: timestamp('released_at', { withTimezone: true, precision: 3 }),
    releasedBy: text('released_by'),
  },
  (t) => [
    index('legal_holds_organization_idx').on(t.organizationId, t.placedAt),
    check(
      'legal_holds_range_order',
      sql`${t.fromAt} is null or ${t.toAt} is null or ${t.fromAt} < ${t.toAt}`,
    ),
  ],
);

/** One row per purge (scheduled, manual or dry run); counts are filled in as batches commit. */
export const purgeRuns = pgTable(
  'purge_runs',
  {
    id: uuid('id').primaryKey(),
    /** The clock the purge ran with: retention windows end relative to it. */
    asOf: timestamp('as_of', { withTimezone: true, precision: 3 }).notNull(),
    startedAt: timestamp('started_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    finishedAt: timestamp('finished_at', { withTimezone: true, precision: 3 }),
    dryRun: boolean('dry_run').notNull(),
    /** 'schedule', 'cli' or 'api'. */
    trigger: text('trigger').notNull(),
    /** Organization uuid -> events removed (or, for a dry run, that would be). */
    deletedCounts: jsonb('deleted_counts').notNull().default(sql`'{}'::jsonb`),
    droppedPartitions: text('dropped_partitions').array().notNull().default(sql`'{}'::text[]`),
  },
  (t) => [index('purge_runs_finished_idx').on(t.dryRun, t.finishedAt)],
);

export const retentionSchema = { retentionPolicies, legalHolds, purgeRuns };
