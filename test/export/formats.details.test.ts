import { describe, expect, it } from 'vitest';
import type { ActionRuleOverride } from '../../src/export/action-mapping.ts';
import { toCefLine } from '../../src/export/formats/cef.ts';
import { clientIp, isAccount, readableAction } from '../../src/export/formats/fields.ts';
import { EXPORT_FORMAT_DESCRIPTORS } from '../../src/export/formats/index.ts';
import { leefDelimiterField, parseLeefDelimiter } from '../../src/export/formats/leef.ts';
import { OCSF_CLASSES, toOcsf } from '../../src/export/formats/ocsf.ts';
import { eventWith, FIXTURES } from './fixtures.ts';

// Details of the export formats that the golden files do not reach (found by mutation testing).

describe('shared fields', () => {
  it('reads an action with runs of separators and a trailing one as words', () => {
    expect(readableAction('user.login_failed')).toBe('user login failed');
    expect(readableAction('user.__login._')).toBe('user login');
  });

  it('reports only a whole IPv4-mapped address as IPv4', () => {
    const ipOf = (ipAddress: string) =>
      clientIp(eventWith({ context: { ...FIXTURES.userCreated.context, ipAddress } }));
    expect(ipOf('::ffff:198.51.100.7')).toEqual({ address: '198.51.100.7', family: 4 });
    expect(ipOf('::FFFF:198.51.100.7')).toEqual({ address: '198.51.100.7', family: 4 });
    expect(ipOf('1::ffff:198.51.100.7')).toEqual({ address: '1::ffff:198.51.100.7', family: 6 });
    expect(ipOf('::ffff:198.51.100.7x')).toBeNull();
  });

  it('counts users, accounts and members as accounts', () => {
    for (const type of ['user', 'account', 'member']) {
      expect(isAccount({ id: 'a', type, name: null, metadata: null })).toBe(true);
    }
    expect(isAccount({ id: 'a', type: 'document', name: null, metadata: null })).toBe(false);
  });
});

describe('media types', () => {
  it('names each format for HTTP downloads', () => {
    expect(
      Object.fromEntries(
        Object.entries(EXPORT_FORMAT_DESCRIPTORS).map(([format, d]) => [format, d.mediaType]),
      ),
    ).toEqual({
      jsonl: 'application/x-ndjson',
      csv: 'text/csv; charset=utf-8',
      cef: 'text/plain; charset=utf-8',
      leef: 'text/plain; charset=utf-8',
      ocsf: 'application/x-ndjson',
      ecs: 'application/x-ndjson',
    });
  });
});

describe('CEF outcome', () => {
  it('is left out when the action mapping does not know it', () => {
    const unknown: ActionRuleOverride[] = [{ pattern: 'user.login_failed', outcome: 'unknown' }];
    expect(toCefLine(FIXTURES.failedLogin, { actionOverrides: unknown })).not.toContain(' outcome=');
    expect(toCefLine(FIXTURES.failedLogin)).toContain(' outcome=failure ');
  });
});

describe('LEEF delimiter', () => {
  it('refuses anything but one character or its hex form, whole', () => {
    for (const spec of ['ax41', 'x41z', '0x41 ', '^^', '']) {
      expect(() => parseLeefDelimiter(spec)).toThrow(
        new RangeError(`LEEF delimiter must be one character or xHH: ${spec}`),
      );
    }
    expect(parseLeefDelimiter('x41')).toBe('A');
    expect(parseLeefDelimiter('0x7C')).toBe('|');
  });

  it('refuses "=" and whitespace other than tab', () => {
    for (const spec of ['=', ' ', 'x20', '\n']) {
      expect(() => parseLeefDelimiter(spec)).toThrow(
        new RangeError(`LEEF delimiter cannot be "=" or whitespace other than tab: ${JSON.stringify(spec)}`),
      );
    }
    expect(parseLeefDelimiter('\t')).toBe('\t');
  });

  it('writes the delimiter itself only when it is printable ASCII other than "|"', () => {
    expect(leefDelimiterField('!')).toBe('!');
    expect(leefDelimiterField('~')).toBe('~');
    expect(leefDelimiterField(' ')).toBe('x20');
    expect(leefDelimiterField('\x7f')).toBe('x7F');
    expect(leefDelimiterField('|')).toBe('x7C');
    expect(leefDelimiterField('\t')).toBe('x09');
  });
});

describe('OCSF', () => {
  it('uses the OCSF 1.3 activity captions', () => {
    expect(OCSF_CLASSES).toEqual({
      3001: {
        name: 'Account Change',
        activities: {
          0: 'Unknown',
          1: 'Create',
          2: 'Enable',
          3: 'Password Change',
          4: 'Password Reset',
          5: 'Disable',
          6: 'Delete',
          7: 'Attach Policy',
          8: 'Detach Policy',
          9: 'Lock',
          10: 'MFA Factor Enable',
          11: 'MFA Factor Disable',
          99: 'Other',
        },
      },
      3002: { name: 'Authentication', activities: { 0: 'Unknown', 1: 'Logon', 2: 'Logoff', 99: 'Other' } },
      6003: {
        name: 'API Activity',
        activities: { 0: 'Unknown', 1: 'Create', 2: 'Read', 3: 'Update', 4: 'Delete', 99: 'Other' },
      },
    });
  });

  it('names activities and severities in the record', () => {
    const ocsf = (override: Omit<ActionRuleOverride, 'pattern'>) =>
      toOcsf(FIXTURES.failedLogin, { actionOverrides: [{ pattern: 'user.login_failed', ...override }] });
    expect(ocsf({ ocsf: { classUid: 3001, activityId: 9 }, severity: 7 })).toMatchObject({
      activity_name: 'Lock',
      type_name: 'Account Change: Lock',
      type_uid: 300109,
      severity_id: 4,
      severity: 'High',
    });
    expect(ocsf({ ocsf: { classUid: 3002, activityId: 0 }, severity: 9 })).toMatchObject({
      activity_name: 'Unknown',
      type_name: 'Authentication: Unknown',
      severity_id: 5,
      severity: 'Critical',
    });
    // An activity id the class does not define is captioned "Other" and named by the action itself.
    expect(ocsf({ ocsf: { classUid: 6003, activityId: 42 } })).toMatchObject({
      activity_name: 'Other',
      type_name: 'API Activity: Other',
    });
    expect(ocsf({ ocsf: { classUid: 6003, activityId: 99 } })).toMatchObject({
      activity_name: 'user.login_failed',
      type_name: 'API Activity: Other',
    });
  });
});
