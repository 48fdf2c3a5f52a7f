import { bytesEqual, fromBase64, sha256, toBase64 } from './bytes.ts';

/**
 * RFC 6962 / RFC 9162 Merkle tree hashing with SHA-256.
 *
 * Sizes and indexes are plain numbers (safe integers, so up to 2^53 leaves); bit operations are done with
 * arithmetic because JavaScript's bitwise operators truncate to 32 bits.
 */

export const HASH_SIZE = 32;

const LEAF_PREFIX = Uint8Array.of(0x00);
const NODE_PREFIX = Uint8Array.of(0x01);

/** RFC 9162 §2.1.1: domain separation between leaves and interior nodes (second-preimage resistance). */
export function leafHash(data: Uint8Array): Uint8Array {
  return sha256(LEAF_PREFIX, data);
}

export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  return sha256(NODE_PREFIX, left, right);
}

/** MTH({}) = SHA-256 of the empty string (RFC 9162 §2.1.1). */
export function emptyRoot(): Uint8Array {
  return sha256();
}

/** A half-open range of leaves [start, end) whose Merkle tree hash a proof needs. */
export interface LeafRange {
  start: number;
  end: number;
}

/** Returns MTH(D[start:end]) for a range a proof planner asked for; may come from memory or storage. */
export type SubtreeRootReader = (range: LeafRange) => Uint8Array;

/** MTH(D[n]) over leaf hashes already computed with {@link leafHash}. */
export function rootHash(leafHashes: readonly Uint8Array[]): Uint8Array {
  if (leafHashes.length === 0) return emptyRoot();
  return subtreeRoot(leafHashes, 0, leafHashes.length);
}

function subtreeRoot(leafHashes: readonly Uint8Array[], start: number, end: number): Uint8Array {
  if (end - start === 1) return leafHashes[start]!;
  const k = splitPoint(end - start);
  return nodeHash(subtreeRoot(leafHashes, start, start + k), subtreeRoot(leafHashes, start + k, end));
}

/** RFC 9162 §2.1.1: k is the largest power of two smaller than n (n > 1). */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

// ---------------------------------------------------------------------------------------------------------
// Proof planning: which subtree roots a proof consists of, independent of where they are stored.

/** RFC 9162 §2.1.3.1 PATH(m, D[n]), as the leaf ranges whose roots make up the audit path, leaf first. */
export function inclusionProofRanges(index: number, treeSize: number): LeafRange[] {
  assertTreeSize(treeSize);
  if (!Number.isSafeInteger(index) || index < 0 || index >= treeSize) {
    throw new RangeError(`leaf index ${index} is outside a tree of size ${treeSize}`);
  }
  return path(index, 0, treeSize);
}

function path(m: number, start: number, end: number): LeafRange[] {
  const n = end - start;
  if (n === 1) return [];
  const k = splitPoint(n);
  if (m < k) return [...path(m, start, start + k), { start: start + k, end }];
  return [...path(m - k, start + k, end), { start, end: start + k }];
}

/** RFC 9162 §2.1.4.1 PROOF(m, D[n]), as leaf ranges. Empty when m is 0 or m equals n. */
export function consistencyProofRanges(oldSize: number, newSize: number): LeafRange[] {
  assertTreeSize(oldSize);
  assertTreeSize(newSize);
  if (oldSize > newSize) throw new RangeError(`old tree size ${oldSize} exceeds new tree size ${newSize}`);
  if (oldSize === 0 || oldSize === newSize) return [];
  return subproof(oldSize, 0, newSize, true);
}

/** SUBPROOF(m, D[start:end], b); `b` says whether the old tree's root is one of this subtree's nodes. */
function subproof(m: number, start: number, end: number, oldRootIsHere: boolean): LeafRange[] {
  const n = end - start;
  if (m === n) return oldRootIsHere ? [] : [{ start, end }];
  const k = splitPoint(n);
  if (m <= k) return [...subproof(m, start, start + k, oldRootIsHere), { start: start + k, end }];
  return [...subproof(m - k, start + k, end, false), { start, end: start + k }];
}

/**
 * PATH(index, D[treeSize]) from a reader of subtree roots, e.g. {@link subtreeRootFromPerfect} over stored
 * perfect subtrees. With asynchronous storage, fetch {@link inclusionProofRanges} first, then read from that.
 */
export function inclusionProofFrom(
  index: number,
  treeSize: number,
  readSubtreeRoot: SubtreeRootReader,
): Uint8Array[] {
  return inclusionProofRanges(index, treeSize).map(readSubtreeRoot);
}

