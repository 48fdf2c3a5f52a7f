import { describe, expect, it } from 'vitest';
import { toBase64, utf8Encode } from '../../src/integrity/bytes.ts';
import {
  CompactRange,
  consistencyProof,
  consistencyProofFrom,
  inclusionProof,
  inclusionProofFrom,
  leafHash,
  nodeHash,
  perfectSubtreesOf,
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

describe('a proof for a subtree, against the root of a tree that contains it', () => {
  // Proofs that verify in a tree of size n end with sn = 0. One more hash c, the root of a perfect subtree to
  // the left, gives H(c, root): the root of a larger tree in which these leaves are the right-hand part.
  // That is a proof for other indexes and sizes, so it must not verify for these.
  const extra = leafHash(utf8Encode('a subtree to the left'));

  it('does not verify an inclusion proof with the subtree index and size', () => {
    for (let size = 1; size <= 8; size++) {
      const root = nodeHash(extra, rootOf(size));
      for (let index = 0; index < size; index++) {
        const proof = inclusionProof(index, LEAVES.slice(0, size));
        expect(verifyInclusion(LEAVES[index]!, index, size, [...proof, extra], root)).toBe(false);
      }
    }
    // The smallest case: a leaf "alone in a tree of size 1" whose root is really a two-leaf root.
    expect(verifyInclusion(LEAVES[1]!, 0, 1, [LEAVES[0]!], rootOf(2))).toBe(false);
  });

  it('does not verify a consistency proof with the subtree sizes', () => {
    for (let newSize = 2; newSize <= 8; newSize++) {
      for (let oldSize = 1; oldSize < newSize; oldSize++) {
        const proof = consistencyProof(oldSize, LEAVES.slice(0, newSize));
        const [oldRoot, newRoot] = [nodeHash(extra, rootOf(oldSize)), nodeHash(extra, rootOf(newSize))];
        expect(verifyConsistency(oldSize, newSize, oldRoot, newRoot, [...proof, extra])).toBe(false);
      }
    }
  });
});

describe('values that are not 32-byte hashes', () => {
  const short = Uint8Array.from(LEAVES[0]!.subarray(0, 31));

  it('never verify, even where the arithmetic of the tree would line up', () => {
    // Trees whose "leaf hashes" include a 31-byte value: rootHash and the proof builders do not check
    // lengths, so these proofs are internally consistent; only the verifiers' length checks refuse them.
    const withShortLeaf = [short, LEAVES[1]!, LEAVES[2]!];
    const withShortSibling = [LEAVES[0]!, short, LEAVES[2]!];
    expect(verifyInclusion(short, 0, 3, inclusionProof(0, withShortLeaf), rootHash(withShortLeaf))).toBe(
      false,
    );
    expect(
      verifyInclusion(LEAVES[0]!, 0, 3, inclusionProof(0, withShortSibling), rootHash(withShortSibling)),
    ).toBe(false);
    expect(verifyInclusion(short, 0, 1, [], short)).toBe(false);
    expect(verifyInclusion(LEAVES[0]!, 0, 1, [], LEAVES[0]!)).toBe(true);

    const grown = [LEAVES[0]!, LEAVES[1]!, short];
    expect(
      verifyConsistency(2, 3, rootHash(grown.slice(0, 2)), rootHash(grown), consistencyProof(2, grown)),
    ).toBe(false);
    expect(verifyConsistency(1, 1, short, short, [])).toBe(false);
    expect(verifyConsistency(0, 1, rootOf(0), short, [])).toBe(false);
    expect(verifyConsistency(0, 1, rootOf(0), rootOf(1), [])).toBe(true);
    expect(verifyConsistency(1, 1, rootOf(1), rootOf(1), [])).toBe(true);
  });
});

describe('planner ranges', () => {
  it.each([
    [-1, 0],
    [0.5, 1.5],
    [0, 1.5],
    [0, 2 ** 53],
    [2 ** 53, 2 ** 53 + 2],
    [4, 4],
  ])('[%d, %d) is refused as invalid', (start, end) => {
    expect(() => perfectSubtreesOf({ start, end })).toThrow(`invalid leaf range [${start}, ${end})`);
  });

  it('inclusion proofs need a whole tree size', () => {
    const read = () => LEAVES[0]!;
    expect(() => inclusionProofFrom(0, 2.5, read)).toThrow('invalid tree size 2.5');
    expect(() => consistencyProofFrom(1, -2, read)).toThrow('invalid tree size -2');
  });
});

describe('a compact range at the largest safe size', () => {
  it('refuses one more leaf', () => {
    const size = Number.MAX_SAFE_INTEGER; // 2^53 - 1: 53 perfect subtrees
    const hashes = Array.from({ length: 53 }, () => toBase64(LEAVES[0]!));
    const range = CompactRange.fromJSON({ size, hashes });
    expect(() => range.append(LEAVES[1]!)).toThrow(new RangeError('compact range is full'));
    expect(range.size).toBe(size);
    expect(CompactRange.fromJSON({ size: size - 1, hashes: hashes.slice(1) }).size).toBe(size - 1);
  });
});
