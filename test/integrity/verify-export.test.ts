import { describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/events/event.ts';
import { eventLeafHash } from '../../src/integrity/event-leaf.ts';
import { PURGE_ACTION } from '../../src/integrity/export-audit.ts';
import { consistencyProof, inclusionProof, rootHash } from '../../src/integrity/merkle.ts';
import { exportedConsistencyProof, exportedEvent } from '../../src/integrity/offline-verify.ts';
import { generateSigningKey, signCheckpoint } from '../../src/integrity/signed-note.ts';
import { type ExportVerificationInput, verifyExport } from '../../src/integrity/verify-export.ts';
import { sampleEvent } from './fixtures.ts';

// `auditline verify` on files, without a database: the same checks as test/integrity/cli.test.ts, fast
// enough for mutation testing, and with the subject each failure names.

const ORIGIN = 'auditline.test/org_verify_export';
const KEYS = generateSigningKey(ORIGIN);
const EVENTS = Array.from({ length: 12 }, (_, i) => sampleEvent(i));
const SIZES = [3, 7, 12];

function checkpointNote(size: number, events: AuditEvent[] = EVENTS): string {
  const root = rootHash(events.slice(0, size).map(eventLeafHash));
  return signCheckpoint({ origin: ORIGIN, treeSize: size, rootHash: root }, KEYS.signerKey);
}

function line(index: number, events: AuditEvent[] = EVENTS): string {
  const treeSize = SIZES.find((size) => index < size)!;
  const hashes = inclusionProof(index, events.slice(0, treeSize).map(eventLeafHash));
  return JSON.stringify(exportedEvent(events[index]!, { leafIndex: index, treeSize, hashes }));
}

function consistency(fromSize: number, toSize: number) {
  const hashes = consistencyProof(fromSize, EVENTS.slice(0, toSize).map(eventLeafHash));
  return exportedConsistencyProof(fromSize, toSize, hashes);
}

function honest(): ExportVerificationInput & { lines: string[] } {
  return {
    lines: EVENTS.map((_, i) => line(i)),
    // Deliberately not in size order: verification sorts them.
    checkpoints: [12, 3, 7].map((size) => ({ name: `cp${size}.txt`, note: checkpointNote(size) })),
    verifierKey: KEYS.verifierKey,
    consistencyProofs: [consistency(3, 7), consistency(7, 12)],
  };
}

const counts = {
  eventsVerified: 12,
  unprovenSkipped: 0,
  checkpointsVerified: 3,
  consistencyProofsVerified: 2,
  purgedLeaves: 0,
  origin: ORIGIN,
  treeSizes: [3, 7, 12],
};

const withLine = (lines: string[], index: number, text: string) =>
  lines.map((other, i) => (i === index ? text : other));

describe('verifyExport', () => {
  it('accepts an honest export, whatever the order of its checkpoints', () => {
    expect(verifyExport(honest())).toEqual({ ok: true, ...counts });
  });

  it('skips blank lines but counts them in line numbers', () => {
    const input = honest();
    const lines = ['', ...input.lines.slice(0, 5), '  ', ...input.lines.slice(5)];
    expect(verifyExport({ ...input, lines })).toEqual({ ok: true, ...counts });
    const altered = withLine(lines, 7, lines[7]!.replace('"attempt":5', '"attempt":6'));
    expect(verifyExport({ ...input, lines: altered }).failure).toEqual({
      subject: `line 8 (${EVENTS[5]!.id}, leaf 5)`,
      reason: 'event is not leaf 5 of the tree of size 7: altered, or the proof is wrong',
    });
  });

  it('names a line that is not JSON', () => {
    const input = honest();
    const result = verifyExport({ ...input, lines: withLine(input.lines, 1, '{"id": ') });
    expect(result).toEqual({
      ok: false,
      eventsVerified: 0,
      unprovenSkipped: 0,
      checkpointsVerified: 0,
      consistencyProofsVerified: 0,
      purgedLeaves: 0,
      origin: null,
      treeSizes: [],
      failure: { subject: 'line 2', reason: 'not a JSON record' },
    });
  });

  it('names a record that is not an event by its line alone', () => {
    const input = honest();
    for (const text of ['null', '7', '{"id": 7, "proof": {"leafIndex": "3"}}']) {
      expect(verifyExport({ ...input, lines: withLine(input.lines, 3, text) }).failure?.subject).toBe(
        'line 4',
      );
    }
  });

  it('refuses an event without a proof unless told to skip it, then finds its leaf missing', () => {
    const input = honest();
    const unproven = JSON.stringify({ ...JSON.parse(input.lines[11]!), proof: null });
    const lines = withLine(input.lines, 11, unproven);
    const refused = verifyExport({ ...input, lines });
    expect(refused.ok).toBe(false);
    expect(refused.failure?.subject).toBe(`line 12 (${EVENTS[11]!.id})`);
    expect(refused.failure?.reason).toMatch(/^the event has no inclusion proof: .*--allow-unproven/);

    const skipped = verifyExport({ ...input, lines, allowUnproven: true });
    expect(skipped).toMatchObject({ ok: false, unprovenSkipped: 1, eventsVerified: 11 });
    expect(skipped.failure?.subject).toBe('leaf 11');
    expect(skipped.failure?.reason).toMatch(/^leaf 11 is missing from the export/);

    expect(verifyExport({ ...input, lines, allowUnproven: true, partial: true })).toEqual({
      ok: true,
      ...counts,
      eventsVerified: 11,
      unprovenSkipped: 1,
    });
  });

  it('names a missing leaf, unless the export is partial', () => {
    const input = honest();
    const lines = input.lines.filter((_, i) => i !== 4);
    const result = verifyExport({ ...input, lines });
    expect(result).toMatchObject({ ok: false, eventsVerified: 11, origin: ORIGIN, treeSizes: [3, 7, 12] });
    expect(result.failure?.subject).toBe('leaf 4');
    expect(verifyExport({ ...input, lines, partial: true })).toMatchObject({ ok: true, purgedLeaves: 0 });
  });

  it('counts the leaves a recorded retention purge explains', () => {
    const purge = sampleEvent(99, {
      action: PURGE_ACTION,
      metadata: { cutoff: '2030-01-01T00:00:00.000Z' },
      receivedAt: EVENTS[11]!.receivedAt,
    });
    const events = [...EVENTS.slice(0, 11), purge];
    const input: ExportVerificationInput = {
      lines: [4, 5, 6, 7, 8, 9, 10, 11].map((i) => line(i, events)),
      checkpoints: SIZES.map((size) => ({ name: `cp${size}.txt`, note: checkpointNote(size, events) })),
      verifierKey: KEYS.verifierKey,
      consistencyProofs: [
        exportedConsistencyProof(3, 7, consistencyProof(3, events.slice(0, 7).map(eventLeafHash))),
        exportedConsistencyProof(7, 12, consistencyProof(7, events.map(eventLeafHash))),
      ],
    };
    expect(verifyExport(input)).toEqual({ ok: true, ...counts, eventsVerified: 8, purgedLeaves: 4 });
  });

  it('names the record of a leaf that appears twice', () => {
    const input = honest();
    const lines = [...input.lines, input.lines[2]!];
    expect(verifyExport({ ...input, lines }).failure).toEqual({
      subject: `line 13 (${EVENTS[2]!.id}, leaf 2)`,
      reason: `leaf 2 appears twice (also ${EVENTS[2]!.id})`,
    });
  });

  it('names a checkpoint by its file', () => {
    const input = honest();
    const forged = generateSigningKey(ORIGIN);
    const checkpoints = input.checkpoints.map((checkpoint) =>
      checkpoint.name === 'cp7.txt'
        ? {
            name: 'cp7.txt',
            note: signCheckpoint(
              { origin: ORIGIN, treeSize: 7, rootHash: rootHash(EVENTS.slice(0, 7).map(eventLeafHash)) },
              forged.signerKey,
            ),
          }
        : checkpoint,
    );
    const result = verifyExport({ ...input, checkpoints });
    expect(result).toMatchObject({ ok: false, checkpointsVerified: 1, origin: ORIGIN, treeSizes: [3] });
    expect(result.failure?.subject).toBe('checkpoint cp7.txt');
    expect(result.failure?.reason).toMatch(/^note has no signature from key /);
  });

  it('reports an unreadable checkpoint first, before it has an origin', () => {
    const input = honest();
    // After a checkpoint of size 1, which an unreadable one must not sort behind.
    const checkpoints = [
      { name: 'cp1.txt', note: checkpointNote(1) },
      ...input.checkpoints,
      { name: 'garbage.txt', note: 'not a note' },
    ];
    const result = verifyExport({ ...input, checkpoints });
    expect(result).toMatchObject({ ok: false, checkpointsVerified: 0, origin: null, treeSizes: [] });
    expect(result.failure?.subject).toBe('checkpoint garbage.txt');
    expect(verifyExport({ ...input, checkpoints: [] }).failure).toEqual({
      subject: 'checkpoint 1',
      reason: 'no checkpoints supplied',
    });
  });

  it('names a consistency proof by its position, and requires one between every two sizes', () => {
    const input = honest();
    const wrong = { ...consistency(7, 12), hashes: consistency(3, 7).hashes };
    const result = verifyExport({ ...input, consistencyProofs: [consistency(3, 7), wrong] });
    expect(result).toMatchObject({ ok: false, consistencyProofsVerified: 1, checkpointsVerified: 3 });
    expect(result.failure?.subject).toBe('consistency proof 2');
    const missing = verifyExport({ ...input, consistencyProofs: [consistency(3, 7)] });
    expect(missing.failure).toEqual({
      subject: 'checkpoint cp12.txt',
      reason: 'no consistency proof from tree size 7 to 12',
    });
    expect(verifyExport({ ...input, consistencyProofs: undefined }).failure?.subject).toBe(
      'checkpoint cp7.txt',
    );
  });
});
