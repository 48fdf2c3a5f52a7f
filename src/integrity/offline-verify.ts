import type { AuditEvent } from '../events/event.ts';
import { bytesEqual, fromBase64, toBase64 } from './bytes.ts';
import { eventFromPublicJson, eventLeafHash, eventPublicJson, type PublicEventJson } from './event-leaf.ts';
import { HASH_SIZE, verifyConsistency, verifyInclusion } from './merkle.ts';
import { type Checkpoint, verifyCheckpoint } from './signed-note.ts';

/**
 * The logic of `auditline verify`: checks an export (events with inclusion proofs, signed checkpoints and
 * optional consistency proofs) against a trusted verifier key, with no access to the service.
 *
 * All proof hashes in exports are standard padded base64 (RFC 4648 §4), the encoding checkpoints already
 * use for the root hash.
 */

export interface ExportedProof {
  leafIndex: number;
  treeSize: number;
  /** Inclusion proof (RFC 9162 PATH), leaf side first, base64. */
  hashes: string[];
}

/** One JSON-lines record of an export: the event's public JSON plus its inclusion proof. */
export interface ExportedEvent extends PublicEventJson {
  proof: ExportedProof;
}

export interface ExportedConsistencyProof {
  fromSize: number;
  toSize: number;
  /** Consistency proof (RFC 9162 PROOF(fromSize, D[toSize])), base64. */
  hashes: string[];
}

export interface OfflineVerifyInput {
  /** Exported records, typically `JSON.parse` of each line; validated here, so `unknown`. */
  events: readonly unknown[];
  /** Checkpoint notes, oldest first. */
  checkpoints: readonly string[];
  verifierKey: string;
  consistencyProofs?: readonly unknown[];
  /** Expected log origin; by default every checkpoint must share the first one's. */
  origin?: string;
  /** Fail unless every pair of successive checkpoints of different sizes is linked by a consistency proof. */
  requireConsistency?: boolean;
}

export interface VerificationFailure {
  kind: 'event' | 'checkpoint' | 'consistency';
  /** Position in `events`, `checkpoints` or `consistencyProofs`, matching `kind`. */
  index: number;
  eventId?: string;
  reason: string;
}

export interface OfflineVerifyResult {
  ok: boolean;
  /** How many elements of each kind verified before the first failure (all of them when `ok`). */
  checkedEvents: number;
  checkedCheckpoints: number;
  checkedConsistencyProofs: number;
  firstFailure?: VerificationFailure;
}

/** Builds the export record for one event; `hashes` come from {@link inclusionProof} and friends. */
export function exportedEvent(
  event: AuditEvent,
  proof: { leafIndex: number; treeSize: number; hashes: readonly Uint8Array[] },
): ExportedEvent {
  const { leafIndex, treeSize, hashes } = proof;
  return { ...eventPublicJson(event), proof: { leafIndex, treeSize, hashes: hashes.map(toBase64) } };
}

export function exportedConsistencyProof(
  fromSize: number,
  toSize: number,
  hashes: readonly Uint8Array[],
): ExportedConsistencyProof {
  return { fromSize, toSize, hashes: hashes.map(toBase64) };
}

/**
 * Checks, in this order, stopping at the first failure: every checkpoint's signature, origin and ordering
 * (sizes never shrink; equal sizes have equal roots); every supplied consistency proof against the
 * checkpoints of its two sizes; every event's inclusion proof against the checkpoint whose size is the
 * proof's tree size.
 */
export function offlineVerify(input: OfflineVerifyInput): OfflineVerifyResult {
  const result: OfflineVerifyResult = {
    ok: false,
    checkedEvents: 0,
    checkedCheckpoints: 0,
    checkedConsistencyProofs: 0,
  };
  const fail = (failure: VerificationFailure): OfflineVerifyResult => ({ ...result, firstFailure: failure });

  if (input.checkpoints.length === 0)
    return fail({ kind: 'checkpoint', index: 0, reason: 'no checkpoints supplied' });

  const verified: Checkpoint[] = [];
  const bySize = new Map<number, Checkpoint>();
  for (const [index, note] of input.checkpoints.entries()) {
    const previous = verified[index - 1];
    const origin = input.origin ?? previous?.origin;
    let checkpoint: Checkpoint;
    try {
      checkpoint = verifyCheckpoint(note, input.verifierKey, { origin });
    } catch (error) {
      return fail({ kind: 'checkpoint', index, reason: messageOf(error) });
    }
    const reason = previous && orderingProblem(previous, checkpoint);
    if (reason) return fail({ kind: 'checkpoint', index, reason });
    verified.push(checkpoint);
    bySize.set(checkpoint.treeSize, checkpoint);
    result.checkedCheckpoints++;
  }

  const linked = new Set<string>();
  for (const [index, json] of (input.consistencyProofs ?? []).entries()) {
    const reason = consistencyProblem(json, bySize, linked);
    if (reason) return fail({ kind: 'consistency', index, reason });
    result.checkedConsistencyProofs++;
  }

  if (input.requireConsistency) {
    for (let index = 1; index < verified.length; index++) {
      const from = verified[index - 1]!.treeSize;
      const to = verified[index]!.treeSize;
      if (from !== to && !linked.has(`${from}-${to}`)) {
        return fail({
          kind: 'checkpoint',
          index,
          reason: `no consistency proof from tree size ${from} to ${to}`,
        });
      }
    }
  }

  for (const [index, json] of input.events.entries()) {
    const eventId = idOf(json);
    const reason = eventProblem(json, bySize);
    if (reason) return fail({ kind: 'event', index, ...(eventId === undefined ? {} : { eventId }), reason });
    result.checkedEvents++;
  }

  return { ...result, ok: true };
}

