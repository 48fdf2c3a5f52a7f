import { formatIpv4, type IpAddress, matchesPrefix, parseIpAddress } from './ip-address.ts';

/** Kinds of address a destination may not reach unless DESTINATION_ALLOW_NETWORKS lets it. */
export type AddressCategory =
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'cgnat'
  | 'unspecified'
  | 'multicast'
  | 'broadcast'
  | 'reserved'
  | 'documentation'
  | 'benchmark'
  | 'cloud-metadata';

export const CATEGORY_DESCRIPTIONS: Readonly<Record<AddressCategory, string>> = {
  loopback: 'a loopback address',
  private: 'a private address',
  'link-local': 'a link-local address',
  cgnat: 'a carrier-grade NAT (shared) address',
  unspecified: 'an unspecified address',
  multicast: 'a multicast address',
  broadcast: 'the broadcast address',
  reserved: 'a reserved address',
  documentation: 'a documentation address',
  benchmark: 'a benchmarking address',
  'cloud-metadata': 'a cloud metadata address',
};

export const ALLOW_VARIABLE = 'DESTINATION_ALLOW_NETWORKS';

interface Range {
  bytes: Uint8Array;
  prefix: number;
  category: AddressCategory;
}

const range = (cidr: string, category: AddressCategory): Range => {
  const [address, prefix] = cidr.split('/') as [string, string];
  return { bytes: parseIpAddress(address)!.bytes, prefix: Number(prefix), category };
};

/** Checked in order: the metadata hosts come before the ranges that hold them. */
const IPV4_RANGES: readonly Range[] = [
  range('169.254.169.254/32', 'cloud-metadata'), // AWS, GCP, Azure, OCI, DigitalOcean…
  range('169.254.170.2/32', 'cloud-metadata'), // AWS ECS task metadata
  range('100.100.100.200/32', 'cloud-metadata'), // Alibaba Cloud
  range('0.0.0.0/8', 'unspecified'),
  range('10.0.0.0/8', 'private'),
  range('100.64.0.0/10', 'cgnat'),
  range('127.0.0.0/8', 'loopback'),
  range('169.254.0.0/16', 'link-local'),
  range('172.16.0.0/12', 'private'),
  range('192.0.0.0/24', 'reserved'), // IETF protocol assignments
  range('192.0.2.0/24', 'documentation'),
  range('192.88.99.0/24', 'reserved'), // former 6to4 relay anycast
  range('192.168.0.0/16', 'private'),
  range('198.18.0.0/15', 'benchmark'),
  range('198.51.100.0/24', 'documentation'),
  range('203.0.113.0/24', 'documentation'),
  range('224.0.0.0/4', 'multicast'),
  range('255.255.255.255/32', 'broadcast'),
  range('240.0.0.0/4', 'reserved'),
];

const IPV6_RANGES: readonly Range[] = [
  range('fd00:ec2::254/128', 'cloud-metadata'), // AWS over IPv6
  range('::/128', 'unspecified'),
  range('::1/128', 'loopback'),
  range('64:ff9b:1::/48', 'private'), // local-use IPv4/IPv6 translation (RFC 8215)
  range('100::/64', 'reserved'), // discard-only
  range('2001:2::/48', 'benchmark'),
  range('2001:db8::/32', 'documentation'),
  range('3fff::/20', 'documentation'),
  range('fc00::/7', 'private'), // unique local (RFC 4193)
  range('fe80::/10', 'link-local'),
  range('fec0::/10', 'private'), // deprecated site-local
  range('ff00::/8', 'multicast'),
];

/** IPv6 ranges that carry an IPv4 address: where it sits, and what the range is when that IPv4 is public. */
const EMBEDDING_RANGES: readonly { range: Range; at: number; publicCategory: AddressCategory | null }[] = [
  { range: range('::ffff:0:0/96', 'reserved'), at: 12, publicCategory: null }, // IPv4-mapped
  { range: range('::/96', 'reserved'), at: 12, publicCategory: 'reserved' }, // IPv4-compatible (deprecated)
  { range: range('64:ff9b::/96', 'reserved'), at: 12, publicCategory: null }, // NAT64
  { range: range('2002::/16', 'reserved'), at: 2, publicCategory: null }, // 6to4
];

export interface AddressClass {
  category: AddressCategory;
  /** The IPv4 address inside an IPv6 one (mapped, NAT64, 6to4) when the category is that address's. */
  embeddedIpv4: string | null;
}

const firstMatch = (ranges: readonly Range[], bytes: Uint8Array) =>
  ranges.find((candidate) => matchesPrefix(bytes, candidate.bytes, candidate.prefix))?.category ?? null;

