import { describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/events/event.ts';
import { eventLeafHash } from '../../src/integrity/event-leaf.ts';
import { consistencyProof, inclusionProof, rootHash } from '../../src/integrity/merkle.ts';
import {
  exportedConsistencyProof,
  exportedEvent,
  offlineVerify,
} from '../../src/integrity/offline-verify.ts';
import { generateSigningKey, signCheckpoint } from '../../src/integrity/signed-note.ts';
import { sampleEvent } from './fixtures.ts';

// Malformed exports: each field the verifier checks, with the reason it gives (found by mutation testing).

const ORIGIN = 'auditline.test/org_offline_inputs';
const KEYS = generateSigningKey(ORIGIN);
const EVENTS: AuditEvent[] = Array.from({ length: 7 }, (_, i) => sampleEvent(i));
const leaves = (size: number) => EVENTS.slice(0, size).map(eventLeafHash);
const checkpoint = (size: number) =>
  signCheckpoint({ origin: ORIGIN, treeSize: size, rootHash: rootHash(leaves(size)) }, KEYS.signerKey);
const record = (index: number, size = 7) =>
  JSON.parse(
    JSON.stringify(
      exportedEvent(EVENTS[index]!, {
        leafIndex: index,
        treeSize: size,
        hashes: inclusionProof(index, leaves(size)),
      }),
    ),
  );
const consistency = (from: number, to: number) =>
  exportedConsistencyProof(from, to, consistencyProof(from, leaves(to)));

const base = { checkpoints: [checkpoint(3), checkpoint(7)], verifierKey: KEYS.verifierKey };

function eventFailure(json: unknown) {
  return offlineVerify({ ...base, events: [record(0), json] }).firstFailure;
}

function consistencyReason(json: unknown) {
  return offlineVerify({ ...base, events: [], consistencyProofs: [json] }).firstFailure?.reason;
}

describe('offlineVerify inputs', () => {
  it('needs no consistency proofs unless told to', () => {
    expect(offlineVerify({ ...base, events: [record(2, 3), record(5)] })).toEqual({
      ok: true,
      checkedEvents: 2,
      checkedCheckpoints: 2,
      checkedConsistencyProofs: 0,
    });
  });

  it('accepts the same checkpoint twice, and needs no proof between equal sizes', () => {
    const result = offlineVerify({
      ...base,
      checkpoints: [checkpoint(3), checkpoint(7), checkpoint(7)],
      events: [record(1)],
      consistencyProofs: [consistency(3, 7)],
      requireConsistency: true,
    });
    expect(result.ok).toBe(true);
    expect(result.checkedCheckpoints).toBe(3);
  });

  it.each([
    [{ leafIndex: -1, treeSize: 7 }],
    [{ leafIndex: 7, treeSize: 7 }],
    [{ leafIndex: 0.5, treeSize: 7 }],
    [{ leafIndex: '1', treeSize: 7 }],
    [{ leafIndex: 1, treeSize: 7.5 }],
    [{ leafIndex: 1, treeSize: -7 }],
  ])('refuses proof positions %j', (position) => {
    const json = record(1);
    Object.assign(json.proof, position);
    expect(eventFailure(json)).toEqual({
      kind: 'event',
      index: 1,
      eventId: EVENTS[1]!.id,
      reason: 'proof needs integers 0 <= leafIndex < treeSize',
    });
  });

  it('refuses proof hashes that are not 32-byte base64', () => {
    for (const hash of ['AAAA', 7, 'not base64!']) {
      const json = record(1);
      json.proof.hashes[1] = hash;
      expect(eventFailure(json)?.reason).toBe('proof hash 1 is not a base64 32-byte hash');
    }
    const json = record(1);
    json.proof.hashes = 'AAAA';
    expect(eventFailure(json)?.reason).toBe('proof hashes must be an array of base64 strings');
  });

  it('names the event by its id only when it has a string id', () => {
    expect(eventFailure(null)).toStrictEqual({ kind: 'event', index: 1, reason: 'record is not an object' });
    const json = { ...record(1), id: 7 };
    expect(eventFailure(json)).toStrictEqual({
      kind: 'event',
      index: 1,
      reason: 'event JSON: expected a string at $.id',
    });
    expect(eventFailure({ ...record(1), proof: null })?.reason).toBe('record has no proof object');
  });

  it('reports why a record is not an event, before checking its proof', () => {
    const { action: _action, ...withoutAction } = record(1);
    const reason = eventFailure(withoutAction)?.reason;
    expect(reason).toMatch(/action/);
    expect(reason).not.toMatch(/^event is not leaf/);
  });

  it('refuses a proof against a tree size no checkpoint has', () => {
    expect(eventFailure(record(1, 5))?.reason).toBe('no checkpoint of tree size 5');
  });

  it('refuses malformed consistency proofs with their reason', () => {
    expect(consistencyReason(null)).toBe('consistency proof is not an object');
    for (const [fromSize, toSize] of [
      [-1, 7],
      [3, 7.5],
      ['3', 7],
    ]) {
      expect(consistencyReason({ ...consistency(3, 7), fromSize, toSize })).toBe(
        'fromSize and toSize must be non-negative integers',
      );
    }
    expect(consistencyReason({ ...consistency(3, 7), toSize: 8 })).toBe('no checkpoint of tree size 8');
    expect(consistencyReason({ ...consistency(3, 7), fromSize: 2 })).toBe('no checkpoint of tree size 2');
    expect(consistencyReason({ ...consistency(3, 7), hashes: ['AAAA'] })).toBe(
      'proof hash 0 is not a base64 32-byte hash',
    );
  });
});
