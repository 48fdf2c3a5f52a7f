import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesEqual, sha256, toHex, utf8Encode } from '../../src/integrity/bytes.ts';
import {
  CompactRange,
  consistencyProof,
  consistencyProofFrom,
  consistencyProofRanges,
  emptyRoot,
  inclusionProof,
  inclusionProofFrom,
  inclusionProofRanges,
  leafHash,
  nodeHash,
  type PerfectSubtree,
  perfectSubtreesOf,
  rootHash,
  subtreeRootFromPerfect,
  verifyConsistency,
  verifyInclusion,
} from '../../src/integrity/merkle.ts';
import { hex } from './fixtures.ts';

// RFC 6962 reference data from the Certificate Transparency tests (transparency-dev/merkle testonly and
// proof/verify_test.go).
const LEAF_INPUTS = [
  '',
  '00',
  '10',
  '2021',
  '3031',
  '40414243',
  '5051525354555657',
  '606162636465666768696a6b6c6d6e6f',
].map(hex);
const LEAVES = LEAF_INPUTS.map(leafHash);
const ROOTS = [
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];
/** Node hashes of the complete subtrees of the 8-leaf tree, by level then position. */
const NODES = [
  [
    '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
    '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
    '0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7',
    '07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7',
    'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    '4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658',
    'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f',
    '46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1',
  ],
  [
    'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
    '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
    '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
    'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
  ],
  [
    'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
  ],
  ['5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328'],
];
const node = (level: number, index: number) => NODES[level]![index]!;

/** (leaf index, tree size, proof); the reference tests number leaves from 1, these from 0. */
const INCLUSION_VECTORS: [number, number, string[]][] = [
  [0, 8, [node(0, 1), node(1, 1), node(2, 1)]],
  [5, 8, [node(0, 4), node(1, 3), node(2, 0)]],
  [2, 3, [node(1, 0)]],
  [1, 5, [node(0, 0), node(1, 1), node(0, 4)]],
];
const CONSISTENCY_VECTORS: [number, number, string[]][] = [
  [1, 1, []],
  [1, 8, [node(0, 1), node(1, 1), node(2, 1)]],
  [6, 8, [node(1, 2), node(1, 3), node(2, 0)]],
  [2, 5, [node(1, 1), node(0, 4)]],
  [6, 7, [node(1, 2), node(0, 6), node(2, 0)]],
];
/** The compact range after each size 0..8: the roots of its perfect subtrees, left to right. */
const COMPACT_RANGES = [
  [],
  [node(0, 0)],
  [node(1, 0)],
  [node(1, 0), node(0, 2)],
  [node(2, 0)],
  [node(2, 0), node(0, 4)],
  [node(2, 0), node(1, 2)],
  [node(2, 0), node(1, 2), node(0, 6)],
  [node(3, 0)],
];

const hexes = (hashes: readonly Uint8Array[]) => hashes.map(toHex);

/** Distinct leaves, so that moving a proof to another leaf can never verify by coincidence. */
function makeLeaves(count: number): Uint8Array[] {
  return Array.from({ length: count }, (_, i) => leafHash(utf8Encode(`leaf ${i}`)));
}
const POOL = makeLeaves(1100);

function flipBit(bytes: Uint8Array, byte: number, bit: number): Uint8Array {
  const copy = Uint8Array.from(bytes);
  copy[byte % copy.length]! ^= 1 << bit;
  return copy;
}

function withFlippedHash(proof: Uint8Array[], which: number, byte: number, bit: number): Uint8Array[] {
  return proof.map((hash, i) => (i === which ? flipBit(hash, byte, bit) : hash));
}

const sameProof = (a: readonly Uint8Array[], b: readonly Uint8Array[]) =>
  a.length === b.length && a.every((hash, i) => bytesEqual(hash, b[i]!));

