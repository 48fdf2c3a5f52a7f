import { sql } from 'drizzle-orm';
import {
  bigint,
  check,
  customType,
  index,
  jsonb,
  pgTable,
  primaryKey,
  smallint,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

/** PostgreSQL `xid8`, read back as a decimal string (a stream position's first half). */
const xid8 = customType<{ data: string; driverData: string }>({ dataType: () => 'xid8' });

/** Hashes are written and read as hex through raw SQL (`decode`/`encode`), so drivers' byte types never matter. */
const bytea = customType<{ data: Uint8Array; driverData: Uint8Array }>({ dataType: () => 'bytea' });

const timestamptz = (name: string) => timestamp(name, { withTimezone: true, precision: 3 });
const count = (name: string) => bigint(name, { mode: 'number' });

/** Each organization's Merkle log: its size and the compact range (frontier) new leaves are appended to. */
export const merkleLogs = pgTable('merkle_logs', {
  /** No foreign key: the sealer must be able to seal any stored event, even one with an unknown organization. */
  organizationId: uuid('organization_id').primaryKey(),
  treeSize: count('tree_size').notNull(),
  /** `CompactRangeJson`: the roots of the perfect subtrees covering [0, tree_size). */
  compactRange: jsonb('compact_range').notNull(),
  /** received_at of the newest sealed event. */
  sealedThrough: timestamptz('sealed_through'),
  updatedAt: timestamptz('updated_at').notNull().defaultNow(),
});

/**
 * One row per sealed event, never updated or deleted (triggers), not even when retention purges the
 * event: proofs for the remaining events and every later checkpoint still need its hash.
 */
export const merkleLeaves = pgTable(
  'merkle_leaves',
  {
    organizationId: uuid('organization_id').notNull(),
    leafIndex: count('leaf_index').notNull(),
    eventId: uuid('event_id').notNull(),
    /** The event's received_at and stream position when it was sealed, to tell purges and reorderings apart. */
    receivedAt: timestamptz('received_at').notNull(),
    xid: xid8('xid').notNull(),
    leafHash: bytea('leaf_hash').notNull(),
    sealedAt: timestamptz('sealed_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ name: 'merkle_leaves_pkey', columns: [t.organizationId, t.leafIndex] }),
    uniqueIndex('merkle_leaves_event_idx').on(t.eventId),
  ],
);

/**
 * Roots of complete perfect subtrees above the leaves (level >= 1; level 0 is merkle_leaves): any proof
 * is then O(log n) point reads. Append-only like the leaves.
 */
export const merkleNodes = pgTable(
  'merkle_nodes',
  {
    organizationId: uuid('organization_id').notNull(),
    level: smallint('level').notNull(),
    index: count('index').notNull(),
    hash: bytea('hash').notNull(),
  },
  (t) => [primaryKey({ name: 'merkle_nodes_pkey', columns: [t.organizationId, t.level, t.index] })],
);

/** Signed tree heads (C2SP checkpoints), append-only. */
export const checkpoints = pgTable(
  'checkpoints',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    organizationId: uuid('organization_id').notNull(),
    treeSize: count('tree_size').notNull(),
    rootHash: bytea('root_hash').notNull(),
    signedNote: text('signed_note').notNull(),
    /** The verifier key (`name+id+key`) that signed it, so a rotated key is noticed. */
    verifierKey: text('verifier_key').notNull(),
    createdAt: timestamptz('created_at').notNull().defaultNow(),
  },
  (t) => [index('checkpoints_org_size_idx').on(t.organizationId, t.treeSize.desc(), t.id.desc())],
);

/** The sealer's place in stream order, one row for the whole database. */
export const sealerCursor = pgTable(
  'integrity_sealer',
  {
    id: smallint('id').primaryKey().default(1),
    xid: xid8('xid').notNull(),
    eventId: uuid('event_id').notNull(),
    updatedAt: timestamptz('updated_at').notNull().defaultNow(),
  },
  (t) => [check('integrity_sealer_single_row', sql`${t.id} = 1`)],
);

/** A signing key generated on first start when SIGNING_KEY is not set (development only). */
export const generatedSigningKey = pgTable(
  'integrity_signing_key',
  {
    id: smallint('id').primaryKey().default(1),
    signerKey: text('signer_key').notNull(),
    verifierKey: text('verifier_key').notNull(),
    createdAt: timestamptz('created_at').notNull().defaultNow(),
  },
  (t) => [check('integrity_signing_key_single_row', sql`${t.id} = 1`)],
);

export const integritySchema = {
  merkleLogs,
  merkleLeaves,
  merkleNodes,
  checkpoints,
  sealerCursor,
  generatedSigningKey,
};
