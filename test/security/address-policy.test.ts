import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { receiverExcerpt } from '../../src/export/destinations/transport.ts';
import {
  AddressPolicy,
  classifyAddress,
  describeRefusal,
  networkListProblems,
  parseNetworkList,
} from '../../src/network/address-policy.ts';
import { matchesPrefix, parseIpAddress } from '../../src/network/ip-address.ts';

// Pure functions only: no address here is ever connected to.

/** [address, category, embedded IPv4] — the first and last address of each range, and its neighbours. */
const CLASSIFIED: [string, string | null, string | null][] = [
  ['0.0.0.0', 'unspecified', null],
  ['0.255.255.255', 'unspecified', null],
  ['1.0.0.0', null, null],
  ['9.255.255.255', null, null],
  ['10.0.0.0', 'private', null],
  ['10.255.255.255', 'private', null],
  ['11.0.0.0', null, null],
  ['100.63.255.255', null, null],
  ['100.64.0.0', 'cgnat', null],
  ['100.127.255.255', 'cgnat', null],
  ['100.128.0.0', null, null],
  ['100.100.100.200', 'cloud-metadata', null],
  ['100.100.100.201', 'cgnat', null],
  ['126.255.255.255', null, null],
  ['127.0.0.0', 'loopback', null],
  ['127.0.0.1', 'loopback', null],
  ['127.255.255.255', 'loopback', null],
  ['128.0.0.0', null, null],
  ['169.253.255.255', null, null],
  ['169.254.0.0', 'link-local', null],
  ['169.254.169.254', 'cloud-metadata', null],
  ['169.254.169.253', 'link-local', null],
  ['169.254.170.2', 'cloud-metadata', null],
  ['169.254.255.255', 'link-local', null],
  ['169.255.0.0', null, null],
  ['172.15.255.255', null, null],
  ['172.16.0.0', 'private', null],
  ['172.31.255.255', 'private', null],
  ['172.32.0.0', null, null],
  ['192.0.0.0', 'reserved', null],
  ['192.0.0.255', 'reserved', null],
  ['192.0.1.0', null, null],
  ['192.0.2.0', 'documentation', null],
  ['192.0.2.255', 'documentation', null],
  ['192.0.3.0', null, null],
  ['192.88.99.1', 'reserved', null],
  ['192.167.255.255', null, null],
  ['192.168.0.0', 'private', null],
  ['192.168.255.255', 'private', null],
  ['192.169.0.0', null, null],
  ['198.17.255.255', null, null],
  ['198.18.0.0', 'benchmark', null],
  ['198.19.255.255', 'benchmark', null],
  ['198.20.0.0', null, null],
  ['198.51.100.7', 'documentation', null],
  ['203.0.113.9', 'documentation', null],
  ['223.255.255.255', null, null],
  ['224.0.0.0', 'multicast', null],
  ['239.255.255.255', 'multicast', null],
  ['240.0.0.0', 'reserved', null],
  ['255.255.255.254', 'reserved', null],
  ['255.255.255.255', 'broadcast', null],
  ['8.8.8.8', null, null],
  ['93.184.216.34', null, null],
  // IPv6
  ['::', 'unspecified', null],
  ['::1', 'loopback', null],
  ['0:0:0:0:0:0:0:1', 'loopback', null],
  ['::2', 'unspecified', '0.0.0.2'],
  ['::ffff:127.0.0.1', 'loopback', '127.0.0.1'],
  ['::ffff:7f00:1', 'loopback', '127.0.0.1'],
  ['::ffff:10.1.2.3', 'private', '10.1.2.3'],
  ['::ffff:169.254.169.254', 'cloud-metadata', '169.254.169.254'],
  ['::ffff:0.0.0.0', 'unspecified', '0.0.0.0'],
  ['::ffff:8.8.8.8', null, null],
  ['::127.0.0.1', 'loopback', '127.0.0.1'],
  ['::8.8.8.8', 'reserved', null],
  ['64:ff9b::7f00:1', 'loopback', '127.0.0.1'],
  ['64:ff9b::192.168.1.1', 'private', '192.168.1.1'],
  ['64:ff9b::808:808', null, null],
  ['64:ff9b:1::1', 'private', null],
  ['2002:7f00:1::', 'loopback', '127.0.0.1'],
  ['2002:a9fe:a9fe::1', 'cloud-metadata', '169.254.169.254'],
  ['2002:808:808::1', null, null],
  ['100::1', 'reserved', null],
  ['100:0:0:1::', null, null],
  ['2001:2::1', 'benchmark', null],
  ['2001:3::1', null, null],
  ['2001:db8::1', 'documentation', null],
  ['2001:db9::1', null, null],
  ['3fff::1', 'documentation', null],
  ['3fff:fff::1', 'documentation', null],
  ['3fff:1000::1', null, null],
  ['fbff:ffff::1', null, null],
  ['fc00::', 'private', null],
  ['fd12:3456::1', 'private', null],
  ['fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'private', null],
  ['fd00:ec2::254', 'cloud-metadata', null],
  ['fd00:ec2::253', 'private', null],
  ['fe7f:ffff::1', null, null],
  ['fe80::', 'link-local', null],
  ['fe80::1%eth0', 'link-local', null],
  ['febf:ffff::1', 'link-local', null],
  ['fec0::1', 'private', null],
  ['feff::1', 'private', null],
  ['ff00::', 'multicast', null],
  ['ff02::1', 'multicast', null],
  ['2606:4700:4700::1111', null, null],
  ['2a00:1450:4001:80b::200e', null, null],
];

describe('the destination address classifier', () => {
  it.each(CLASSIFIED)('classifies %s as %s', (address, category, embeddedIpv4) => {
    expect(classifyAddress(address)).toEqual(category === null ? null : { category, embeddedIpv4 });
  });

  it('refuses to classify what is not an address', () => {
    for (const text of ['localhost', '127.1', '1.2.3.4.5', '::g', '']) {
      expect(() => classifyAddress(text)).toThrow(`"${text}" is not an IP address`);
    }
  });
});

describe('IP address parsing', () => {
  it('reads compressed, expanded and dotted-tail IPv6 to the same bytes', () => {
    const loopback = [...new Array(15).fill(0), 1];
    for (const text of ['::1', '0:0:0:0:0:0:0:1', '0::0:1', '::0.0.0.1']) {
      expect(Array.from(parseIpAddress(text)!.bytes)).toEqual(loopback);
    }
    expect(Array.from(parseIpAddress('1:2:3:4:5:6:7:8')!.bytes)).toEqual([
      0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8,
    ]);
    expect(Array.from(parseIpAddress('fe80::1%eth0')!.bytes.subarray(0, 2))).toEqual([0xfe, 0x80]);
    expect(parseIpAddress('10.20.30.40')).toEqual({ family: 4, bytes: Uint8Array.from([10, 20, 30, 40]) });
    expect(parseIpAddress('1::')!.family).toBe(6);
    expect(Array.from(parseIpAddress('1::')!.bytes)).toEqual([0, 1, ...new Array(14).fill(0)]);
    expect(parseIpAddress('example.com')).toBeNull();
  });

  it('matches prefixes bit by bit', () => {
    const bytes = (text: string) => parseIpAddress(text)!.bytes;
    expect(matchesPrefix(bytes('172.31.0.1'), bytes('172.16.0.0'), 12)).toBe(true);
    expect(matchesPrefix(bytes('172.32.0.1'), bytes('172.16.0.0'), 12)).toBe(false);
    expect(matchesPrefix(bytes('172.15.0.1'), bytes('172.16.0.0'), 12)).toBe(false);
    expect(matchesPrefix(bytes('10.0.0.1'), bytes('10.0.0.0'), 8)).toBe(true);
    expect(matchesPrefix(bytes('11.0.0.1'), bytes('10.0.0.0'), 8)).toBe(false);
    expect(matchesPrefix(bytes('1.2.3.4'), bytes('9.9.9.9'), 0)).toBe(true);
    expect(matchesPrefix(bytes('1.2.3.4'), bytes('1.2.3.4'), 32)).toBe(true);
    expect(matchesPrefix(bytes('1.2.3.5'), bytes('1.2.3.4'), 32)).toBe(false);
    expect(matchesPrefix(bytes('1.2.3.5'), bytes('1.2.3.4'), 31)).toBe(true);
  });
});

describe('DESTINATION_ALLOW_NETWORKS', () => {
  it('reads IPv4 and IPv6 ranges; a bare address is one host', () => {
    const networks = parseNetworkList(' 127.0.0.0/8 , ::1/128,10.1.2.3,fd00::/8,,2001:db8::1 ');
    expect(networks.map(({ family, prefix, text }) => ({ family, prefix, text }))).toEqual([
      { family: 4, prefix: 8, text: '127.0.0.0/8' },
      { family: 6, prefix: 128, text: '::1/128' },
      { family: 4, prefix: 32, text: '10.1.2.3' },
      { family: 6, prefix: 8, text: 'fd00::/8' },
      { family: 6, prefix: 128, text: '2001:db8::1' },
    ]);
    expect(parseNetworkList('')).toEqual([]);
    expect(parseNetworkList('0.0.0.0/0')[0]!.prefix).toBe(0);
  });

  it('names every bad entry', () => {
    expect(
      networkListProblems(
        '10.0.0.0/8,10.0.0.0/33,::/129,localhost,10.0.0.0/8/8,10.0.0.0/x,fe80::1%eth0,1.2.3/8',
      ),
    ).toEqual([
      '"10.0.0.0/33": the prefix length must be 0 to 32 for an IPv4 range',
      '"::/129": the prefix length must be 0 to 128 for an IPv6 range',
      '"localhost" is not an IP address or CIDR range (like 10.0.0.0/8 or fd00::/8)',
      '"10.0.0.0/8/8" is not an IP address or CIDR range (like 10.0.0.0/8 or fd00::/8)',
      '"10.0.0.0/x": the prefix length must be 0 to 32 for an IPv4 range',
      '"fe80::1%eth0" is not an IP address or CIDR range (like 10.0.0.0/8 or fd00::/8)',
      '"1.2.3/8" is not an IP address or CIDR range (like 10.0.0.0/8 or fd00::/8)',
    ]);
    expect(networkListProblems('10.0.0.0/-1')).toHaveLength(1);
    expect(networkListProblems('10.0.0.0/')).toHaveLength(1);
    expect(networkListProblems('10.0.0.0/1000')).toHaveLength(1);
    expect(() => parseNetworkList('127.0.0.0/8,nope')).toThrow(
      'DESTINATION_ALLOW_NETWORKS: "nope" is not an IP address or CIDR range',
    );
  });

  it('is checked at startup, naming the bad entry', () => {
    expect(() => loadConfig({ DESTINATION_ALLOW_NETWORKS: '127.0.0.0/8,10.0.0.0/40' })).toThrow(
      /DESTINATION_ALLOW_NETWORKS: "10\.0\.0\.0\/40": the prefix length must be 0 to 32/,
    );
    expect(loadConfig({ DESTINATION_ALLOW_NETWORKS: '127.0.0.0/8,::1/128' }).export.allowNetworks).toBe(
      '127.0.0.0/8,::1/128',
    );
    expect(loadConfig({}).export.allowNetworks).toBe('');
  });
});

describe('the address policy', () => {
  it('refuses every non-public address by default, loopback included', () => {
    const policy = new AddressPolicy('');
    for (const [address, category, embeddedIpv4] of CLASSIFIED) {
      expect(policy.refusal(address)).toEqual(category === null ? null : { address, category, embeddedIpv4 });
    }
  });

  it('allows what the list holds, and nothing next to it', () => {
    const policy = new AddressPolicy('127.0.0.0/8,::1/128,10.1.0.0/16,fd00:1::/32,169.254.169.254');
    expect(policy.refusal('127.0.0.1')).toBeNull();
    expect(policy.refusal('127.255.0.9')).toBeNull();
    expect(policy.refusal('::1')).toBeNull();
    expect(policy.refusal('10.1.200.3')).toBeNull();
    expect(policy.refusal('10.2.0.1')).toMatchObject({ category: 'private' });
    expect(policy.refusal('fd00:1:ffff::1')).toBeNull();
    expect(policy.refusal('fd00:2::1')).toMatchObject({ category: 'private' });
    expect(policy.refusal('169.254.169.254')).toBeNull();
    expect(policy.refusal('169.254.169.253')).toMatchObject({ category: 'link-local' });
    expect(policy.refusal('0.0.0.0')).toMatchObject({ category: 'unspecified' });
    expect(policy.refusal('::')).toMatchObject({ category: 'unspecified' });
    // An IPv4 range does not match IPv6 addresses with the same leading bytes.
    expect(new AddressPolicy('0.0.0.0/0').refusal('::1')).toMatchObject({ category: 'loopback' });
    expect(new AddressPolicy('::/0').refusal('127.0.0.1')).toMatchObject({ category: 'loopback' });
    expect(new AddressPolicy('::/0').refusal('::1')).toBeNull();
  });

  it('allows an IPv4 address inside IPv6 when its IPv4 range is allowed: the same host', () => {
    const policy = new AddressPolicy('127.0.0.0/8');
    expect(policy.refusal('::ffff:127.0.0.1')).toBeNull();
    expect(policy.refusal('64:ff9b::7f00:1')).toBeNull();
    expect(policy.refusal('::ffff:10.0.0.1')).toMatchObject({
      category: 'private',
      embeddedIpv4: '10.0.0.1',
    });
    expect(new AddressPolicy('::ffff:0:0/96').refusal('::ffff:10.0.0.1')).toBeNull();
  });

  it('throws on a non-address, and on a bad list when built', () => {
    expect(() => new AddressPolicy('').refusal('localhost')).toThrow('"localhost" is not an IP address');
    expect(() => new AddressPolicy('10.0.0.0/99')).toThrow('DESTINATION_ALLOW_NETWORKS: "10.0.0.0/99"');
  });

  it('says what was refused and how to allow it', () => {
    const policy = new AddressPolicy('');
    expect(describeRefusal(policy.refusal('127.0.0.1')!)).toBe(
      '127.0.0.1 is a loopback address; allow it with DESTINATION_ALLOW_NETWORKS',
    );
    expect(describeRefusal(policy.refusal('127.0.0.1')!, 'localhost')).toBe(
      'localhost resolves to 127.0.0.1, a loopback address; allow it with DESTINATION_ALLOW_NETWORKS',
    );
    expect(describeRefusal(policy.refusal('127.0.0.1')!, '127.0.0.1')).toBe(
      '127.0.0.1 is a loopback address; allow it with DESTINATION_ALLOW_NETWORKS',
    );
    expect(describeRefusal(policy.refusal('::ffff:7f00:1')!)).toBe(
      '::ffff:7f00:1 embeds 127.0.0.1, a loopback address; allow it with DESTINATION_ALLOW_NETWORKS',
    );
    expect(describeRefusal(policy.refusal('::ffff:7f00:1')!, 'mapped.test')).toBe(
      'mapped.test resolves to ::ffff:7f00:1, which embeds 127.0.0.1, a loopback address; allow it with DESTINATION_ALLOW_NETWORKS',
    );
    const phrases: Record<string, string> = {
      '10.0.0.1': 'a private address',
      '169.254.1.1': 'a link-local address',
      '100.64.0.1': 'a carrier-grade NAT (shared) address',
      '0.0.0.0': 'an unspecified address',
      '224.0.0.1': 'a multicast address',
      '255.255.255.255': 'the broadcast address',
      '240.0.0.1': 'a reserved address',
      '192.0.2.1': 'a documentation address',
      '198.18.0.1': 'a benchmarking address',
      '169.254.169.254': 'a cloud metadata address',
    };
    for (const [address, phrase] of Object.entries(phrases)) {
      expect(describeRefusal(policy.refusal(address)!)).toBe(
        `${address} is ${phrase}; allow it with DESTINATION_ALLOW_NETWORKS`,
      );
    }
  });
});

describe('receiver text in errors', () => {
  it('is cut to 256 bytes without splitting a character, with control characters and space runs collapsed', () => {
    expect(receiverExcerpt('  internal\n\tsecret\u0000\u001b[31m  ')).toBe('internal secret [31m');
    expect(receiverExcerpt('x'.repeat(256))).toBe('x'.repeat(256));
    expect(receiverExcerpt('x'.repeat(257))).toBe('x'.repeat(256));
    // 255 ASCII bytes, then a 3-byte character that would straddle the limit: left out whole.
    expect(receiverExcerpt(`${'x'.repeat(255)}€€`)).toBe('x'.repeat(255));
    expect(receiverExcerpt(`${'x'.repeat(253)}€€`)).toBe(`${'x'.repeat(253)}€`);
    expect(Buffer.byteLength(receiverExcerpt('é'.repeat(400)))).toBe(256);
    expect(receiverExcerpt('')).toBe('');
  });
});
