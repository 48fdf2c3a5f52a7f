import { describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/events/event.ts';
import { toHex } from '../../src/integrity/bytes.ts';
import { eventLeafHash } from '../../src/integrity/event-leaf.ts';
import { consistencyProof, inclusionProof, rootHash } from '../../src/integrity/merkle.ts';
import {
  type ExportedEvent,
  exportedConsistencyProof,
  exportedEvent,
  type OfflineVerifyInput,
  offlineVerify,
} from '../../src/integrity/offline-verify.ts';
import { generateSigningKey, signCheckpoint } from '../../src/integrity/signed-note.ts';
import { sampleEvent } from './fixtures.ts';

const ORIGIN = 'auditline.test/org_0190a1b2';
const KEYS = generateSigningKey(ORIGIN);
const EVENTS = Array.from({ length: 12 }, (_, i) => sampleEvent(i));
const SIZES = [3, 7, 12];

function checkpointAt(
  size: number,
  events: AuditEvent[] = EVENTS,
  signerKey = KEYS.signerKey,
  origin = ORIGIN,
) {
  const rootHashValue = rootHash(events.slice(0, size).map(eventLeafHash));
  return signCheckpoint(
    { origin, treeSize: size, rootHash: rootHashValue, extra: ['time 1717171717'] },
    signerKey,
  );
}

function exported(index: number, treeSize: number, events: AuditEvent[] = EVENTS): ExportedEvent {
  const hashes = inclusionProof(index, events.slice(0, treeSize).map(eventLeafHash));
  return exportedEvent(events[index]!, { leafIndex: index, treeSize, hashes });
}

function consistency(fromSize: number, toSize: number, events: AuditEvent[] = EVENTS) {
  return exportedConsistencyProof(
    fromSize,
    toSize,
    consistencyProof(fromSize, events.slice(0, toSize).map(eventLeafHash)),
  );
}

/** An honest export, passed through JSON lines as the CLI would read it. */
function honestInput(): OfflineVerifyInput & { events: ExportedEvent[] } {
  const smallestCheckpointHolding = (index: number) => SIZES.find((size) => index < size)!;
  const lines = EVENTS.map((_, i) => JSON.stringify(exported(i, smallestCheckpointHolding(i))));
  return {
    events: lines.map((line) => JSON.parse(line)),
    checkpoints: SIZES.map((size) => checkpointAt(size)),
    consistencyProofs: [consistency(3, 7), consistency(7, 12)],
    verifierKey: KEYS.verifierKey,
  };
}

describe('offlineVerify', () => {
  it('accepts an honest export', () => {
    expect(offlineVerify(honestInput())).toEqual({
      ok: true,
      checkedEvents: 12,
      checkedCheckpoints: 3,
      checkedConsistencyProofs: 2,
    });
    expect(offlineVerify({ ...honestInput(), requireConsistency: true, origin: ORIGIN }).ok).toBe(true);
  });

  it('exports proof hashes as standard base64', () => {
    const record = exported(5, 12);
    expect(record.proof.hashes.length).toBeGreaterThan(0);
    for (const hash of record.proof.hashes) expect(hash).toMatch(/^[A-Za-z0-9+/]{43}=$/);
  });

  it('names the first altered event', () => {
    const input = honestInput();
    input.events[5]!.metadata = { attempt: 5, reason: 'good_password' };
    input.events[8]!.action = 'user.deleted';
    expect(offlineVerify(input)).toEqual({
      ok: false,
      checkedEvents: 5,
      checkedCheckpoints: 3,
      checkedConsistencyProofs: 2,
      firstFailure: {
        kind: 'event',
        index: 5,
        eventId: EVENTS[5]!.id,
        reason: 'event is not leaf 5 of the tree of size 7: altered, or the proof is wrong',
      },
    });
  });

  it('notices reordered events', () => {
    const input = honestInput();
    [input.events[1]!.proof, input.events[2]!.proof] = [input.events[2]!.proof, input.events[1]!.proof];
    expect(offlineVerify(input).firstFailure).toMatchObject({
      kind: 'event',
      index: 1,
      eventId: EVENTS[1]!.id,
    });
  });

  it('notices a tampered proof hash', () => {
    const input = honestInput();
    const hashes = input.events[9]!.proof.hashes;
    hashes[0] = `${hashes[0]!.startsWith('A') ? 'B' : 'A'}${hashes[0]!.slice(1)}`;
    expect(offlineVerify(input).firstFailure).toMatchObject({
      kind: 'event',
      index: 9,
      reason: /not leaf 9/,
    });
  });

  it.each<[string, (record: ExportedEvent) => unknown, RegExp]>([
    [
      'a proof for a tree size with no checkpoint',
      (r) => Object.assign(r.proof, { treeSize: 5 }),
      /no checkpoint of tree size 5/,
    ],
    [
      'hex instead of base64 hashes',
      (r) => Object.assign(r.proof, { hashes: r.proof.hashes.map((h) => toHex(Buffer.from(h, 'base64'))) }),
      /proof hash 0 is not a base64 32-byte hash/,
    ],
    [
      'a leaf index outside the tree',
      (r) => Object.assign(r.proof, { leafIndex: 7 }),
      /0 <= leafIndex < treeSize/,
    ],
    ['no proof', (r) => Reflect.deleteProperty(r, 'proof'), /no proof object/],
    [
      'a field the leaf does not cover',
      (r) => Object.assign(r, { note: 'trust me' }),
      /unexpected field "note"/,
    ],
    ['an invalid timestamp', (r) => Object.assign(r, { occurredAt: 'yesterday' }), /occurredAt/],
  ])('reports %s', (_, mutate, reason) => {
    const input = honestInput();
    mutate(input.events[4]!);
    expect(offlineVerify(input).firstFailure).toMatchObject({
      kind: 'event',
      index: 4,
      eventId: EVENTS[4]!.id,
      reason,
    });
  });

  it('reports records that are not objects, without an event id', () => {
    const input = { ...honestInput(), events: [...honestInput().events, 'not json object'] };
    expect(offlineVerify(input).firstFailure).toEqual({
      kind: 'event',
      index: 12,
      reason: 'record is not an object',
    });
  });

  it('names a checkpoint signed by another key', () => {
    const input = honestInput();
    const stranger = generateSigningKey(ORIGIN);
    input.checkpoints = [
      input.checkpoints[0]!,
      checkpointAt(7, EVENTS, stranger.signerKey),
      input.checkpoints[2]!,
    ];
    expect(offlineVerify(input)).toMatchObject({
      ok: false,
      checkedCheckpoints: 1,
      firstFailure: { kind: 'checkpoint', index: 1, reason: /no signature from key/ },
    });
  });

  it('names a checkpoint whose text was altered', () => {
    const input = honestInput();
    input.checkpoints = input.checkpoints.map((note, i) =>
      i === 2 ? note.replace('\n12\n', '\n13\n') : note,
    );
    expect(offlineVerify(input).firstFailure).toMatchObject({
      kind: 'checkpoint',
      index: 2,
      reason: /does not verify/,
    });
  });

  it('checks checkpoints before events', () => {
    const input = honestInput();
    input.events[0]!.action = 'tampered';
    input.checkpoints = [input.checkpoints[0]!, `${input.checkpoints[1]!}garbage`, input.checkpoints[2]!];
    expect(offlineVerify(input).firstFailure).toMatchObject({ kind: 'checkpoint', index: 1 });
  });

  it('rejects checkpoints that go back in time', () => {
    const input = honestInput();
    input.checkpoints = [checkpointAt(7), checkpointAt(3)];
    input.consistencyProofs = [];
    expect(offlineVerify(input).firstFailure).toEqual({
      kind: 'checkpoint',
      index: 1,
      reason: "tree size 3 is smaller than the previous checkpoint's 7",
    });
  });

  it('rejects two different signed roots for the same size (a forked log)', () => {
    const forked = EVENTS.map((event, i) => (i === 1 ? sampleEvent(99) : event));
    const input = {
      ...honestInput(),
      checkpoints: [checkpointAt(7), checkpointAt(7, forked)],
      consistencyProofs: [],
    };
    expect(offlineVerify(input).firstFailure).toMatchObject({
      kind: 'checkpoint',
      index: 1,
      reason: /two different roots/,
    });
  });

  it('rejects checkpoints from another log', () => {
    const input = honestInput();
    input.checkpoints = [input.checkpoints[0]!, checkpointAt(7, EVENTS, KEYS.signerKey, 'other.test/log')];
    expect(offlineVerify(input).firstFailure).toMatchObject({
      kind: 'checkpoint',
      index: 1,
      reason: /origin/,
    });
    expect(offlineVerify({ ...honestInput(), origin: 'other.test/log' }).firstFailure).toMatchObject({
      kind: 'checkpoint',
      index: 0,
    });
  });

  it('catches rewritten history through the consistency proofs', () => {
    // The log rewrote event 2 after signing the size-7 checkpoint, then signed size 12 over the new history.
    // Every event verifies against the new checkpoint; only consistency with the old one exposes the rewrite.
    const rewritten = EVENTS.map((event, i) => (i === 2 ? sampleEvent(2, { action: 'user.login' }) : event));
    const input = {
      ...honestInput(),
      events: rewritten.map((_, i) => exported(i, 12, rewritten)),
      checkpoints: [checkpointAt(3), checkpointAt(7), checkpointAt(12, rewritten)],
      consistencyProofs: [consistency(3, 7), consistency(7, 12, rewritten)],
    };
    expect(offlineVerify(input)).toMatchObject({
      ok: false,
      checkedConsistencyProofs: 1,
      firstFailure: { kind: 'consistency', index: 1, reason: /not shown to extend tree size 7/ },
    });
    expect(offlineVerify({ ...input, consistencyProofs: [] }).ok).toBe(true);
    expect(offlineVerify({ ...input, consistencyProofs: [], requireConsistency: true }).firstFailure).toEqual(
      {
        kind: 'checkpoint',
        index: 1,
        reason: 'no consistency proof from tree size 3 to 7',
      },
    );
  });

  it('reports consistency proofs that refer to missing checkpoints or are malformed', () => {
    const cases: [unknown, RegExp][] = [
      [consistency(4, 7), /no checkpoint of tree size 4/],
      [{ fromSize: 3, toSize: -7, hashes: [] }, /non-negative integers/],
      [{ fromSize: 3, toSize: 7, hashes: 'AAAA' }, /array of base64/],
      [null, /not an object/],
    ];
    for (const [proof, reason] of cases) {
      const input = { ...honestInput(), consistencyProofs: [consistency(3, 7), proof] };
      expect(offlineVerify(input).firstFailure).toMatchObject({ kind: 'consistency', index: 1, reason });
    }
  });

  it('refuses to call an export with no checkpoints verified', () => {
    expect(offlineVerify({ events: [], checkpoints: [], verifierKey: KEYS.verifierKey })).toMatchObject({
      ok: false,
      firstFailure: { kind: 'checkpoint', index: 0, reason: 'no checkpoints supplied' },
    });
  });
});