describe('RFC 6962 reference vectors', () => {
  it('hashes leaves and nodes with the 0x00 / 0x01 prefixes', () => {
    expect(toHex(LEAVES[0]!)).toBe(node(0, 0));
    expect(toHex(nodeHash(LEAVES[0]!, LEAVES[1]!))).toBe(node(1, 0));
    expect(toHex(emptyRoot())).toBe(toHex(sha256()));
  });

  it('computes the root of every tree size 0..8', () => {
    for (let size = 0; size <= 8; size++) {
      expect(toHex(rootHash(LEAVES.slice(0, size))), `size ${size}`).toBe(ROOTS[size]);
      expect(toHex(CompactRange.fromLeafHashes(LEAVES.slice(0, size)).root()), `size ${size}`).toBe(
        ROOTS[size],
      );
    }
  });

  it('keeps the compact range of every size 0..8', () => {
    const range = CompactRange.empty();
    for (let size = 0; size <= 8; size++) {
      expect(range.toJSON().hashes.map((b64) => toHex(Buffer.from(b64, 'base64')))).toEqual(
        COMPACT_RANGES[size],
      );
      if (size < 8) range.append(LEAVES[size]!);
    }
  });

  it.each(INCLUSION_VECTORS)(
    'generates and verifies the inclusion proof of leaf %i in size %i',
    (index, size, proof) => {
      const leaves = LEAVES.slice(0, size);
      expect(hexes(inclusionProof(index, leaves))).toEqual(proof);
      expect(verifyInclusion(LEAVES[index]!, index, size, proof.map(hex), hex(ROOTS[size]!))).toBe(true);
    },
  );

  it.each(CONSISTENCY_VECTORS)(
    'generates and verifies the consistency proof %i -> %i',
    (oldSize, newSize, proof) => {
      const leaves = LEAVES.slice(0, newSize);
      expect(hexes(consistencyProof(oldSize, leaves))).toEqual(proof);
      expect(
        verifyConsistency(oldSize, newSize, hex(ROOTS[oldSize]!), hex(ROOTS[newSize]!), proof.map(hex)),
      ).toBe(true);
    },
  );

  it('rejects the corruptions the reference tests try on those vectors', () => {
    const some = hex('abacaba000000000000000000000000000000000000000000060061e00123456');
    for (const [index, size, encoded] of INCLUSION_VECTORS) {
      const proof = encoded.map(hex);
      const [leaf, root] = [LEAVES[index]!, hex(ROOTS[size]!)];
      const wrong: [number, number, Uint8Array, Uint8Array[], Uint8Array][] = [
        [index - 1, size, leaf, proof, root],
        [index + 1, size, leaf, proof, root],
        [index ^ 2, size, leaf, proof, root],
        [index, size * 2, leaf, proof, root],
        [index, Math.floor(size / 2), leaf, proof, root],
        [index, size, utf8Encode('WrongLeaf'), proof, root],
        [index, size, leaf, proof, emptyRoot()],
        [index, size, leaf, proof, some],
        [index, size, leaf, [...proof, new Uint8Array()], root],
        [index, size, leaf, [...proof, root], root],
        [index, size, leaf, [root, ...proof], root],
        [index, size, leaf, proof.slice(0, -1), root],
        [index, size, leaf, [proof[0]!, some, ...proof.slice(1)], root],
      ];
      for (const [i, n, l, p, r] of wrong) expect(verifyInclusion(l, i, n, p, r)).toBe(false);
    }
    for (const [oldSize, newSize, encoded] of CONSISTENCY_VECTORS.filter(([, , p]) => p.length > 0)) {
      const proof = encoded.map(hex);
      const [oldRoot, newRoot] = [hex(ROOTS[oldSize]!), hex(ROOTS[newSize]!)];
      const wrong: [number, number, Uint8Array, Uint8Array, Uint8Array[]][] = [
        [oldSize - 1, newSize, oldRoot, newRoot, proof],
        [oldSize + 1, newSize, oldRoot, newRoot, proof],
        [oldSize ^ 2, newSize, oldRoot, newRoot, proof],
        [oldSize, newSize * 2, oldRoot, newRoot, proof],
        [oldSize, Math.floor(newSize / 2), oldRoot, newRoot, proof],
        [oldSize, newSize, newRoot, oldRoot, proof],
        [oldSize, newSize, oldRoot, newRoot, []],
        [oldSize, newSize, oldRoot, newRoot, [...proof, oldRoot]],
        [oldSize, newSize, oldRoot, newRoot, [newRoot, ...proof]],
        [oldSize, newSize, oldRoot, newRoot, [proof[0]!, ...proof]],
        [oldSize, newSize, oldRoot, newRoot, proof.slice(0, -1)],
      ];
      for (const [m, n, rm, rn, p] of wrong) expect(verifyConsistency(m, n, rm, rn, p)).toBe(false);
    }
  });
});

