import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CSV_COLUMNS,
  csvCell,
  csvHeader,
  neutralizeFormula,
  quoteCsvField,
  toCsvRow,
} from '../../src/export/formats/csv.ts';
import { eventWith, FIXTURES } from './fixtures.ts';

/** A strict RFC 4180 reader for one record, to check that rows read back as written. */
function parseCsvRecord(record: string): string[] {
  const fields: string[] = [];
  let i = 0;
  while (true) {
    let field = '';
    if (record[i] === '"') {
      i += 1;
      while (true) {
        const quote = record.indexOf('"', i);
        if (quote === -1) throw new Error('unterminated quote');
        field += record.slice(i, quote);
        i = quote + 1;
        if (record[i] !== '"') break;
        field += '"';
        i += 1;
      }
    } else {
      const end = record.indexOf(',', i);
      field = record.slice(i, end === -1 ? record.length : end);
      if (/["\r\n]/.test(field)) throw new Error(`unquoted field with special characters: ${field}`);
      i = end === -1 ? record.length : end;
    }
    fields.push(field);
    if (i === record.length) return fields;
    if (record[i] !== ',') throw new Error(`expected a comma at ${i}`);
    i += 1;
  }
}

function rowOf(event = FIXTURES.failedLogin): Record<(typeof CSV_COLUMNS)[number], string> {
  const cells = parseCsvRecord(toCsvRow(event));
  return Object.fromEntries(CSV_COLUMNS.map((column, i) => [column, cells[i] ?? ''])) as Record<
    (typeof CSV_COLUMNS)[number],
    string
  >;
}

describe('CSV', () => {
  it('has the stable column header', () => {
    expect(csvHeader()).toBe(
      'id,organization_id,action,actor_id,actor_type,actor_name,target_ids,target_types,target_names,' +
        'ip_address,user_agent,location,request_id,session_id,occurred_at,received_at,version,idempotency_key,metadata',
    );
  });

  it('writes one cell per column', () => {
    for (const event of Object.values(FIXTURES)) {
      expect(parseCsvRecord(toCsvRow(event))).toHaveLength(CSV_COLUMNS.length);
    }
  });

  it('quotes fields containing a comma, quote, CR or LF and doubles inner quotes (RFC 4180)', () => {
    expect(quoteCsvField('plain text')).toBe('plain text');
    expect(quoteCsvField('a,b')).toBe('"a,b"');
    expect(quoteCsvField('say "hi"')).toBe('"say ""hi"""');
    expect(quoteCsvField('a\rb')).toBe('"a\rb"');
    expect(quoteCsvField('a\nb')).toBe('"a\nb"');
    expect(quoteCsvField('')).toBe('');
  });

  it('reads back any cell as written', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'binary' }), { minLength: 1, maxLength: 5 }), (cells) => {
        expect(parseCsvRecord(cells.map(quoteCsvField).join(','))).toEqual(cells);
      }),
    );
  });

  it.each(['=', '+', '-', '@', '\t', '\r'])('prefixes a cell starting with %j with a quote mark', (lead) => {
    expect(neutralizeFormula(`${lead}cmd`)).toBe(`'${lead}cmd`);
  });

  it('leaves other cells alone', () => {
    expect(neutralizeFormula('a=1')).toBe('a=1');
    expect(neutralizeFormula(' =1')).toBe(' =1');
    expect(neutralizeFormula('')).toBe('');
  });

  it('guards formulas before quoting', () => {
    expect(csvCell('=1+1,2')).toBe(`"'=1+1,2"`);
    expect(rowOf().target_names).toBe(`'=HYPERLINK("http://evil.example")`);
  });

  it('joins multi-valued target fields with ";" keeping positions of null names', () => {
    const row = rowOf(FIXTURES.userCreated);
    expect(row.target_ids).toBe('usr_new;team_7');
    expect(row.target_types).toBe('user;team');
    expect(row.target_names).toBe(';Platform');
  });

  it('writes nulls as empty cells and metadata as compact JSON', () => {
    const row = rowOf(FIXTURES.userCreated);
    expect(row.actor_name).toBe('');
    expect(row.version).toBe('');
    expect(row.idempotency_key).toBe('');
    expect(row.metadata).toBe('{}');
    expect(JSON.parse(rowOf().metadata)).toEqual(FIXTURES.failedLogin.metadata);
  });

  it('keeps embedded line breaks inside a quoted field', () => {
    expect(rowOf().user_agent).toBe(FIXTURES.failedLogin.context.userAgent);
  });

  it('writes timestamps as ISO 8601 UTC with milliseconds', () => {
    const row = rowOf(eventWith({ occurredAt: new Date(Date.UTC(2024, 0, 1)) }));
    expect(row.occurred_at).toBe('2024-01-01T00:00:00.000Z');
  });
});
