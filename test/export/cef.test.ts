import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { escapeCefExtensionValue, escapeCefHeader, toCefLine } from '../../src/export/formats/cef.ts';
import { eventWith, FIXTURES } from './fixtures.ts';

/** Splits a CEF record into its 7 unescaped header fields and the raw extension. */
function splitCef(line: string): { header: string[]; extension: string } {
  const header: string[] = [];
  let field = '';
  let i = 0;
  for (; header.length < 7; i += 1) {
    const char = line[i];
    if (char === undefined) throw new Error('truncated CEF header');
    if (char === '\\') {
      i += 1;
      field += line[i];
    } else if (char === '|') {
      header.push(field);
      field = '';
    } else field += char;
  }
  return { header, extension: line.slice(i) };
}

/** Reads `key=value` pairs: every unescaped `=` ends a key, the value runs to the space before the next key. */
function parseExtension(extension: string): Map<string, string> {
  const equalsAt: number[] = [];
  for (let i = 0; i < extension.length; i += 1) {
    if (extension[i] === '\\') i += 1;
    else if (extension[i] === '=') equalsAt.push(i);
  }
  const pairs = new Map<string, string>();
  equalsAt.forEach((equals, n) => {
    const keyStart = extension.lastIndexOf(' ', equals) + 1;
    const next = equalsAt[n + 1];
    const valueEnd = next === undefined ? extension.length : extension.lastIndexOf(' ', next);
    const raw = extension.slice(equals + 1, valueEnd);
    pairs.set(
      extension.slice(keyStart, equals),
      raw.replace(/\\(.)/gs, (_, c: string) => ({ n: '\n', r: '\r' })[c] ?? c),
    );
  });
  return pairs;
}

function cef(event = FIXTURES.failedLogin, options = {}) {
  const line = toCefLine(event, options);
  const { header, extension } = splitCef(line);
  return { line, header, extension, fields: parseExtension(extension.trimStart()) };
}

describe('CEF', () => {
  it('writes the seven header fields', () => {
    expect(cef().header).toEqual([
      'CEF:0',
      'Auditline',
      'Auditline',
      '1.0',
      'user.login_failed',
      'user login failed',
      '5',
    ]);
  });

  it('takes the product version from the options', () => {
    expect(cef(FIXTURES.userCreated, { productVersion: '3.1.4' }).header[3]).toBe('3.1.4');
  });

  it('puts a single space between the last header pipe and the first key (liblognorm drops that character)', () => {
    const { extension } = cef();
    expect(extension.startsWith(' rt=')).toBe(true);
    expect(extension.startsWith('  ')).toBe(false);
  });

  it('escapes header fields with \\\\ and \\| only, and turns line breaks into spaces', () => {
    expect(escapeCefHeader('a|b\\c=d')).toBe('a\\|b\\\\c=d');
    expect(escapeCefHeader('one\r\ntwo\nthree\rfour')).toBe('one two three four');
    const { header, line } = cef(eventWith({ action: 'odd|action\\with\nbreak' }));
    expect(header[4]).toBe('odd|action\\with break');
    expect(line).toContain('|odd\\|action\\\\with break|');
  });

  it('escapes extension values with \\\\, \\= and \\r \\n, leaving pipes alone', () => {
    expect(escapeCefExtensionValue('a=b|c\\d\r\ne')).toBe('a\\=b|c\\\\d\\r\\ne');
  });

  it('reads back any extension value as written', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (value) => {
        const escaped = escapeCefExtensionValue(value);
        expect(escaped).not.toMatch(/[\r\n]/);
        expect(parseExtension(`act=${escaped} rt=1`).get('act')).toBe(value);
      }),
    );
  });

  it('keeps the forged line in the user agent inside one record', () => {
    const { line, fields } = cef();
    expect(line).not.toMatch(/[\r\n]/);
    expect(fields.get('requestClientApplication')).toBe(FIXTURES.failedLogin.context.userAgent);
  });

  it('maps the event onto CEF keys', () => {
    const { fields } = cef();
    expect(Object.fromEntries(fields)).toMatchObject({
      rt: String(Date.parse('2024-05-06T07:08:09.123Z')),
      act: 'user.login_failed',
      suser: 'Ada "Countess" Lovelace, FRS',
      suid: 'usr_ada',
      duser: '=HYPERLINK("http://evil.example")',
      duid: 'usr_ada',
      src: '203.0.113.7',
      outcome: 'failure',
      externalId: FIXTURES.failedLogin.id,
      cs1Label: 'organizationId',
      cs1: FIXTURES.failedLogin.organizationId,
      cs2Label: 'actorType',
      cs2: 'user',
      cs3Label: 'targetType',
      cs3: 'user',
      cs4Label: 'requestId',
      cs4: 'req_7f3a',
      cs6Label: 'metadata',
    });
    expect(JSON.parse(fields.get('cs6') ?? '')).toEqual(FIXTURES.failedLogin.metadata);
  });

  it('writes IPv6 addresses to c6a2 instead of src', () => {
    const { fields } = cef(FIXTURES.ipv6ApiRead);
    expect(fields.get('c6a2')).toBe('2001:db8::1');
    expect(fields.has('src')).toBe(false);
  });

  it('writes IPv4-mapped IPv6 addresses to src', () => {
    const event = eventWith({
      context: { ...FIXTURES.userCreated.context, ipAddress: '::ffff:198.51.100.9' },
    });
    expect(cef(event).fields.get('src')).toBe('198.51.100.9');
  });

  it('omits keys whose value is null, and labels with them', () => {
    const { fields } = cef(FIXTURES.userCreated);
    expect([...fields.keys()]).toEqual([
      'rt',
      'act',
      'suser',
      'suid',
      'duid',
      'outcome',
      'externalId',
      'cs1Label',
      'cs1',
      'cs2Label',
      'cs2',
      'cs3Label',
      'cs3',
    ]);
    expect(fields.get('suser')).toBe('system');
  });

  it('takes the severity from the action mapping', () => {
    expect(cef(FIXTURES.ipv6ApiRead).header[6]).toBe('1');
    expect(
      cef(FIXTURES.userCreated, { actionOverrides: [{ pattern: 'user.*', severity: 10 }] }).header[6],
    ).toBe('10');
  });
});