/** PROOF(oldSize, D[newSize]) from a reader of subtree roots; see {@link inclusionProofFrom}. */
export function consistencyProofFrom(
  oldSize: number,
  newSize: number,
  readSubtreeRoot: SubtreeRootReader,
): Uint8Array[] {
  return consistencyProofRanges(oldSize, newSize).map(readSubtreeRoot);
}

/** PATH(index, D[n]) over all leaf hashes in memory. */
export function inclusionProof(index: number, leafHashes: readonly Uint8Array[]): Uint8Array[] {
  return inclusionProofFrom(index, leafHashes.length, ({ start, end }) =>
    subtreeRoot(leafHashes, start, end),
  );
}

/** PROOF(oldSize, D[n]) over all leaf hashes in memory, n being their count. */
export function consistencyProof(oldSize: number, leafHashes: readonly Uint8Array[]): Uint8Array[] {
  return consistencyProofFrom(oldSize, leafHashes.length, ({ start, end }) =>
    subtreeRoot(leafHashes, start, end),
  );
}

// ---------------------------------------------------------------------------------------------------------
// Perfect subtrees: what a store can persist so proofs never need to read every leaf.

/** The perfect subtree holding leaves [index·2^level, (index+1)·2^level); level 0 is a single leaf. */
export interface PerfectSubtree {
  level: number;
  index: number;
}

/**
 * Splits a range that a proof planner produced into the perfect subtrees that make it up, largest first.
 * Planner ranges always start at a multiple of the smallest power of two not below their length, which is
 * what makes the right-to-left fold in {@link subtreeRootFromPerfect} equal to their MTH.
 */
export function perfectSubtreesOf(range: LeafRange): PerfectSubtree[] {
  const { start, end } = range;
  const length = end - start;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || length < 1) {
    throw new RangeError(`invalid leaf range [${start}, ${end})`);
  }
  if (start % nextPowerOfTwo(length) !== 0) {
    throw new RangeError(`leaf range [${start}, ${end}) is not a subtree of an RFC 6962 tree`);
  }
  const subtrees: PerfectSubtree[] = [];
  let offset = start;
  for (let level = floorLog2(length); offset < end; level--) {
    const width = 2 ** level;
    if (offset + width > end) continue;
    subtrees.push({ level, index: offset / width });
    offset += width;
  }
  return subtrees;
}

/** MTH of a planner range, from a reader of stored perfect subtree roots (see {@link CompactRange.append}). */
export function subtreeRootFromPerfect(
  range: LeafRange,
  readPerfect: (subtree: PerfectSubtree) => Uint8Array,
): Uint8Array {
  return foldRight(perfectSubtreesOf(range).map(readPerfect));
}

function foldRight(roots: readonly Uint8Array[]): Uint8Array {
  let root = roots[roots.length - 1]!;
  for (let i = roots.length - 2; i >= 0; i--) root = nodeHash(roots[i]!, root);
  return root;
}

function nextPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

function floorLog2(n: number): number {
  let log = 0;
  while (2 ** (log + 1) <= n) log++;
  return log;
}

// ---------------------------------------------------------------------------------------------------------
// Verification. These never throw on hostile input: anything malformed simply fails to verify.

/** RFC 9162 §2.1.3.2. */
export function verifyInclusion(
  leaf: Uint8Array,
  index: number,
  treeSize: number,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  if (!isTreeSize(treeSize) || !Number.isSafeInteger(index) || index < 0 || index >= treeSize) return false;
  if (!isHash(leaf) || !isHash(root) || !proof.every(isHash)) return false;
  let fn = index;
  let sn = treeSize - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) return false;
    if (isOdd(fn) || fn === sn) {
      r = nodeHash(p, r);
      // Stryker disable next-line ConditionalExpression: fn > 0 here (odd, or equal to sn > 0), and halving a positive even number reaches an odd one before 0
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && bytesEqual(r, root);
}

/**
 * RFC 9162 §2.1.4.2, plus the edge cases the RFC leaves to the caller: equal sizes need equal roots and an
 * empty proof; an empty old tree is consistent with anything, provided its root really is the empty root.
 */