describe('edge cases', () => {
  const root = LEAVES[0]!;

  it('treats a one-leaf tree as its leaf, with an empty proof', () => {
    expect(inclusionProof(0, [root])).toEqual([]);
    expect(verifyInclusion(root, 0, 1, [], root)).toBe(true);
    expect(verifyInclusion(root, 0, 1, [], new Uint8Array())).toBe(false);
    expect(verifyInclusion(new Uint8Array(), 0, 1, [], root)).toBe(false);
  });

  it('rejects impossible indexes and sizes instead of throwing', () => {
    for (const [index, size] of [
      [0, 0],
      [1, 1],
      [-1, 2],
      [0.5, 2],
      [0, Number.NaN],
      [0, 2 ** 53],
    ] as const) {
      expect(verifyInclusion(root, index, size, [], root)).toBe(false);
    }
    // The message, not just the class: a stack overflow is a RangeError too.
    expect(() => inclusionProof(1, [root])).toThrow(
      new RangeError('leaf index 1 is outside a tree of size 1'),
    );
    expect(() => consistencyProof(2, [root])).toThrow(
      new RangeError('old tree size 2 exceeds new tree size 1'),
    );
  });

  it('handles consistency between trivial sizes like the RFC intends', () => {
    const [r0, r1, r2] = [emptyRoot(), hex(ROOTS[1]!), hex(ROOTS[2]!)];
    expect(verifyConsistency(0, 0, r0, r0, [])).toBe(true);
    expect(verifyConsistency(0, 5, r0, r2, [])).toBe(true);
    expect(verifyConsistency(0, 5, r1, r2, [])).toBe(false); // a size-0 tree has exactly one root
    expect(verifyConsistency(1, 1, r1, r1, [])).toBe(true);
    expect(verifyConsistency(1, 1, r1, r2, [])).toBe(false);
    expect(verifyConsistency(1, 1, r1, r1, [r0])).toBe(false);
    expect(verifyConsistency(2, 1, r2, r1, [])).toBe(false);
    expect(verifyConsistency(1, 2, r1, r2, [])).toBe(false);
    expect(consistencyProof(0, LEAVES)).toEqual([]);
    expect(consistencyProof(8, LEAVES)).toEqual([]);
  });
});

describe('every proof in every small tree', () => {
  it('verifies, and stops verifying once any part of it changes', () => {
    for (let size = 1; size <= 40; size++) {
      const leaves = POOL.slice(0, size);
      const root = rootHash(leaves);
      for (let index = 0; index < size; index++) {
        const proof = inclusionProof(index, leaves);
        expect(verifyInclusion(leaves[index]!, index, size, proof, root)).toBe(true);
        for (let j = 0; j < proof.length; j++) {
          expect(verifyInclusion(leaves[index]!, index, size, withFlippedHash(proof, j, j, 3), root)).toBe(
            false,
          );
        }
        for (let other = 0; other < size; other++) {
          if (other !== index) expect(verifyInclusion(leaves[index]!, other, size, proof, root)).toBe(false);
        }
      }
      for (let oldSize = 0; oldSize <= size; oldSize++) {
        const proof = consistencyProof(oldSize, leaves);
        const oldRoot = rootHash(leaves.slice(0, oldSize));
        expect(verifyConsistency(oldSize, size, oldRoot, root, proof)).toBe(true);
        for (let j = 0; j < proof.length; j++) {
          expect(verifyConsistency(oldSize, size, oldRoot, root, withFlippedHash(proof, j, j, 4))).toBe(
            false,
          );
        }
      }
    }
  });
});

