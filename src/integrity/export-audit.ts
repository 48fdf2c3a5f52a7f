import { RECEIVED_AT_TOLERANCE_MS, ReceivedOrder } from './received-order.ts';

/**
 * What {@link offlineVerify} cannot see by checking records one by one: whether an export of a
 * whole log is complete and in order. Runs on records offlineVerify accepted.
 *
 * - No leaf appears twice.
 * - Along leaf order, receivedAt never goes back further than the tolerance (an event written into
 *   the past, after the fact, is sealed late and shows up out of order).
 * - Unless the export is partial (filtered), every leaf below the largest tree size its proofs refer
 *   to is present, or its absence is consistent with a retention purge recorded in the export
 *   itself (`auditline.events_purged` events state their cutoff): missing leaves next to events
 *   received after that cutoff cannot have been purged.
 */

export interface ExportAuditFailure {
  kind: 'event' | 'missing';
  /** Position of the record in the export (for `event`). */
  index?: number;
  leafIndex: number;
  eventId?: string;
  reason: string;
}

export interface ExportAuditResult {
  ok: boolean;
  /** Leaves absent from the export in a way retention purges explain. */
  purgedLeaves: number;
  firstFailure?: ExportAuditFailure;
}

interface Placed {
  index: number;
  leafIndex: number;
  treeSize: number;
  id: string;
  receivedAt: Date;
}

export const PURGE_ACTION = 'auditline.events_purged';

export function auditExport(
  records: readonly unknown[],
  options: { partial?: boolean; toleranceMs?: number } = {},
): ExportAuditResult {
  const toleranceMs = options.toleranceMs ?? RECEIVED_AT_TOLERANCE_MS;
  const placed: Placed[] = [];
  let purgeCutoff = Number.NEGATIVE_INFINITY;
  for (const [index, record] of records.entries()) {
    const json = record as {
      id: string;
      action: string;
      receivedAt: string;
      metadata: Record<string, unknown>;
      proof: { leafIndex: number; treeSize: number };
    };
    placed.push({
      index,
      leafIndex: json.proof.leafIndex,
      treeSize: json.proof.treeSize,
      id: json.id,
      receivedAt: new Date(json.receivedAt),
    });
    if (json.action === PURGE_ACTION && typeof json.metadata.cutoff === 'string') {
      const cutoff = Date.parse(json.metadata.cutoff);
      if (Number.isFinite(cutoff)) purgeCutoff = Math.max(purgeCutoff, cutoff);
    }
  }
  placed.sort((a, b) => a.leafIndex - b.leafIndex || a.index - b.index);

  const order = new ReceivedOrder(toleranceMs);
  for (const [i, record] of placed.entries()) {
    const previous = placed[i - 1];
    if (previous && previous.leafIndex === record.leafIndex) {
      return failure({
        kind: 'event',
        index: record.index,
        leafIndex: record.leafIndex,
        eventId: record.id,
        reason: `leaf ${record.leafIndex} appears twice (also ${previous.id})`,
      });
    }
    const backdated = order.check(record.leafIndex, record.receivedAt);
    if (backdated) {
      return failure({
        kind: 'event',
        index: record.index,
        leafIndex: record.leafIndex,
        eventId: record.id,
        reason: backdated,
      });
    }
  }
  if (options.partial) return { ok: true, purgedLeaves: 0 };

  const treeSize = Math.max(0, ...placed.map((record) => record.treeSize));
  let purgedLeaves = 0;
  let expected = 0;
  let previous: Placed | undefined;
  for (const record of [...placed, undefined]) {
    const next = record ? record.leafIndex : treeSize;
    if (next > expected) {
      // Missing leaves were received no earlier than the record before them, give or take the tolerance.
      const earliestPossible = previous
        ? previous.receivedAt.getTime() - toleranceMs
        : Number.NEGATIVE_INFINITY;
      if (!(purgeCutoff > earliestPossible)) {
        const range = next - expected === 1 ? `leaf ${expected} is` : `leaves ${expected}..${next - 1} are`;
        return failure({
          kind: 'missing',
          leafIndex: expected,
          reason:
            `${range} missing from the export` +
            (previous ? ` (after ${previous.id}, received ${previous.receivedAt.toISOString()})` : '') +
            (Number.isFinite(purgeCutoff)
              ? `, and the latest retention purge in it only removed events received before ${new Date(purgeCutoff).toISOString()}`
              : ', and it records no retention purge') +
            ': deleted, or the export is filtered (then pass --partial)',
        });
      }
      purgedLeaves += next - expected;
    }
    if (!record) break;
    expected = record.leafIndex + 1;
    previous = record;
  }
  return { ok: true, purgedLeaves };
}

const failure = (firstFailure: ExportAuditFailure): ExportAuditResult => ({
  ok: false,
  purgedLeaves: 0,
  firstFailure,
});
