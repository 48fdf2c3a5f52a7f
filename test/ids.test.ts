import { describe, expect, it } from 'vitest';
import { uuidv7 } from '../src/ids.ts';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('uuidv7', () => {
  it('makes distinct RFC 9562 version 7 ids in creation order, across refills of its random pool', () => {
    // 1,000 ids draw 16 KiB and more of random bytes: several refills of the 4 KiB pool.
    const now = Date.now();
    const ids = Array.from({ length: 1000 }, (_, index) => uuidv7(now + Math.floor(index / 100)));
    for (const id of ids) expect(id).toMatch(UUID_V7);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
    expect(Number.parseInt(ids[0]!.replace('-', '').slice(0, 12), 16)).toBe(now);
  });

  it('keeps the random part random: no two ids share their last 62 bits', () => {
    const tails = new Set(Array.from({ length: 5000 }, () => uuidv7().slice(19)));
    expect(tails.size).toBe(5000);
  });
});