describe('properties over random trees', () => {
  const tree = fc.integer({ min: 1, max: POOL.length }).chain((size) =>
    fc.record({
      size: fc.constant(size),
      index: fc.nat(size - 1),
      other: fc.nat(size - 1),
      otherSize: fc.integer({ min: 1, max: POOL.length }),
      byte: fc.nat(31),
      bit: fc.nat(7),
      pick: fc.nat(),
    }),
  );

  it('inclusion proofs verify; flipping any bit of the leaf, a proof hash or the root does not', () => {
    fc.assert(
      fc.property(tree, ({ size, index, byte, bit, pick }) => {
        const leaves = POOL.slice(0, size);
        const root = rootHash(leaves);
        const leaf = leaves[index]!;
        const proof = inclusionProof(index, leaves);
        expect(verifyInclusion(leaf, index, size, proof, root)).toBe(true);
        expect(verifyInclusion(flipBit(leaf, byte, bit), index, size, proof, root)).toBe(false);
        expect(verifyInclusion(leaf, index, size, proof, flipBit(root, byte, bit))).toBe(false);
        if (proof.length > 0) {
          const mutated = withFlippedHash(proof, pick % proof.length, byte, bit);
          expect(verifyInclusion(leaf, index, size, mutated, root)).toBe(false);
          expect(verifyInclusion(leaf, index, size, proof.slice(1), root)).toBe(false);
        }
        expect(verifyInclusion(leaf, index, size, [...proof, root], root)).toBe(false);
      }),
    );
  });

  it('an inclusion proof moved to another index or tree size does not verify', () => {
    fc.assert(
      fc.property(tree, ({ size, index, other, otherSize }) => {
        const leaves = POOL.slice(0, size);
        const proof = inclusionProof(index, leaves);
        if (other !== index) {
          expect(verifyInclusion(leaves[index]!, other, size, proof, rootHash(leaves))).toBe(false);
        }
        if (otherSize !== size && index < otherSize) {
          // Against the other size's real root, it verifies only if it *is* that size's proof, which happens
          // when the leaf's audit path does not change between the sizes.
          const otherLeaves = POOL.slice(0, otherSize);
          const verified = verifyInclusion(leaves[index]!, index, otherSize, proof, rootHash(otherLeaves));
          expect(verified).toBe(sameProof(proof, inclusionProof(index, otherLeaves)));
          // Against the same root, the claimed size is only bound by the signed checkpoint, but a proof of
          // the wrong length is always rejected.
          if (inclusionProofRanges(index, otherSize).length !== proof.length) {
            expect(verifyInclusion(leaves[index]!, index, otherSize, proof, rootHash(leaves))).toBe(false);
          }
        }
      }),
    );
  });

  it('consistency proofs verify; flipping any bit of either root or a proof hash does not', () => {
    fc.assert(
      fc.property(tree, ({ size, index: oldSize, byte, bit, pick }) => {
        const leaves = POOL.slice(0, size);
        const [oldRoot, newRoot] = [rootHash(leaves.slice(0, oldSize)), rootHash(leaves)];
        const proof = consistencyProof(oldSize, leaves);
        expect(verifyConsistency(oldSize, size, oldRoot, newRoot, proof)).toBe(true);
        expect(verifyConsistency(oldSize, size, flipBit(oldRoot, byte, bit), newRoot, proof)).toBe(false);
        // Every tree extends the empty tree, so only a non-empty old tree binds the new root.
        const newRootBound = oldSize > 0;
        expect(verifyConsistency(oldSize, size, oldRoot, flipBit(newRoot, byte, bit), proof)).toBe(
          !newRootBound,
        );
        if (proof.length > 0) {
          const mutated = withFlippedHash(proof, pick % proof.length, byte, bit);
          expect(verifyConsistency(oldSize, size, oldRoot, newRoot, mutated)).toBe(false);
          expect(verifyConsistency(oldSize, size, oldRoot, newRoot, proof.slice(0, -1))).toBe(false);
          expect(verifyConsistency(oldSize, size, oldRoot, newRoot, [...proof, newRoot])).toBe(false);
        }
      }),
    );
  });

  it('a consistency proof for other sizes verifies only where it is exactly that proof', () => {
    fc.assert(
      fc.property(tree, ({ size, index: oldSize, other: otherOldSize, otherSize }) => {
        const leaves = POOL.slice(0, size);
        const proof = consistencyProof(oldSize, leaves);
        for (const [m, n] of [
          [otherOldSize, size],
          [oldSize, otherSize],
        ] as const) {
          if (m > n || (m === oldSize && n === size)) continue;
          const prefix = POOL.slice(0, n);
          const verified = verifyConsistency(m, n, rootHash(prefix.slice(0, m)), rootHash(prefix), proof);
          expect(verified).toBe(sameProof(proof, consistencyProof(m, prefix)));
          if (consistencyProofRanges(m, n).length !== proof.length) {
            expect(verifyConsistency(m, n, rootHash(leaves.slice(0, oldSize)), rootHash(leaves), proof)).toBe(
              false,
            );
          }
        }
      }),
    );
  });

  it('a compact range has the root of the full tree, and survives JSON', () => {
    fc.assert(
      fc.property(fc.nat(300), fc.nat(300), (first, second) => {
        const range = CompactRange.fromLeafHashes(POOL.slice(0, first));
        expect(range.size).toBe(first);
        expect(toHex(range.root())).toBe(toHex(rootHash(POOL.slice(0, first))));
        const restored = CompactRange.fromJSON(JSON.parse(JSON.stringify(range)));
        for (const leaf of POOL.slice(first, first + second)) restored.append(leaf);
        expect(toHex(restored.root())).toBe(toHex(rootHash(POOL.slice(0, first + second))));
      }),
    );
  });
});

