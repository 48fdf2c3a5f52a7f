import { isIP } from 'node:net';

/** An IP address as its network-order bytes: 4 for IPv4, 16 for IPv6. */
export interface IpAddress {
  family: 4 | 6;
  bytes: Uint8Array;
}

/** Parses a textual IPv4 or IPv6 address (an IPv6 zone id such as `%eth0` is ignored); null if it is not one. */
export function parseIpAddress(text: string): IpAddress | null {
  const address = text.replace(/%.*$/, '');
  const family = isIP(address);
  if (family === 4) return { family: 4, bytes: Uint8Array.from(address.split('.'), Number) };
  if (family === 6) return { family: 6, bytes: ipv6Bytes(address) };
  return null;
}

/** Bytes of an address `isIP` accepted as IPv6: `::` compression and a dotted IPv4 tail allowed. */
function ipv6Bytes(address: string): Uint8Array {
  const [head, tail] = address.includes('::') ? address.split('::') : [address, null];
  const groups = (part: string | null | undefined): number[] =>
    part
      ? part.split(':').flatMap((group) => {
          if (!group.includes('.')) return [Number.parseInt(group, 16)];
          const [a, b, c, d] = group.split('.').map(Number) as [number, number, number, number];
          return [(a << 8) | b, (c << 8) | d];
        })
      : [];
  const front = groups(head);
  const back = groups(tail);
  const all =
    tail === null ? front : [...front, ...new Array<number>(8 - front.length - back.length).fill(0), ...back];
  const bytes = new Uint8Array(16);
  all.forEach((group, index) => {
    bytes[index * 2] = group >> 8;
    bytes[index * 2 + 1] = group & 0xff;
  });
  return bytes;
}

/** Whether the first `prefix` bits of `bytes` equal those of `network` (same length). */
export function matchesPrefix(bytes: Uint8Array, network: Uint8Array, prefix: number): boolean {
  const whole = prefix >> 3;
  for (let index = 0; index < whole; index++) if (bytes[index] !== network[index]) return false;
  const rest = prefix & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (bytes[whole]! & mask) === (network[whole]! & mask);
}

export const formatIpv4 = (bytes: Uint8Array): string => Array.from(bytes).join('.');
