/** A small seeded PRNG (mulberry32): the same seed makes the same data set on every machine. */
export class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(below: number): number {
    return Math.floor(this.next() * below);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  hex(length: number): string {
    let out = '';
    while (out.length < length) out += ((this.next() * 0x100000000) >>> 0).toString(16).padStart(8, '0');
    return out.slice(0, length);
  }
}

/** Draws indexes 0..n-1 with probability proportional to the given weights (binary search on the CDF). */
export class WeightedPicker {
  private readonly cumulative: Float64Array;

  constructor(weights: readonly number[]) {
    this.cumulative = new Float64Array(weights.length);
    let sum = 0;
    for (const [index, weight] of weights.entries()) {
      sum += weight;
      this.cumulative[index] = sum;
    }
    for (let index = 0; index < weights.length; index += 1) this.cumulative[index]! /= sum;
  }

  pick(random: Random): number {
    const target = random.next();
    let low = 0;
    let high = this.cumulative.length - 1;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (this.cumulative[middle]! < target) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  share(index: number): number {
    return this.cumulative[index]! - (index > 0 ? this.cumulative[index - 1]! : 0);
  }
}

/** Zipf weights 1/k^s for ranks 1..n. */
export const zipfWeights = (n: number, exponent: number) =>
  Array.from({ length: n }, (_, index) => 1 / (index + 1) ** exponent);
