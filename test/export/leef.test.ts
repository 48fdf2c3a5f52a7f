import { describe, expect, it } from 'vitest';
import { leefDelimiterField, parseLeefDelimiter, toLeefLine } from '../../src/export/formats/leef.ts';
import { eventWith, FIXTURES } from './fixtures.ts';

function leef(event = FIXTURES.failedLogin, options: { delimiter?: string } = {}) {
  const line = toLeefLine(event, options);
  const parts = line.split('|');
  const header = parts.slice(0, 6);
  const delimiter = parseLeefDelimiter(header[5] ?? '');
  const attributes = parts.slice(6).join('|');
  const fields = new Map(
    attributes.split(delimiter).map((pair) => {
      const equals = pair.indexOf('=');
      return [pair.slice(0, equals), pair.slice(equals + 1)] as const;
    }),
  );
  return { line, header, fields };
}

describe('LEEF 2.0', () => {
  it('writes the header with the caret delimiter by default', () => {
    expect(leef().header).toEqual(['LEEF:2.0', 'Auditline', 'Auditline', '1.0', 'user.login_failed', '^']);
  });

  it('strips the delimiter and CR/LF from values', () => {
    const { line, fields } = leef();
    expect(line).not.toMatch(/[\r\n]/);
    expect(fields.get('userAgent')).toBe('Mozilla/5.0 (X11; Linux x86_64)  CEF:0|Forged|Event|1|x|y|10|');
    expect(JSON.parse(fields.get('metadata') ?? '').caret).toBe('x y');
    for (const value of fields.values()) expect(value).not.toContain('^');
  });

  it('strips a custom delimiter instead', () => {
    const event = eventWith({ metadata: { note: 'a^b#c' } });
    const { header, fields } = leef(event, { delimiter: '#' });
    expect(header[5]).toBe('#');
    expect(fields.get('metadata')).toBe('{"note":"a^b c"}');
  });

  it('writes a tab delimiter in hex form and uses the real tab between attributes', () => {
    const { line, header, fields } = leef(FIXTURES.ipv6ApiRead, { delimiter: '\t' });
    expect(header[5]).toBe('x09');
    expect(line).toContain('\tcat=api\t');
    expect(fields.get('src')).toBe('2001:db8::1');
  });

  it('accepts the hex forms x and 0x with 1-4 digits', () => {
    expect(parseLeefDelimiter('x5E')).toBe('^');
    expect(parseLeefDelimiter('0x5e')).toBe('^');
    expect(parseLeefDelimiter('x9')).toBe('\t');
    expect(parseLeefDelimiter('x00A6')).toBe('¦');
  });

  it('writes non-printable delimiters and the pipe in hex form', () => {
    expect(leefDelimiterField('^')).toBe('^');
    expect(leefDelimiterField('\t')).toBe('x09');
    expect(leefDelimiterField('|')).toBe('x7C');
    expect(leefDelimiterField('¦')).toBe('xA6');
  });

  it('rejects delimiters that cannot separate key=value pairs', () => {
    for (const bad of ['', '^^', '=', ' ', '\n', 'x3D', 'xZZ']) {
      expect(() => parseLeefDelimiter(bad)).toThrow(RangeError);
    }
  });

  it('writes devTime as epoch milliseconds, which needs no devTimeFormat', () => {
    const { fields } = leef();
    expect(fields.get('devTime')).toBe('1714979289123');
    expect(fields.has('devTimeFormat')).toBe(false);
  });

  it('maps the event onto LEEF keys', () => {
    expect(Object.fromEntries(leef().fields)).toMatchObject({
      cat: 'authentication',
      sev: '5',
      usrName: 'Ada "Countess" Lovelace, FRS',
      src: '203.0.113.7',
      identSrc: '203.0.113.7',
      resource: '=HYPERLINK("http://evil.example")',
      action: 'user.login_failed',
      outcome: 'failure',
      eventId: FIXTURES.failedLogin.id,
      organizationId: FIXTURES.failedLogin.organizationId,
    });
  });

  it('keeps sev within LEEF range 1-10 and omits null values', () => {
    const event = eventWith({ action: 'page.viewed' });
    const { fields } = leef(event);
    expect(fields.get('sev')).toBe('1');
    expect(fields.has('src')).toBe(false);
    expect(fields.has('userAgent')).toBe(false);
  });

  it('keeps pipes and line breaks out of the header', () => {
    const { header } = leef(eventWith({ action: 'a|b\nc' }));
    expect(header[4]).toBe('a b c');
  });
});
