import { sql } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import { rowsOf } from '../db/rows.ts';
import { insertCheckpoints, type StoredCheckpoint } from './log-store.ts';
import { CompactRange } from './merkle.ts';
import { checkpointOrigin } from './origin.ts';
import { signCheckpoint } from './signed-note.ts';
import type { SigningIdentity } from './signing-key.ts';

export interface CheckpointSettings {
  originPrefix: string;
  identity: SigningIdentity;
}

/**
 * Signs a checkpoint for every organization whose log grew since its latest one, or whose latest one
 * was signed by another key (after SIGNING_KEY changed). The note carries origin, tree size, root and
 * a `time <unix seconds>` line.
 */
export async function signCheckpoints(
  db: Database,
  settings: CheckpointSettings,
  now: Date = new Date(),
): Promise<{ signed: number }> {
  const due = rowsOf<{ organization_id: string; tree_size: unknown; compact_range: string }>(
    await db.execute(sql`
      select l.organization_id::text, l.tree_size::float8 as tree_size, l.compact_range::text as compact_range
      from merkle_logs l
      left join lateral (select c.tree_size, c.verifier_key from checkpoints c
        where c.organization_id = l.organization_id order by c.tree_size desc, c.id desc limit 1) c on true
      where c.tree_size is null or c.tree_size < l.tree_size
        or c.verifier_key <> ${settings.identity.verifierKey}`),
  );
  const time = `time ${Math.floor(now.getTime() / 1000)}`;
  const rows: Omit<StoredCheckpoint, 'createdAt'>[] = due.map((log) => {
    const range = CompactRange.fromJSON(JSON.parse(log.compact_range));
    const treeSize = Number(log.tree_size);
    if (range.size !== treeSize) {
      throw new Error(
        `merkle_logs of ${log.organization_id}: compact range size ${range.size} is not ${treeSize}`,
      );
    }
    const rootHash = range.root();
    const origin = checkpointOrigin(settings.originPrefix, log.organization_id);
    return {
      organizationId: log.organization_id,
      treeSize,
      rootHash,
      signedNote: signCheckpoint({ origin, treeSize, rootHash, extra: [time] }, settings.identity.signerKey),
      verifierKey: settings.identity.verifierKey,
    };
  });
  await insertCheckpoints(db, rows, now);
  return { signed: rows.length };
}
