import { describe, expect, it } from 'vitest';
import {
  EXPORT_FORMAT_DESCRIPTORS,
  EXPORT_FORMATS,
  formatEvent,
  hasHeader,
  isExportFormat,
} from '../../src/export/formats/index.ts';
import { eventWith, FIXTURES } from './fixtures.ts';
import { expectGolden } from './golden.ts';

describe('golden files', () => {
  it.each(EXPORT_FORMATS)('%s matches test/export/golden/events.%s', (format) => {
    const { header, recordSeparator } = EXPORT_FORMAT_DESCRIPTORS[format];
    const records = Object.values(FIXTURES).map((event) => formatEvent(format, event));
    const lines = header === null ? records : [header, ...records];
    expectGolden(`events.${format}`, lines.map((line) => line + recordSeparator).join(''));
  });
});

describe('formatEvent', () => {
  it('lists the six formats', () => {
    expect(EXPORT_FORMATS).toEqual(['jsonl', 'csv', 'cef', 'leef', 'ocsf', 'ecs']);
    expect(isExportFormat('cef')).toBe(true);
    expect(isExportFormat('xml')).toBe(false);
  });

  it('gives only CSV a header, and CSV records CRLF line ends', () => {
    expect(EXPORT_FORMATS.filter(hasHeader)).toEqual(['csv']);
    expect(EXPORT_FORMAT_DESCRIPTORS.csv.recordSeparator).toBe('\r\n');
    expect(EXPORT_FORMAT_DESCRIPTORS.cef.recordSeparator).toBe('\n');
  });

  it('returns a single record with no line break of its own in every format', () => {
    for (const format of EXPORT_FORMATS) {
      for (const event of Object.values(FIXTURES)) {
        const record = formatEvent(format, event);
        if (format === 'csv') expect(record).not.toMatch(/[\r\n]$/);
        else expect(record).not.toMatch(/[\r\n]/);
      }
    }
  });

  it('passes options through to the formats', () => {
    const event = FIXTURES.userCreated;
    const options = {
      productVersion: '2.5',
      leefDelimiter: 'x09',
      extra: { proof: { root: 'abc' } },
      actionOverrides: [{ pattern: 'user.created', severity: 9 }],
    };
    expect(formatEvent('cef', event, options)).toMatch(
      /^CEF:0\|Auditline\|Auditline\|2\.5\|user\.created\|user created\|9\| /,
    );
    expect(formatEvent('leef', event, options)).toMatch(
      /^LEEF:2\.0\|Auditline\|Auditline\|2\.5\|user\.created\|x09\|devTime=\d+\t/,
    );
    expect(JSON.parse(formatEvent('jsonl', event, options)).proof).toEqual({ root: 'abc' });
    expect(JSON.parse(formatEvent('ocsf', event, options)).severity_id).toBe(5);
    expect(JSON.parse(formatEvent('ecs', event, options)).event.severity).toBe(9);
  });

  it('leaves an invalid IP address out of typed IP fields', () => {
    const event = eventWith({ context: { ...FIXTURES.userCreated.context, ipAddress: 'not-an-ip' } });
    expect(formatEvent('cef', event)).not.toMatch(/ (src|c6a2)=/);
    expect(JSON.parse(formatEvent('ecs', event)).source).toBeUndefined();
    expect(JSON.parse(formatEvent('ocsf', event)).src_endpoint).toBeUndefined();
    expect(formatEvent('csv', event)).toContain(',not-an-ip,');
  });
});
