import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CanonicalJsonError, canonicalize } from '../../src/integrity/canonical-json.ts';

function doubleFromBits(bits: string): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, BigInt(`0x${bits}`));
  return view.getFloat64(0);
}

/** `[1, <hole>, 3]`: index 1 is absent, not undefined. */
function holeyArray(): unknown[] {
  const array: unknown[] = [1];
  array[2] = 3;
  return array;
}

describe('canonicalize (RFC 8785)', () => {
  it('reproduces the RFC 8785 §3.2.2 example', () => {
    const input = String.raw`{
      "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
      "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
      "literals": [null, true, false]
    }`;
    expect(canonicalize(JSON.parse(input))).toBe(
      String.raw`{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}`,
    );
  });

  it('sorts property names by UTF-16 code units (RFC 8785 §3.2.3 example)', () => {
    const input = String.raw`{
      "\u20ac": "Euro Sign",
      "\r": "Carriage Return",
      "\ufb33": "Hebrew Letter Dalet With Dagesh",
      "1": "One",
      "\ud83d\ude00": "Emoji: Grinning Face",
      "\u0080": "Control",
      "\u00f6": "Latin Small Letter O With Diaeresis"
    }`;
    // The emoji (U+1F600, surrogates D83D DE00) sorts before U+FB33 by code units, after it by code points.
    expect(canonicalize(JSON.parse(input))).toBe(
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis",' +
        '"\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
  });

  it('serializes numbers as ECMAScript does (RFC 8785 Appendix B)', () => {
    const table: [string, string][] = [
      ['0000000000000000', '0'],
      ['8000000000000000', '0'],
      ['0000000000000001', '5e-324'],
      ['8000000000000001', '-5e-324'],
      ['7fefffffffffffff', '1.7976931348623157e+308'],
      ['ffefffffffffffff', '-1.7976931348623157e+308'],
      ['4340000000000000', '9007199254740992'],
      ['c340000000000000', '-9007199254740992'],
      ['4430000000000000', '295147905179352830000'],
      ['44b52d02c7e14af5', '9.999999999999997e+22'],
      ['44b52d02c7e14af6', '1e+23'],
      ['44b52d02c7e14af7', '1.0000000000000001e+23'],
      ['444b1ae4d6e2ef4e', '999999999999999700000'],
      ['444b1ae4d6e2ef4f', '999999999999999900000'],
      ['444b1ae4d6e2ef50', '1e+21'],
      ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
      ['3eb0c6f7a0b5ed8d', '0.000001'],
      ['41b3de4355555553', '333333333.3333332'],
      ['41b3de4355555554', '333333333.33333325'],
      ['41b3de4355555555', '333333333.3333333'],
      ['41b3de4355555556', '333333333.3333334'],
      ['41b3de4355555557', '333333333.33333343'],
      ['becbf647612f3696', '-0.0000033333333333333333'],
      ['43143ff3c1cb0959', '1424953923781206.2'],
    ];
    for (const [bits, expected] of table) expect(canonicalize(doubleFromBits(bits)), bits).toBe(expected);
    expect(canonicalize(1e21)).toBe('1e+21');
    // Parsed from text: the literal has more digits than a double holds, which is the point of the example.
    expect(canonicalize(Number('333333333.33333329'))).toBe('333333333.3333333');
    expect(canonicalize(-0)).toBe('0');
  });

  it('rejects NaN and the infinities, which JSON cannot carry', () => {
    expect(() => canonicalize(doubleFromBits('7fffffffffffffff'))).toThrow(
      /NaN is not a finite number at \$/,
    );
    expect(() => canonicalize(doubleFromBits('7ff0000000000000'))).toThrow(/Infinity/);
    expect(() => canonicalize({ a: [1, { b: -Infinity }] })).toThrow(
      /-Infinity is not a finite number at \$\.a\[1\]\.b/,
    );
  });

  it('escapes strings as JCS requires', () => {
    expect(canonicalize('\b\t\n\f\r')).toBe(String.raw`"\b\t\n\f\r"`);
    expect(canonicalize('\u0000\u001f\u007f')).toBe('"\\u0000\\u001f\u007f"');
    expect(canonicalize('\u2028é/"\\')).toBe('"\u2028é/\\"\\\\"');
  });

  it('writes no whitespace and keeps empty containers', () => {
    expect(canonicalize({ b: [], a: {}, c: [[{}]] })).toBe('{"a":{},"b":[],"c":[[{}]]}');
    expect(canonicalize([null, true, false, 'x', 1.5])).toBe('[null,true,false,"x",1.5]');
  });

  it.each([
    ['undefined in an array', [1, undefined], /undefined is not a JSON value at \$\[1\]/],
    ['a hole in a sparse array', holeyArray(), /undefined is not a JSON value at \$\[1\]/],
    ['an undefined property', { a: undefined }, /at \$\.a/],
    ['a function', { f: () => 1 }, /function is not a JSON value at \$\.f/],
    ['a symbol', [Symbol('s')], /symbol/],
    ['a bigint', { n: 1n }, /bigint/],
    ['a Date', { at: new Date(0) }, /Date is not a plain JSON object at \$\.at/],
    ['a Map', new Map(), /Map/],
    ['a class instance', new (class Point {})(), /Point/],
    ['a lone surrogate', { s: '\ud800x' }, /lone surrogate at \$\.s/],
    ['a lone surrogate in a key', { '\udc00': 1 }, /lone surrogate/],
    ['an awkward key path', { 'a b': [NaN] }, /at \$\["a b"\]\[0\]/],
  ])('rejects %s with a clear error', (_, value, message) => {
    expect(() => canonicalize(value)).toThrow(CanonicalJsonError);
    expect(() => canonicalize(value)).toThrow(message);
  });

  it('rejects cycles but accepts shared, acyclic references', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => canonicalize(cyclic)).toThrow(/circular reference at \$\.self/);
    const shared = { x: 1 };
    expect(canonicalize({ a: shared, b: [shared] })).toBe('{"a":{"x":1},"b":[{"x":1}]}');
  });

  it('accepts objects without a prototype', () => {
    const bare = Object.assign(Object.create(null), { b: 1, a: 2 });
    expect(canonicalize(bare)).toBe('{"a":2,"b":1}');
  });

  it('is a fixed point: parsing and canonicalizing again changes nothing', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const once = canonicalize(value);
        expect(canonicalize(JSON.parse(once))).toBe(once);
      }),
    );
  });

  it('does not depend on property insertion order', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (object) => {
        const reversed = Object.fromEntries(Object.entries(object).reverse());
        expect(canonicalize(reversed)).toBe(canonicalize(object));
      }),
    );
  });
});
