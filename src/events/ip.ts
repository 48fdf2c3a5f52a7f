import { isIP } from 'node:net';

export type IpFamily = 4 | 6;

/** An address with a prefix length; a single host has the family's full length (32 or 128). */
export interface IpNetwork {
  address: string;
  prefix: number;
  family: IpFamily;
}

const FULL_PREFIX = { 4: 32, 6: 128 } as const;
const UNIT_BITS = { 4: 8, 6: 16 } as const;

export function isIpAddress(s: string): boolean {
  return ipFamily(s) !== null;
}

/**
 * Parses `10.0.0.1`, `10.0.0.0/8`, `2001:db8::/32`, `::1` into a canonical network.
 * Host bits to the right of the prefix are cleared (`10.1.2.3/8` becomes `10.0.0.0/8`),
 * because PostgreSQL's `cidr` type rejects them.
 */
export function parseIpOrCidr(s: string): IpNetwork | null {
  const slash = s.indexOf('/');
  const addressText = slash === -1 ? s : s.slice(0, slash);
  const family = ipFamily(addressText);
  if (family === null) return null;

  const prefix = slash === -1 ? FULL_PREFIX[family] : parsePrefix(s.slice(slash + 1), family);
  if (prefix === null) return null;

  const units = family === 4 ? ipv4Units(addressText) : ipv6Units(addressText);
  const network = clearHostBits(units, UNIT_BITS[family], prefix);
  return { address: family === 4 ? network.join('.') : formatIpv6(network), prefix, family };
}

/** Canonical `address/prefix`, always with the prefix; accepted by PostgreSQL `inet` and `cidr`. */
export function formatCidr(network: Pick<IpNetwork, 'address' | 'prefix'>): string {
  const canonical = canonicalNetwork(network);
  return `${canonical.address}/${canonical.prefix}`;
}

/** Like {@link formatCidr}, but a single host is written as a bare address. */
export function formatIpOrCidr(network: Pick<IpNetwork, 'address' | 'prefix'>): string {
  const canonical = canonicalNetwork(network);
  return canonical.prefix === FULL_PREFIX[canonical.family] ? canonical.address : formatCidr(canonical);
}

function canonicalNetwork(network: Pick<IpNetwork, 'address' | 'prefix'>): IpNetwork {
  const parsed = parseIpOrCidr(`${network.address}/${network.prefix}`);
  if (parsed === null) throw new RangeError(`Not a valid IP network: ${network.address}/${network.prefix}`);
  return parsed;
}

function ipFamily(s: string): IpFamily | null {
  // node:net accepts IPv6 zone ids (`fe80::1%eth0`), which PostgreSQL's inet type does not.
  if (s.includes('%')) return null;
  const family = isIP(s);
  return family === 4 || family === 6 ? family : null;
}

function parsePrefix(text: string, family: IpFamily): number | null {
  if (!/^\d{1,3}$/.test(text)) return null;
  const prefix = Number(text);
  return prefix <= FULL_PREFIX[family] ? prefix : null;
}

function ipv4Units(address: string): number[] {
  return address.split('.').map(Number);
}

/** The eight 16-bit groups of an address already validated by node:net. */
function ipv6Units(address: string): number[] {
  const [head = '', tail] = address.split('::');
  const left = ipv6Groups(head);
  if (tail === undefined) return left;
  const right = ipv6Groups(tail);
  const zeros = new Array<number>(8 - left.length - right.length).fill(0);
  return [...left, ...zeros, ...right];
}

function ipv6Groups(part: string): number[] {
  if (part === '') return [];
  return part
    .split(':')
    .flatMap((group) => (group.includes('.') ? ipv4AsGroups(group) : [parseInt(group, 16)]));
}

function ipv4AsGroups(address: string): number[] {
  const [a = 0, b = 0, c = 0, d = 0] = ipv4Units(address);
  return [(a << 8) | b, (c << 8) | d];
}

function clearHostBits(units: number[], unitBits: number, prefix: number): number[] {
  return units.map((unit, i) => {
    const keptBits = Math.min(Math.max(prefix - i * unitBits, 0), unitBits);
    const mask = ((1 << keptBits) - 1) << (unitBits - keptBits);
    return unit & mask;
  });
}

/** RFC 5952 text form: lowercase, no leading zeros, the longest run of two or more zero groups as `::`. */
function formatIpv6(groups: number[]): string {
  if (isIpv4Mapped(groups)) {
    const [high = 0, low = 0] = groups.slice(6);
    return `::ffff:${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
  }
  const hex = groups.map((group) => group.toString(16));
  const run = longestZeroRun(groups);
  if (run.length < 2) return hex.join(':');
  return `${hex.slice(0, run.start).join(':')}::${hex.slice(run.start + run.length).join(':')}`;
}

function isIpv4Mapped(groups: number[]): boolean {
  return groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff;
}

function longestZeroRun(groups: number[]): { start: number; length: number } {
  let best = { start: 0, length: 0 };
  let start = 0;
  groups.forEach((group, i) => {
    if (group !== 0) {
      start = i + 1;
    } else if (i + 1 - start > best.length) {
      best = { start, length: i + 1 - start };
    }
  });
  return best;
}
