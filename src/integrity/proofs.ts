import type { Database } from '../db/client.ts';
import { badInput } from '../errors.ts';
import { fromPublicId } from '../ids.ts';
import { toBase64 } from './bytes.ts';
import {
  latestCheckpoints,
  readLeavesByEventIds,
  readLogStates,
  readPerfectSubtrees,
  type SubtreeKey,
  subtreeKey,
} from './log-store.ts';
import {
  consistencyProofRanges,
  inclusionProofRanges,
  type LeafRange,
  perfectSubtreesOf,
  subtreeRootFromPerfect,
} from './merkle.ts';
import type { ExportedConsistencyProof, ExportedProof } from './offline-verify.ts';

/**
 * Inclusion and consistency proofs read from storage: each proof is O(log n) stored subtree roots,
 * and a whole batch of proofs is two queries (leaves, then subtree roots) whatever its size.
 */

interface ProofRequest {
  organizationId: string;
  leafIndex: number;
  treeSize: number;
}

/**
 * The inclusion proof of each event (public `evt_…` ids or uuids) against its organization's latest
 * checkpoint, in the order asked, as exports carry them (base64 hashes); null for an event that is not
 * sealed yet or not covered by a checkpoint yet. This is the batch function behind `Event.proof`.
 * `treeSizes` (organization uuid → size) pins the checkpoint instead, see {@link createProofReader}.
 */
export async function proofsForEvents(
  db: Database,
  eventIds: readonly string[],
  options: { treeSizes?: ReadonlyMap<string, number | null> } = {},
): Promise<(ExportedProof | null)[]> {
  return proveAgainst(db, eventIds, new Map(options.treeSizes ?? []));
}

/**
 * Proofs for one export: the first time an organization comes up, its latest checkpoint is pinned,
 * and every later page is proven against that same checkpoint, so one checkpoint file verifies it all.
 */
export function createProofReader(db: Database) {
  const pinned = new Map<string, number | null>();
  return {
    forEvents: (eventIds: readonly string[]) => proveAgainst(db, eventIds, pinned),
    /** Organization uuid → the checkpoint size its proofs refer to (null: none existed yet). */
    pinnedTreeSizes: (): ReadonlyMap<string, number | null> => pinned,
  };
}

/** Proofs against `sizes` (organization uuid → tree size); organizations missing from it get their latest checkpoint, recorded in it. */
async function proveAgainst(
  db: Database,
  eventIds: readonly string[],
  sizes: Map<string, number | null>,
): Promise<(ExportedProof | null)[]> {
  const uuids = eventIds.map((id) => fromPublicId('evt', id));
  const leaves = await readLeavesByEventIds(
    db,
    uuids.filter((uuid): uuid is string => uuid !== null),
  );
  const unpinned = [...new Set([...leaves.values()].map((leaf) => leaf.organizationId))].filter(
    (organization) => !sizes.has(organization),
  );
  const latest = await latestCheckpoints(db, unpinned);
  for (const organization of unpinned) sizes.set(organization, latest.get(organization)?.treeSize ?? null);

  const requests = uuids.map((uuid): ProofRequest | null => {
    const leaf = uuid === null ? undefined : leaves.get(uuid);
    const treeSize = leaf ? sizes.get(leaf.organizationId) : null;
    if (!leaf || treeSize === undefined || treeSize === null || leaf.leafIndex >= treeSize) return null;
    return { organizationId: leaf.organizationId, leafIndex: leaf.leafIndex, treeSize };
  });
  const hashes = await readRanges(
    db,
    requests.map((request) =>
      request
        ? {
            organizationId: request.organizationId,
            ranges: inclusionProofRanges(request.leafIndex, request.treeSize),
          }
        : null,
    ),
  );
  return requests.map((request, i) =>
    request
      ? { leafIndex: request.leafIndex, treeSize: request.treeSize, hashes: hashes[i]!.map(toBase64) }
      : null,
  );
}

/** PROOF(fromSize, D[toSize]) of an organization's log; sizes must not exceed what has been sealed. */
export async function consistencyProofFor(
  db: Database,
  organizationUuid: string,
  fromSize: number,
  toSize: number,
): Promise<ExportedConsistencyProof> {
  if (!Number.isSafeInteger(fromSize) || fromSize < 0) {
    throw badInput(`fromSize must be a non-negative integer; got ${fromSize}`, ['fromSize']);
  }
  if (!Number.isSafeInteger(toSize) || toSize < fromSize) {
    throw badInput(`toSize must be an integer no smaller than fromSize (${fromSize}); got ${toSize}`, [
      'toSize',
    ]);
  }
  const [state] = await readLogStates(db, [organizationUuid]);
  const sealed = state?.treeSize ?? 0;
  if (toSize > sealed) {
    throw badInput(`toSize ${toSize} exceeds the organization's log, which holds ${sealed} leaves`, [
      'toSize',
    ]);
  }
  const [hashes] = await readRanges(db, [
    { organizationId: organizationUuid, ranges: consistencyProofRanges(fromSize, toSize) },
  ]);
  return { fromSize, toSize, hashes: hashes!.map(toBase64) };
}

/** The Merkle tree hash of every range, per request, from stored perfect subtrees in one query. */
async function readRanges(
  db: Database,
  requests: readonly ({ organizationId: string; ranges: LeafRange[] } | null)[],
): Promise<Uint8Array[][]> {
  const keys: SubtreeKey[] = [];
  for (const request of requests) {
    for (const range of request?.ranges ?? []) {
      for (const subtree of perfectSubtreesOf(range))
        keys.push({ organizationId: request!.organizationId, ...subtree });
    }
  }
  const stored = await readPerfectSubtrees(db, keys);
  return requests.map((request) =>
    (request?.ranges ?? []).map((range) =>
      subtreeRootFromPerfect(range, (subtree) => {
        const hash = stored.get(subtreeKey({ organizationId: request!.organizationId, ...subtree }));
        if (!hash) {
          throw new Error(
            `integrity log of ${request!.organizationId} lacks subtree level ${subtree.level} index ${subtree.index}`,
          );
        }
        return hash;
      }),
    ),
  );
}
