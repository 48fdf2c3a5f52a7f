import { describe, expect, it } from 'vitest';
import { utf8Encode } from '../../src/integrity/bytes.ts';
import {
  consistencyProof,
  inclusionProof,
  leafHash,
  rootHash,
  verifyConsistency,
  verifyInclusion,
} from '../../src/integrity/merkle.ts';

// The guards of the verifiers, each pinned by a case that only that guard rejects: without it, the proof
// below would verify (mutation testing showed the other tests fail such cases for unrelated reasons).

const LEAVES = Array.from({ length: 8 }, (_, i) => leafHash(utf8Encode(`guard leaf ${i}`)));
const rootOf = (size: number) => rootHash(LEAVES.slice(0, size));

describe('a consistency proof for a log that shrank', () => {
  it('does not verify, even with hashes that would otherwise check out', () => {
    // The real proof that the 2-leaf tree is a prefix of the 3-leaf one is [leaf 2]; the 2-leaf root is a
    // node of the 3-leaf tree, so the verifier's path is [root(2), leaf 2]. Claiming the sizes the other way
    // round (an old tree of 3 leaves "extended" to 2) makes the same hashes line up.
    const proof = consistencyProof(2, LEAVES.slice(0, 3));
    expect(proof).toEqual([LEAVES[2]]);
    expect(verifyConsistency(2, 3, rootOf(2), rootOf(3), proof)).toBe(true);
    expect(verifyConsistency(3, 2, rootOf(2), rootOf(3), [rootOf(2), ...proof])).toBe(false);
  });

  it('never verifies in trees of up to 8 leaves, whatever the real proof', () => {
    for (let newSize = 2; newSize <= 8; newSize++) {
      for (let oldSize = 1; oldSize < newSize; oldSize++) {
        const proof = consistencyProof(oldSize, LEAVES.slice(0, newSize));
        const [oldRoot, newRoot] = [rootOf(oldSize), rootOf(newSize)];
        for (const path of [proof, [oldRoot, ...proof]]) {
          expect(verifyConsistency(newSize, oldSize, oldRoot, newRoot, path)).toBe(false);
          expect(verifyConsistency(newSize, oldSize, newRoot, oldRoot, path)).toBe(false);
        }
      }
    }
  });
});

describe('fractional indexes and tree sizes', () => {
  const fractions = [0.5, 0.25, 0.75, 1e-9];

  it('never verify an inclusion proof, even one that is real for the whole numbers', () => {
    for (let size = 1; size <= 8; size++) {
      const root = rootOf(size);
      for (let index = 0; index < size; index++) {
        const proof = inclusionProof(index, LEAVES.slice(0, size));
        const leaf = LEAVES[index]!;
        expect(verifyInclusion(leaf, index, size, proof, root)).toBe(true);
        for (const f of fractions) {
          for (const [i, n] of [
            [index + f, size],
            [index, size + f],
            [index + f, size + f],
            [index - f, size],
            [index, size - f],
          ] as const) {
            expect(verifyInclusion(leaf, i, n, proof, root), `index ${i}, size ${n}`).toBe(false);
          }
        }
      }
    }
  });

  it('never verify a consistency proof, even one that is real for the whole numbers', () => {
    for (let newSize = 1; newSize <= 8; newSize++) {
      for (let oldSize = 0; oldSize <= newSize; oldSize++) {
        const proof = consistencyProof(oldSize, LEAVES.slice(0, newSize));
        const [oldRoot, newRoot] = [rootOf(oldSize), rootOf(newSize)];
        expect(verifyConsistency(oldSize, newSize, oldRoot, newRoot, proof)).toBe(true);
        for (const f of fractions) {
          for (const [m, n] of [
            [oldSize + f, newSize],
            [oldSize, newSize + f],
            [oldSize + f, newSize + f],
            [oldSize - f, newSize],
            [oldSize, newSize - f],
          ] as const) {
            expect(verifyConsistency(m, n, oldRoot, newRoot, proof), `sizes ${m} → ${n}`).toBe(false);
          }
        }
      }
    }
  });

  it('never verify beyond the safe integers', () => {
    const big = 2 ** 53;
    expect(verifyInclusion(LEAVES[0]!, 0, big, [], LEAVES[0]!)).toBe(false);
    expect(verifyConsistency(0, big, rootOf(0), rootOf(1), [])).toBe(false);
    expect(verifyConsistency(big, big, rootOf(1), rootOf(1), [])).toBe(false);
    expect(verifyInclusion(LEAVES[0]!, Number.NaN, 1, [], LEAVES[0]!)).toBe(false);
    expect(verifyConsistency(Number.NaN, 1, rootOf(1), rootOf(1), [])).toBe(false);
  });
});

describe('proof planners refuse impossible arguments with their own message', () => {
  // A RangeError alone proves nothing: a stack overflow from runaway recursion is a RangeError too.
  it('for inclusion', () => {
    expect(() => inclusionProof(1, LEAVES.slice(0, 1))).toThrow('leaf index 1 is outside a tree of size 1');
    expect(() => inclusionProof(-1, LEAVES.slice(0, 2))).toThrow('leaf index -1 is outside a tree of size 2');
    expect(() => inclusionProof(0.5, LEAVES.slice(0, 2))).toThrow(
      'leaf index 0.5 is outside a tree of size 2',
    );
    expect(() => inclusionProof(0, [])).toThrow('leaf index 0 is outside a tree of size 0');
  });

  it('for consistency', () => {
    expect(() => consistencyProof(2, LEAVES.slice(0, 1))).toThrow('old tree size 2 exceeds new tree size 1');
    expect(() => consistencyProof(-1, LEAVES.slice(0, 1))).toThrow('invalid tree size -1');
    expect(() => consistencyProof(0.5, LEAVES.slice(0, 1))).toThrow('invalid tree size 0.5');
  });
});
