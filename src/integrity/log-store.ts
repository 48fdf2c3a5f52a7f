import { type SQL, sql } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import { rowsOf } from '../db/rows.ts';
import type { StreamPosition } from '../events/settled.ts';
import { fromHex, toHex } from './bytes.ts';
import type { PerfectSubtree } from './merkle.ts';

/**
 * Storage of the per-organization Merkle logs. Hashes cross the driver boundary as hex text
 * (`decode`/`encode` in SQL), timestamps as epoch milliseconds and big integers as numbers, so
 * postgres.js and PGlite read back the same values.
 */

export interface LeafRow {
  organizationId: string;
  leafIndex: number;
  eventId: string;
  receivedAt: Date;
  xid: string;
  leafHash: Uint8Array;
}

export interface NodeRow {
  organizationId: string;
  level: number;
  index: number;
  hash: Uint8Array;
}

export interface LogState {
  organizationId: string;
  treeSize: number;
  compactRange: unknown;
  sealedThrough: Date | null;
}

export interface StoredCheckpoint {
  organizationId: string;
  treeSize: number;
  rootHash: Uint8Array;
  signedNote: string;
  verifierKey: string;
  createdAt: Date;
}

/** A JSON array parameter that postgres.js and PGlite both pass as text (drizzle would spread a JS array). */
export const jsonParam = (value: unknown): SQL => sql`${JSON.stringify(value)}::text::jsonb`;

const uuidList = (uuids: readonly string[]): SQL =>
  sql`(select value::uuid from jsonb_array_elements_text(${jsonParam(uuids)}))`;

export async function readSealerCursor(db: Database): Promise<StreamPosition> {
  const [row] = rowsOf<{ xid: string; id: string }>(
    await db.execute(sql`select xid::text as xid, event_id::text as id from integrity_sealer where id = 1`),
  );
  if (!row) throw new Error('integrity_sealer has no row: run the migrations');
  return { xid: row.xid, id: row.id };
}

export async function writeSealerCursor(db: Database, position: StreamPosition): Promise<void> {
  await db.execute(
    sql`update integrity_sealer set xid = ${position.xid}::xid8, event_id = ${position.id}::uuid,
        updated_at = now() where id = 1`,
  );
}

export async function readLogStates(db: Database, organizationUuids: readonly string[]): Promise<LogState[]> {
  if (organizationUuids.length === 0) return [];
  const rows = rowsOf<{
    organization_id: string;
    tree_size: unknown;
    compact_range: unknown;
    sealed_through_ms: unknown;
  }>(
    await db.execute(sql`
      select organization_id::text, tree_size::float8 as tree_size, compact_range::text as compact_range,
        (extract(epoch from sealed_through) * 1000)::float8 as sealed_through_ms
      from merkle_logs where organization_id in ${uuidList(organizationUuids)}`),
  );
  return rows.map((row) => ({
    organizationId: row.organization_id,
    treeSize: Number(row.tree_size),
    compactRange: JSON.parse(String(row.compact_range)),
    sealedThrough: row.sealed_through_ms === null ? null : new Date(Number(row.sealed_through_ms)),
  }));
}

export async function writeLogStates(db: Database, states: readonly LogState[]): Promise<void> {
  if (states.length === 0) return;
  const records = states.map((state) => ({
    organization_id: state.organizationId,
    tree_size: state.treeSize,
    compact_range: state.compactRange,
    sealed_through: state.sealedThrough?.toISOString() ?? null,
  }));
  await db.execute(sql`
    insert into merkle_logs (organization_id, tree_size, compact_range, sealed_through, updated_at)
    select organization_id, tree_size, compact_range, sealed_through, now()
    from jsonb_to_recordset(${jsonParam(records)})
      as r(organization_id uuid, tree_size bigint, compact_range jsonb, sealed_through timestamptz)
    on conflict (organization_id) do update set tree_size = excluded.tree_size,
      compact_range = excluded.compact_range, sealed_through = excluded.sealed_through, updated_at = now()`);
}

