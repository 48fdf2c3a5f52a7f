import { randomBytes } from 'node:crypto';

let lastMillis = 0;
let sequence = 0;

/** Random bytes drawn from the kernel 4 KiB at a time rather than once or twice per id. */
const RANDOM_POOL_BYTES = 4096;
let randomPool = Buffer.alloc(0);
let randomOffset = 0;

function takeRandom(count: number): Buffer {
  if (randomOffset + count > randomPool.length) {
    randomPool = randomBytes(RANDOM_POOL_BYTES);
    randomOffset = 0;
  }
  randomOffset += count;
  return randomPool.subarray(randomOffset - count, randomOffset);
}

/**
 * RFC 9562 UUIDv7: 48-bit Unix milliseconds, then a 12-bit per-process sequence (so ids made in the
 * same millisecond still sort in creation order), then 62 random bits.
 */
export function uuidv7(now = Date.now()): string {
  if (now > lastMillis) {
    lastMillis = now;
    sequence = takeRandom(2).readUInt16BE() & 0x1ff;
  } else {
    sequence += 1;
    if (sequence > 0xfff) {
      lastMillis += 1;
      sequence = 0;
    }
  }
  const bytes = takeRandom(16);
  bytes.writeUIntBE(lastMillis, 0, 6);
  bytes[6] = 0x70 | (sequence >> 8);
  bytes[7] = sequence & 0xff;
  bytes[8] = 0x80 | (bytes[8]! & 0x3f);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export type IdPrefix = 'org' | 'evt' | 'key' | 'hold' | 'dst';

/** `evt_0193…` for a stored uuid: type-tagged ids that are also Relay global ids. */
export function toPublicId(prefix: IdPrefix, uuid: string): string {
  return `${prefix}_${uuid.replaceAll('-', '')}`;
}

const UUID_HEX = /^[0-9a-f]{32}$/;

/** The stored uuid behind a public id, or null when `value` is not an id of that kind. Plain uuids are accepted too. */
export function fromPublicId(prefix: IdPrefix, value: string): string | null {
  const lower = value.toLowerCase();
  const hex = lower.startsWith(`${prefix}_`) ? lower.slice(prefix.length + 1) : lower.replaceAll('-', '');
  if (!UUID_HEX.test(hex)) return null;
  if (
    !lower.startsWith(`${prefix}_`) &&
    !/^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/.test(lower)
  ) {
    return null;
  }
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function prefixOf(publicId: string): string | null {
  const underscore = publicId.indexOf('_');
  return underscore > 0 ? publicId.slice(0, underscore) : null;
}