/** The kind of a parsed address, or null for a public (globally routable) one. */
function classifyIp(ip: IpAddress): AddressClass | null {
  if (ip.family === 4) {
    const category = firstMatch(IPV4_RANGES, ip.bytes);
    return category ? { category, embeddedIpv4: null } : null;
  }
  const own = firstMatch(IPV6_RANGES, ip.bytes);
  if (own) return { category: own, embeddedIpv4: null };
  for (const { range: embedding, at, publicCategory } of EMBEDDING_RANGES) {
    if (!matchesPrefix(ip.bytes, embedding.bytes, embedding.prefix)) continue;
    const ipv4 = ip.bytes.subarray(at, at + 4);
    const category = firstMatch(IPV4_RANGES, ipv4);
    if (category) return { category, embeddedIpv4: formatIpv4(ipv4) };
    return publicCategory ? { category: publicCategory, embeddedIpv4: null } : null;
  }
  return null;
}

/** What kind of address `address` (IPv4 or IPv6 text) is; null when it is public. Throws for a non-address. */
export function classifyAddress(address: string): AddressClass | null {
  const ip = parseIpAddress(address);
  if (!ip) throw new TypeError(`"${address}" is not an IP address`);
  return classifyIp(ip);
}

export interface Network {
  family: 4 | 6;
  bytes: Uint8Array;
  prefix: number;
  /** As written in the list. */
  text: string;
}

function parseNetwork(entry: string): Network | string {
  const [address, prefixText, extra] = entry.split('/');
  const ip = parseIpAddress(address!);
  if (!ip || address!.includes('%') || extra !== undefined) {
    return `"${entry}" is not an IP address or CIDR range (like 10.0.0.0/8 or fd00::/8)`;
  }
  const maxPrefix = ip.family === 4 ? 32 : 128;
  if (prefixText === undefined) return { ...ip, prefix: maxPrefix, text: entry };
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > maxPrefix) {
    return `"${entry}": the prefix length must be 0 to ${maxPrefix} for an IPv${ip.family} range`;
  }
  return { ...ip, prefix: Number(prefixText), text: entry };
}

/** Every bad entry of a comma-separated CIDR list, each named; empty when the list is valid. */
export function networkListProblems(list: string): string[] {
  return splitList(list)
    .map(parseNetwork)
    .filter((parsed): parsed is string => typeof parsed === 'string');
}

/** A comma-separated list of CIDR ranges (a bare address is one host); throws naming the bad entries. */
export function parseNetworkList(list: string): Network[] {
  const problems = networkListProblems(list);
  if (problems.length > 0) throw new Error(`${ALLOW_VARIABLE}: ${problems.join('; ')}`);
  return splitList(list).map((entry) => parseNetwork(entry) as Network);
}

const splitList = (list: string) =>
  list
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);

const inNetworks = (ip: IpAddress, networks: readonly Network[]) =>
  networks.some(
    (network) => network.family === ip.family && matchesPrefix(ip.bytes, network.bytes, network.prefix),
  );

/** Why an address may not be reached. */
export interface AddressRefusal extends AddressClass {
  address: string;
}

/**
 * Refuses the non-public addresses of `classifyAddress` unless they are inside one of the allowed
 * networks. An address whose category comes from an embedded IPv4 (e.g. `::ffff:127.0.0.1`) is also
 * allowed when that IPv4 is: it is the same host.
 */
export class AddressPolicy {
  readonly allowed: readonly Network[];

  constructor(allowNetworks: string) {
    this.allowed = parseNetworkList(allowNetworks);
  }

  refusal(address: string): AddressRefusal | null {
    const ip = parseIpAddress(address);
    if (!ip) throw new TypeError(`"${address}" is not an IP address`);
    const found = classifyIp(ip);
    if (!found || inNetworks(ip, this.allowed)) return null;
    if (found.embeddedIpv4 && inNetworks(parseIpAddress(found.embeddedIpv4)!, this.allowed)) return null;
    return { address, ...found };
  }
}

/**
 * The refusal as users read it: `127.0.0.1 is a loopback address; allow it with …`, or with the
 * name that resolved to it: `localhost resolves to 127.0.0.1, a loopback address; allow it with …`.
 */
export function describeRefusal(refusal: AddressRefusal, hostname: string | null = null): string {
  const kind = CATEGORY_DESCRIPTIONS[refusal.category];
  const what = refusal.embeddedIpv4
    ? `${refusal.address}, which embeds ${refusal.embeddedIpv4}, ${kind}`
    : `${refusal.address}, ${kind}`;
  const sentence =
    hostname !== null && hostname !== refusal.address
      ? `${hostname} resolves to ${what}`
      : refusal.embeddedIpv4
        ? `${refusal.address} embeds ${refusal.embeddedIpv4}, ${kind}`
        : `${refusal.address} is ${kind}`;
  return `${sentence}; allow it with ${ALLOW_VARIABLE}`;
}