describe('proofs from stored perfect subtrees', () => {
  function storeOf(leaves: readonly Uint8Array[]) {
    const stored = new Map<string, Uint8Array>();
    const key = ({ level, index }: PerfectSubtree) => `${level}/${index}`;
    const range = CompactRange.empty();
    for (const leaf of leaves) range.append(leaf, (subtree, hash) => stored.set(key(subtree), hash));
    return (subtree: PerfectSubtree) => {
      const hash = stored.get(key(subtree));
      if (!hash) throw new Error(`not stored: ${key(subtree)}`);
      return hash;
    };
  }

  it('reports every completed perfect subtree exactly once, in the order it completes', () => {
    const seen: string[] = [];
    const range = CompactRange.empty();
    for (const leaf of LEAVES.slice(0, 4))
      range.append(leaf, ({ level, index }) => seen.push(`${level}/${index}`));
    expect(seen).toEqual(['0/0', '0/1', '1/0', '0/2', '0/3', '1/1', '2/0']);
  });

  it('gives the same proofs as the in-memory tree without reading leaves', () => {
    const readPerfect = storeOf(POOL);
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: POOL.length })
          .chain((size) => fc.tuple(fc.constant(size), fc.nat(size - 1), fc.nat(size))),
        ([size, index, oldSize]) => {
          const leaves = POOL.slice(0, size);
          const read = (range: { start: number; end: number }) => subtreeRootFromPerfect(range, readPerfect);
          expect(hexes(inclusionProofFrom(index, size, read))).toEqual(hexes(inclusionProof(index, leaves)));
          expect(hexes(consistencyProofFrom(oldSize, size, read))).toEqual(
            hexes(consistencyProof(oldSize, leaves)),
          );
          expect(toHex(read({ start: 0, end: size }))).toBe(toHex(rootHash(leaves)));
        },
      ),
    );
  });

  it('splits planner ranges into aligned perfect subtrees and refuses other ranges', () => {
    expect(perfectSubtreesOf({ start: 0, end: 7 })).toEqual([
      { level: 2, index: 0 },
      { level: 1, index: 2 },
      { level: 0, index: 6 },
    ]);
    expect(perfectSubtreesOf({ start: 8, end: 12 })).toEqual([{ level: 2, index: 2 }]);
    expect(() => perfectSubtreesOf({ start: 2, end: 5 })).toThrow(/not a subtree/);
    expect(() => perfectSubtreesOf({ start: 3, end: 3 })).toThrow(/invalid leaf range/);
  });

  it('works beyond 32-bit tree sizes', () => {
    // With identical leaves every perfect subtree of a level has the same root, so a 2^40-leaf tree is cheap.
    const levels = [leafHash(utf8Encode('same'))];
    for (let level = 1; level <= 45; level++) levels.push(nodeHash(levels[level - 1]!, levels[level - 1]!));
    const read = (range: { start: number; end: number }) =>
      subtreeRootFromPerfect(range, ({ level }) => levels[level]!);
    const size = 2 ** 40 + 777;
    const oldSize = 2 ** 33 + 1;
    const index = 2 ** 35 + 12345;
    const root = read({ start: 0, end: size });
    const proof = inclusionProofFrom(index, size, read);
    expect(proof).toHaveLength(41);
    expect(verifyInclusion(levels[0]!, index, size, proof, root)).toBe(true);
    expect(verifyInclusion(levels[0]!, index, size + 2 ** 40, proof, root)).toBe(false);
    const consistency = consistencyProofFrom(oldSize, size, read);
    expect(verifyConsistency(oldSize, size, read({ start: 0, end: oldSize }), root, consistency)).toBe(true);
    expect(verifyConsistency(oldSize, size, read({ start: 0, end: oldSize }), levels[0]!, consistency)).toBe(
      false,
    );
  });
});

