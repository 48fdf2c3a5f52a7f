import { auditExport } from './export-audit.ts';
import { offlineVerify } from './offline-verify.ts';
import { parseCheckpoint } from './signed-note.ts';

/**
 * `auditline verify` without the files: an export's JSON lines, checkpoint notes and consistency
 * proofs checked against a public key, stopping at the first problem, which it names.
 */

export interface ExportVerificationInput {
  /** The export, one JSON record per line; blank lines are skipped. */
  lines: readonly string[];
  /** Checkpoint notes in any order, each with a name to report it by (its file). */
  checkpoints: readonly { name: string; note: string }[];
  verifierKey: string;
  consistencyProofs?: readonly unknown[];
  /** The export is filtered: skip the completeness check. */
  partial?: boolean;
  /** Skip events exported without a proof (not checkpointed yet when exported) instead of failing. */
  allowUnproven?: boolean;
}

export interface ExportVerification {
  ok: boolean;
  eventsVerified: number;
  unprovenSkipped: number;
  checkpointsVerified: number;
  consistencyProofsVerified: number;
  /** Leaves absent from the export in a way the retention purges it records explain. */
  purgedLeaves: number;
  origin: string | null;
  treeSizes: number[];
  /** What failed ("line 17 (evt_…)", "checkpoint cp.txt", "leaf 5", …) and why. */
  failure?: { subject: string; reason: string };
}

export function verifyExport(input: ExportVerificationInput): ExportVerification {
  const result: ExportVerification = {
    ok: false,
    eventsVerified: 0,
    unprovenSkipped: 0,
    checkpointsVerified: 0,
    consistencyProofsVerified: 0,
    purgedLeaves: 0,
    origin: null,
    treeSizes: [],
  };
  const fail = (subject: string, reason: string): ExportVerification => ({
    ...result,
    failure: { subject, reason },
  });

  const records: unknown[] = [];
  const lineOf: number[] = [];
  for (const [i, line] of input.lines.entries()) {
    if (line.trim() === '') continue;
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch {
      return fail(`line ${i + 1}`, 'not a JSON record');
    }
    const proof = (record as { proof?: unknown } | null)?.proof;
    if (proof === null) {
      if (input.allowUnproven) {
        result.unprovenSkipped++;
        continue;
      }
      return fail(
        subjectOf(i + 1, record),
        'the event has no inclusion proof: either no checkpoint covered it yet when it was exported ' +
          '(export again later, or pass --allow-unproven), or it was never sealed: stored outside the service',
      );
    }
    records.push(record);
    lineOf.push(i + 1);
  }

  const checkpoints = [...input.checkpoints].sort((a, b) => sizeOf(a.note) - sizeOf(b.note));
  const verified = offlineVerify({
    events: records,
    checkpoints: checkpoints.map((checkpoint) => checkpoint.note),
    verifierKey: input.verifierKey,
    consistencyProofs: input.consistencyProofs ?? [],
    requireConsistency: true,
  });
  result.eventsVerified = verified.checkedEvents;
  result.checkpointsVerified = verified.checkedCheckpoints;
  result.consistencyProofsVerified = verified.checkedConsistencyProofs;
  if (verified.checkedCheckpoints > 0) {
    const first = parseCheckpoint(checkpoints[0]!.note);
    result.origin = first.origin;
    result.treeSizes = checkpoints.slice(0, verified.checkedCheckpoints).map((c) => sizeOf(c.note));
  }
  const failure = verified.firstFailure;
  if (failure) {
    const subject =
      failure.kind === 'event'
        ? subjectOf(lineOf[failure.index]!, records[failure.index])
        : failure.kind === 'checkpoint'
          ? `checkpoint ${checkpoints[failure.index]?.name ?? failure.index + 1}`
          : `consistency proof ${failure.index + 1}`;
    return fail(subject, failure.reason);
  }

  const audit = auditExport(records, { partial: input.partial ?? false });
  if (audit.firstFailure) {
    const { kind, index, leafIndex, reason } = audit.firstFailure;
    return fail(kind === 'event' ? subjectOf(lineOf[index!]!, records[index!]) : `leaf ${leafIndex}`, reason);
  }
  return { ...result, ok: true, purgedLeaves: audit.purgedLeaves };
}

function subjectOf(line: number, record: unknown): string {
  const id = (record as { id?: unknown } | null)?.id;
  const leaf = (record as { proof?: { leafIndex?: unknown } } | null)?.proof?.leafIndex;
  const details = [
    typeof id === 'string' ? id : null,
    typeof leaf === 'number' ? `leaf ${leaf}` : null,
  ].filter(Boolean);
  return `line ${line}${details.length > 0 ? ` (${details.join(', ')})` : ''}`;
}

/** A checkpoint's tree size for ordering; unparsable ones sort first so verification reports them. */
function sizeOf(note: string): number {
  try {
    return parseCheckpoint(note).treeSize;
  } catch {
    return -1;
  }
}