export function verifyConsistency(
  oldSize: number,
  newSize: number,
  oldRoot: Uint8Array,
  newRoot: Uint8Array,
  proof: readonly Uint8Array[],
): boolean {
  if (!isTreeSize(oldSize) || !isTreeSize(newSize) || oldSize > newSize) return false;
  if (!isHash(oldRoot) || !isHash(newRoot) || !proof.every(isHash)) return false;
  if (oldSize === 0) return proof.length === 0 && bytesEqual(oldRoot, emptyRoot());
  if (oldSize === newSize) return proof.length === 0 && bytesEqual(oldRoot, newRoot);
  // Stryker disable next-line ConditionalExpression: without it an empty proof still fails (the loop leaves sn > 0 for 0 < oldSize < newSize); this says so outright
  if (proof.length === 0) return false;

  // Step 2: when the old tree is perfect, its root is a node of the new tree and the proof omits it.
  const path = isPowerOfTwo(oldSize) ? [oldRoot, ...proof] : [...proof];
  let fn = oldSize - 1;
  let sn = newSize - 1;
  while (isOdd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr = path[0]!;
  let sr = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (isOdd(fn) || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      // Stryker disable next-line ConditionalExpression: fn > 0 here (odd, or equal to sn > 0), and halving a positive even number reaches an odd one before 0
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && bytesEqual(fr, oldRoot) && bytesEqual(sr, newRoot);
}

function isOdd(n: number): boolean {
  return n % 2 === 1;
}

function half(n: number): number {
  return Math.floor(n / 2);
}

/** False for 0 too: floorLog2(0) is 0, and 2^0 is 1. */
function isPowerOfTwo(n: number): boolean {
  return 2 ** floorLog2(n) === n;
}

function isTreeSize(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

function assertTreeSize(n: number): void {
  if (!isTreeSize(n)) throw new RangeError(`invalid tree size ${n}`);
}

function isHash(bytes: unknown): bytes is Uint8Array {
  return bytes instanceof Uint8Array && bytes.length === HASH_SIZE;
}

// ---------------------------------------------------------------------------------------------------------
// Compact range ("frontier"): the roots of the perfect subtrees covering [0, size).

export interface CompactRangeJson {
  size: number;
  /** Base64 roots of the perfect subtrees, largest (leftmost) first: one per set bit of `size`. */
  hashes: string[];
}

/**
 * Everything needed to append leaves and compute the root in O(log n) without reading old leaves: the roots
 * of the perfect subtrees the binary digits of `size` decompose [0, size) into.
 */
export class CompactRange {
  #size: number;
  #hashes: Uint8Array[];

  private constructor(size: number, hashes: Uint8Array[]) {
    this.#size = size;
    this.#hashes = hashes;
  }

  static empty(): CompactRange {
    return new CompactRange(0, []);
  }

  static fromLeafHashes(leafHashes: Iterable<Uint8Array>): CompactRange {
    const range = CompactRange.empty();
    for (const leaf of leafHashes) range.append(leaf);
    return range;
  }

  static fromJSON(json: unknown): CompactRange {
    const { size, hashes } = (json ?? {}) as Partial<CompactRangeJson>;
    if (!isTreeSize(size as number))
      throw new TypeError('compact range: size must be a non-negative integer');
    if (!Array.isArray(hashes) || hashes.length !== countSetBits(size as number)) {
      throw new TypeError(`compact range: a tree of size ${size} needs one hash per set bit of its size`);
    }
    const decoded = hashes.map((hash) => (typeof hash === 'string' ? fromBase64(hash) : undefined));
    if (!decoded.every(isHash)) {
      throw new TypeError(`compact range: hashes must be base64 ${HASH_SIZE}-byte values`);
    }
    return new CompactRange(size as number, decoded);
  }

  get size(): number {
    return this.#size;
  }

  /**
   * Appends one leaf hash. `onPerfectSubtree` is told of every perfect subtree this completes (the leaf
   * itself at level 0, then each merge), so a store can persist them and later serve proofs through
   * {@link subtreeRootFromPerfect} without loading leaves.
   */
  append(leaf: Uint8Array, onPerfectSubtree?: (subtree: PerfectSubtree, hash: Uint8Array) => void): void {
    if (!isHash(leaf)) throw new TypeError(`leaf hash must be ${HASH_SIZE} bytes`);
    if (this.#size >= Number.MAX_SAFE_INTEGER) throw new RangeError('compact range is full');
    let hash = leaf;
    let level = 0;
    let index = this.#size;
    onPerfectSubtree?.({ level, index }, hash);
    // Each trailing 1 bit of the old size is a perfect subtree of the same height as the one just completed.
    while (isOdd(index)) {
      hash = nodeHash(this.#hashes.pop()!, hash);
      level++;
      index = half(index);
      onPerfectSubtree?.({ level, index }, hash);
    }
    this.#hashes.push(hash);
    this.#size++;
  }

  root(): Uint8Array {
    return this.#size === 0 ? emptyRoot() : foldRight(this.#hashes);
  }

  clone(): CompactRange {
    return new CompactRange(this.#size, [...this.#hashes]);
  }

  toJSON(): CompactRangeJson {
    return { size: this.#size, hashes: this.#hashes.map(toBase64) };
  }
}

function countSetBits(n: number): number {
  let count = 0;
  for (let rest = n; rest > 0; rest = half(rest)) count += rest % 2;
  return count;
}