/**
 * A PostgreSQL array literal for values that need no quoting (uuids, numbers, hex, ISO timestamps):
 * `unnest` over a few arrays parses about twice as fast as `jsonb_to_recordset` over objects.
 */
const arrayLiteral = (values: readonly (string | number)[]): string => `{${values.join(',')}}`;

export async function insertLeaves(db: Database, leaves: readonly LeafRow[]): Promise<void> {
  if (leaves.length === 0) return;
  await db.execute(sql`
    insert into merkle_leaves (organization_id, leaf_index, event_id, received_at, xid, leaf_hash)
    select o, i, e, r, x::xid8, decode(h, 'hex')
    from unnest(
      ${arrayLiteral(leaves.map((leaf) => leaf.organizationId))}::uuid[],
      ${arrayLiteral(leaves.map((leaf) => leaf.leafIndex))}::bigint[],
      ${arrayLiteral(leaves.map((leaf) => leaf.eventId))}::uuid[],
      ${arrayLiteral(leaves.map((leaf) => leaf.receivedAt.toISOString()))}::timestamptz[],
      ${arrayLiteral(leaves.map((leaf) => leaf.xid))}::text[],
      ${arrayLiteral(leaves.map((leaf) => toHex(leaf.leafHash)))}::text[]
    ) as t(o, i, e, r, x, h)`);
}

export async function insertNodes(db: Database, nodes: readonly NodeRow[]): Promise<void> {
  if (nodes.length === 0) return;
  await db.execute(sql`
    insert into merkle_nodes (organization_id, level, index, hash)
    select o, l, i, decode(h, 'hex')
    from unnest(
      ${arrayLiteral(nodes.map((node) => node.organizationId))}::uuid[],
      ${arrayLiteral(nodes.map((node) => node.level))}::smallint[],
      ${arrayLiteral(nodes.map((node) => node.index))}::bigint[],
      ${arrayLiteral(nodes.map((node) => toHex(node.hash)))}::text[]
    ) as t(o, l, i, h)`);
}

export interface SubtreeKey extends PerfectSubtree {
  organizationId: string;
}

export const subtreeKey = (key: SubtreeKey): string => `${key.organizationId}/${key.level}/${key.index}`;

/**
 * Roots of perfect subtrees, keyed by {@link subtreeKey}: level 0 from the leaves, higher levels from
 * the stored nodes. One query whatever the number asked for; absent ones are missing from the map.
 */
export async function readPerfectSubtrees(
  db: Database,
  keys: readonly SubtreeKey[],
): Promise<Map<string, Uint8Array>> {
  const found = new Map<string, Uint8Array>();
  if (keys.length === 0) return found;
  const unique = [...new Map(keys.map((key) => [subtreeKey(key), key])).values()];
  const records = unique.map((key) => ({ o: key.organizationId, l: key.level, i: key.index }));
  const rows = rowsOf<{ organization_id: string; level: number; index: unknown; hash: string }>(
    await db.execute(sql`
      with wanted as (select * from jsonb_to_recordset(${jsonParam(records)}) as r(o uuid, l smallint, i bigint))
      select l.organization_id::text, 0 as level, l.leaf_index::float8 as index, encode(l.leaf_hash, 'hex') as hash
      from wanted w join merkle_leaves l on l.organization_id = w.o and l.leaf_index = w.i
      where w.l = 0
      union all
      select n.organization_id::text, n.level, n.index::float8, encode(n.hash, 'hex')
      from wanted w join merkle_nodes n on n.organization_id = w.o and n.level = w.l and n.index = w.i
      where w.l > 0`),
  );
  for (const row of rows) {
    const key = { organizationId: row.organization_id, level: Number(row.level), index: Number(row.index) };
    found.set(subtreeKey(key), fromHex(row.hash));
  }
  return found;
}

export async function readLeavesByEventIds(
  db: Database,
  eventUuids: readonly string[],
): Promise<Map<string, { organizationId: string; leafIndex: number }>> {
  const found = new Map<string, { organizationId: string; leafIndex: number }>();
  if (eventUuids.length === 0) return found;
  const rows = rowsOf<{ event_id: string; organization_id: string; leaf_index: unknown }>(
    await db.execute(sql`
      select event_id::text, organization_id::text, leaf_index::float8 as leaf_index
      from merkle_leaves where event_id in ${uuidList(eventUuids)}`),
  );
  for (const row of rows) {
    found.set(row.event_id, { organizationId: row.organization_id, leafIndex: Number(row.leaf_index) });
  }
  return found;
}