function orderingProblem(previous: Checkpoint, current: Checkpoint): string | undefined {
  if (current.treeSize < previous.treeSize) {
    return `tree size ${current.treeSize} is smaller than the previous checkpoint's ${previous.treeSize}`;
  }
  if (current.treeSize === previous.treeSize && !bytesEqual(current.rootHash, previous.rootHash)) {
    return `two different roots signed for tree size ${current.treeSize}`;
  }
  return undefined;
}

function consistencyProblem(json: unknown, bySize: Map<number, Checkpoint>, linked: Set<string>) {
  if (!isObject(json)) return 'consistency proof is not an object';
  const { fromSize, toSize } = json;
  if (!isTreeSize(fromSize) || !isTreeSize(toSize))
    return 'fromSize and toSize must be non-negative integers';
  const hashes = decodeHashes(json.hashes);
  if (typeof hashes === 'string') return hashes;
  const from = bySize.get(fromSize);
  const to = bySize.get(toSize);
  if (!from) return `no checkpoint of tree size ${fromSize}`;
  if (!to) return `no checkpoint of tree size ${toSize}`;
  if (!verifyConsistency(fromSize, toSize, from.rootHash, to.rootHash, hashes)) {
    return `tree size ${toSize} is not shown to extend tree size ${fromSize}: the proof does not match their roots`;
  }
  linked.add(`${fromSize}-${toSize}`);
  return undefined;
}

function eventProblem(json: unknown, bySize: Map<number, Checkpoint>): string | undefined {
  if (!isObject(json)) return 'record is not an object';
  const { proof, ...publicJson } = json;
  if (!isObject(proof)) return 'record has no proof object';
  const { leafIndex, treeSize } = proof;
  if (!isTreeSize(leafIndex) || !isTreeSize(treeSize) || leafIndex >= treeSize) {
    return 'proof needs integers 0 <= leafIndex < treeSize';
  }
  const hashes = decodeHashes(proof.hashes);
  if (typeof hashes === 'string') return hashes;
  const checkpoint = bySize.get(treeSize);
  if (!checkpoint) return `no checkpoint of tree size ${treeSize}`;
  let leaf: Uint8Array;
  try {
    leaf = eventLeafHash(eventFromPublicJson(publicJson));
  } catch (error) {
    return messageOf(error);
  }
  if (!verifyInclusion(leaf, leafIndex, treeSize, hashes, checkpoint.rootHash)) {
    return `event is not leaf ${leafIndex} of the tree of size ${treeSize}: altered, or the proof is wrong`;
  }
  return undefined;
}

/** The decoded hashes, or a reason they could not be decoded. */
function decodeHashes(json: unknown): Uint8Array[] | string {
  if (!Array.isArray(json)) return 'proof hashes must be an array of base64 strings';
  const hashes: Uint8Array[] = [];
  for (const [i, text] of json.entries()) {
    let hash: Uint8Array | undefined;
    try {
      hash = typeof text === 'string' ? fromBase64(text) : undefined;
    } catch {
      hash = undefined;
    }
    if (hash?.length !== HASH_SIZE) return `proof hash ${i} is not a base64 ${HASH_SIZE}-byte hash`;
    hashes.push(hash);
  }
  return hashes;
}

function idOf(json: unknown): string | undefined {
  return isObject(json) && typeof json.id === 'string' ? json.id : undefined;
}

function isObject(json: unknown): json is Record<string, unknown> {
  return typeof json === 'object' && json !== null && !Array.isArray(json);
}

function isTreeSize(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
