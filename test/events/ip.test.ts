import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatCidr, formatIpOrCidr, isIpAddress, parseIpOrCidr } from '../../src/events/ip.ts';

describe('isIpAddress', () => {
  it.each([
    '10.0.0.1',
    '0.0.0.0',
    '255.255.255.255',
    '::',
    '::1',
    '2001:db8::1',
    '2001:DB8:0:0:0:0:0:1',
    '::ffff:192.0.2.1',
    '1:2:3:4:5:6:7:8',
  ])('accepts %s', (address) => {
    expect(isIpAddress(address)).toBe(true);
  });

  it.each([
    '',
    'localhost',
    '10.0.0',
    '10.0.0.256',
    '010.0.0.1',
    ' 10.0.0.1',
    '10.0.0.1/8',
    '1::2::3',
    '1:2:3:4:5:6:7:8:9',
    'fe80::1%eth0',
    '2001:db8::g',
  ])('rejects %j', (text) => {
    expect(isIpAddress(text)).toBe(false);
  });
});

describe('parseIpOrCidr', () => {
  it.each([
    ['10.0.0.1', { address: '10.0.0.1', prefix: 32, family: 4 }],
    ['10.0.0.0/8', { address: '10.0.0.0', prefix: 8, family: 4 }],
    ['0.0.0.0/0', { address: '0.0.0.0', prefix: 0, family: 4 }],
    ['192.168.1.77/32', { address: '192.168.1.77', prefix: 32, family: 4 }],
    ['::1', { address: '::1', prefix: 128, family: 6 }],
    ['::', { address: '::', prefix: 128, family: 6 }],
    ['2001:db8::/32', { address: '2001:db8::', prefix: 32, family: 6 }],
    ['::/0', { address: '::', prefix: 0, family: 6 }],
    ['2001:DB8:0000:0000:0000:0000:0000:0001', { address: '2001:db8::1', prefix: 128, family: 6 }],
    ['::ffff:192.0.2.1', { address: '::ffff:192.0.2.1', prefix: 128, family: 6 }],
    ['::FFFF:c000:0201', { address: '::ffff:192.0.2.1', prefix: 128, family: 6 }],
    ['64:ff9b::192.0.2.1', { address: '64:ff9b::c000:201', prefix: 128, family: 6 }],
  ] as const)('parses %s', (text, expected) => {
    expect(parseIpOrCidr(text)).toEqual(expected);
  });

  it.each([
    ['10.1.2.3/8', '10.0.0.0'],
    ['10.1.2.3/20', '10.1.0.0'],
    ['10.1.255.3/23', '10.1.254.0'],
    ['2001:db8:abcd:1234::1/48', '2001:db8:abcd::'],
    ['2001:db8:abcd:12ff::1/55', '2001:db8:abcd:1200::'],
  ])('clears host bits to the right of the prefix: %s → %s', (text, address) => {
    expect(parseIpOrCidr(text)?.address).toBe(address);
  });

  it.each([
    ['1:0:0:1:0:0:0:1', '1:0:0:1::1'],
    ['1:0:0:0:1:0:0:1', '1::1:0:0:1'],
    ['1:0:1:0:1:0:1:0', '1:0:1:0:1:0:1:0'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['1:0:0:0:0:0:0:0', '1::'],
    ['2001:0db8:0000:0000:0001:0000:0000:0001', '2001:db8::1:0:0:1'],
  ])('writes %s in RFC 5952 form %s', (text, address) => {
    expect(parseIpOrCidr(text)?.address).toBe(address);
  });

  it.each([
    '',
    'garbage',
    '10.0.0.0/33',
    '2001:db8::/129',
    '10.0.0.0/',
    '10.0.0.0/-1',
    '10.0.0.0/+8',
    '10.0.0.0/8.0',
    '10.0.0.0/0x8',
    '10.0.0.0/8/8',
    '10.0.0.0 /8',
    '/8',
    '10.0.0/8',
    'fe80::1%eth0/64',
  ])('rejects %j', (text) => {
    expect(parseIpOrCidr(text)).toBeNull();
  });
});

describe('formatCidr and formatIpOrCidr', () => {
  it.each([
    [{ address: '10.0.0.0', prefix: 8 }, '10.0.0.0/8', '10.0.0.0/8'],
    [{ address: '10.9.9.9', prefix: 8 }, '10.0.0.0/8', '10.0.0.0/8'],
    [{ address: '10.1.2.3', prefix: 32 }, '10.1.2.3/32', '10.1.2.3'],
    [{ address: '2001:DB8::', prefix: 32 }, '2001:db8::/32', '2001:db8::/32'],
    [{ address: '::1', prefix: 128 }, '::1/128', '::1'],
  ])('%j → %s and %s', (network, cidr, ipOrCidr) => {
    expect(formatCidr(network)).toBe(cidr);
    expect(formatIpOrCidr(network)).toBe(ipOrCidr);
  });

  it('refuses to format something that is not a network', () => {
    expect(() => formatCidr({ address: 'nope', prefix: 8 })).toThrow(RangeError);
    expect(() => formatCidr({ address: '10.0.0.0', prefix: 40 })).toThrow(RangeError);
  });
});

describe('properties', () => {
  const v4Network = fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 32 }));
  const v6Network = fc.tuple(fc.ipV6(), fc.integer({ min: 0, max: 128 }));

  it('every generated address is recognised', () => {
    fc.assert(fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), (address) => isIpAddress(address)));
  });

  it('canonical form is a fixed point', () => {
    fc.assert(
      fc.property(fc.oneof(v4Network, v6Network), ([address, prefix]) => {
        const cidr = formatCidr({ address, prefix });
        expect(formatCidr(parseIpOrCidr(cidr)!)).toBe(cidr);
        expect(parseIpOrCidr(cidr)?.prefix).toBe(prefix);
      }),
    );
  });

  it('IPv6 text matches the WHATWG URL serialiser (RFC 5952 apart from IPv4-mapped addresses)', () => {
    fc.assert(
      fc.property(fc.ipV6(), (address) => {
        const canonical = parseIpOrCidr(address)!.address;
        fc.pre(!canonical.startsWith('::ffff:'));
        expect(canonical).toBe(new URL(`http://[${address}]/`).hostname.slice(1, -1));
      }),
    );
  });
});