type CheckpointRecord = {
  organization_id: string;
  tree_size: unknown;
  root_hash: string;
  signed_note: string;
  verifier_key: string;
  created_ms: unknown;
};

const checkpointColumns = sql`organization_id::text, tree_size::float8 as tree_size,
  encode(root_hash, 'hex') as root_hash, signed_note, verifier_key,
  (extract(epoch from created_at) * 1000)::float8 as created_ms`;

const toCheckpoint = (row: CheckpointRecord): StoredCheckpoint => ({
  organizationId: row.organization_id,
  treeSize: Number(row.tree_size),
  rootHash: fromHex(row.root_hash),
  signedNote: row.signed_note,
  verifierKey: row.verifier_key,
  createdAt: new Date(Number(row.created_ms)),
});

/** The newest checkpoint of each organization that has one (largest tree, then latest signed). */
export async function latestCheckpoints(
  db: Database,
  organizationUuids: readonly string[],
): Promise<Map<string, StoredCheckpoint>> {
  const found = new Map<string, StoredCheckpoint>();
  if (organizationUuids.length === 0) return found;
  const rows = rowsOf<CheckpointRecord>(
    await db.execute(sql`
      select ${checkpointColumns} from (select value::uuid as o from jsonb_array_elements_text(${jsonParam(organizationUuids)})) wanted
      cross join lateral (select * from checkpoints c where c.organization_id = wanted.o
        order by c.tree_size desc, c.id desc limit 1) c`),
  );
  for (const row of rows) found.set(row.organization_id, toCheckpoint(row));
  return found;
}

/** The newest checkpoint of exactly this tree size, if one was signed. */
export async function checkpointOfSize(
  db: Database,
  organizationUuid: string,
  treeSize: number,
): Promise<StoredCheckpoint | null> {
  const [row] = rowsOf<CheckpointRecord>(
    await db.execute(sql`
      select ${checkpointColumns} from checkpoints
      where organization_id = ${organizationUuid}::uuid and tree_size = ${treeSize}
      order by id desc limit 1`),
  );
  return row ? toCheckpoint(row) : null;
}

/** Every distinct signed (tree size, root) of an organization up to `maxSize`, smallest first. */
export async function checkpointRoots(
  db: Database,
  organizationUuid: string,
  maxSize: number,
): Promise<{ treeSize: number; rootHash: Uint8Array }[]> {
  const rows = rowsOf<{ tree_size: unknown; root_hash: string }>(
    await db.execute(sql`
      select distinct tree_size::float8 as tree_size, encode(root_hash, 'hex') as root_hash from checkpoints
      where organization_id = ${organizationUuid}::uuid and tree_size <= ${maxSize}
      order by 1, 2`),
  );
  return rows.map((row) => ({ treeSize: Number(row.tree_size), rootHash: fromHex(row.root_hash) }));
}

export async function insertCheckpoints(
  db: Database,
  rows: readonly Omit<StoredCheckpoint, 'createdAt'>[],
  createdAt: Date,
): Promise<void> {
  if (rows.length === 0) return;
  const records = rows.map((row) => ({
    organization_id: row.organizationId,
    tree_size: row.treeSize,
    root_hash: toHex(row.rootHash),
    signed_note: row.signedNote,
    verifier_key: row.verifierKey,
  }));
  await db.execute(sql`
    insert into checkpoints (organization_id, tree_size, root_hash, signed_note, verifier_key, created_at)
    select organization_id, tree_size, decode(root_hash, 'hex'), signed_note, verifier_key,
      ${createdAt.toISOString()}::timestamptz
    from jsonb_to_recordset(${jsonParam(records)}) as r(organization_id uuid, tree_size bigint, root_hash text,
      signed_note text, verifier_key text)`);
}