describe('CompactRange persistence', () => {
  it('round-trips through JSON and rejects inconsistent state', () => {
    const range = CompactRange.fromLeafHashes(LEAVES.slice(0, 7));
    const json = range.toJSON();
    expect(json.size).toBe(7);
    expect(json.hashes).toHaveLength(3);
    expect(toHex(CompactRange.fromJSON(json).root())).toBe(ROOTS[7]);
    expect(() => CompactRange.fromJSON({ size: 7, hashes: json.hashes.slice(1) })).toThrow(
      /one hash per set bit/,
    );
    expect(() => CompactRange.fromJSON({ size: -1, hashes: [] })).toThrow(/size/);
    expect(() => CompactRange.fromJSON({ size: 1, hashes: ['AAAA'] })).toThrow(/32-byte/);
    expect(() => CompactRange.fromJSON({ size: 1, hashes: ['not base64!'] })).toThrow(
      /not a standard base64/,
    );
    expect(() => CompactRange.fromJSON({ size: 1, hashes: [7] })).toThrow(/32-byte/);
    expect(() => CompactRange.fromJSON({ size: 0.5, hashes: [] })).toThrow(/non-negative integer/);
    expect(() => CompactRange.fromJSON({ size: 1 })).toThrow(/one hash per set bit/);
    expect(() => CompactRange.fromJSON(null)).toThrow(/non-negative integer/);
  });

  it('clones independently and refuses leaves that are not hashes', () => {
    const range = CompactRange.fromLeafHashes(LEAVES.slice(0, 3));
    const copy = range.clone();
    copy.append(LEAVES[3]!);
    expect(range.size).toBe(3);
    expect(toHex(range.root())).toBe(ROOTS[3]);
    expect(toHex(copy.root())).toBe(ROOTS[4]);
    expect(() => range.append(new Uint8Array(31))).toThrow(new TypeError('leaf hash must be 32 bytes'));
    expect(range.size).toBe(3);
  });
});
