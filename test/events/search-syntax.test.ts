import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  formatSearchTerm,
  formatSearchTerms,
  MAX_SEARCH_QUERY_LENGTH,
  MAX_SEARCH_TERMS,
  parseSearchQuery,
  SearchSyntaxError,
  type SearchTerm,
} from '../../src/events/search-syntax.ts';

function parseOne(query: string): SearchTerm {
  const terms = parseSearchQuery(query);
  expect(terms).toHaveLength(1);
  return terms[0]!;
}

function syntaxErrorOf(query: string): SearchSyntaxError {
  try {
    parseSearchQuery(query);
  } catch (error) {
    if (error instanceof SearchSyntaxError) return error;
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(query)} to be rejected`);
}

const utc = (iso: string) => new Date(iso);

describe('parseSearchQuery: empty input', () => {
  it.each(['', ' ', '   \t\n  ', '\u00a0'])('returns no terms for %j', (query) => {
    expect(parseSearchQuery(query)).toEqual([]);
  });
});

describe('parseSearchQuery: qualifiers', () => {
  it.each<[string, SearchTerm]>([
    [
      'action:user.login_failed',
      { field: 'action', value: 'user.login_failed', prefix: false, negated: false },
    ],
    [
      'action:org.member.role_changed',
      { field: 'action', value: 'org.member.role_changed', prefix: false, negated: false },
    ],
    [
      'action:user.2fa_enabled',
      { field: 'action', value: 'user.2fa_enabled', prefix: false, negated: false },
    ],
    ['action:"user.login"', { field: 'action', value: 'user.login', prefix: false, negated: false }],
    ['ACTION:user.login', { field: 'action', value: 'user.login', prefix: false, negated: false }],
    ['action:user.*', { field: 'action', value: 'user.', prefix: true, negated: false }],
    ['action:user.login*', { field: 'action', value: 'user.login', prefix: true, negated: false }],
    ['action:user*', { field: 'action', value: 'user', prefix: true, negated: false }],
    ['action:u*', { field: 'action', value: 'u', prefix: true, negated: false }],
    ['action:org.member.*', { field: 'action', value: 'org.member.', prefix: true, negated: false }],
    ['actor:usr_123', { field: 'actor', value: 'usr_123', negated: false }],
    ['actor:Jane', { field: 'actor', value: 'Jane', negated: false }],
    ['actor:"Jane Doe"', { field: 'actor', value: 'Jane Doe', negated: false }],
    ['actor:a:b', { field: 'actor', value: 'a:b', negated: false }],
    ['actor:jane@example.com', { field: 'actor', value: 'jane@example.com', negated: false }],
    ['actor_type:api_key', { field: 'actor_type', value: 'api_key', negated: false }],
    ['target:doc_42', { field: 'target', value: 'doc_42', negated: false }],
    ['target:"Q3 report.pdf"', { field: 'target', value: 'Q3 report.pdf', negated: false }],
    ['target_type:document', { field: 'target_type', value: 'document', negated: false }],
    ['Target_Type:document', { field: 'target_type', value: 'document', negated: false }],
    ['ip:10.0.0.1', { field: 'ip', value: '10.0.0.1', negated: false }],
    ['ip:10.0.0.0/8', { field: 'ip', value: '10.0.0.0/8', negated: false }],
    ['ip:10.1.2.3/8', { field: 'ip', value: '10.0.0.0/8', negated: false }],
    ['ip:10.1.2.3/32', { field: 'ip', value: '10.1.2.3', negated: false }],
    ['ip:0.0.0.0/0', { field: 'ip', value: '0.0.0.0/0', negated: false }],
    ['ip:::1', { field: 'ip', value: '::1', negated: false }],
    ['ip:"::1"', { field: 'ip', value: '::1', negated: false }],
    ['ip:2001:DB8::/32', { field: 'ip', value: '2001:db8::/32', negated: false }],
    ['ip:2001:db8:0:0:0:0:0:1', { field: 'ip', value: '2001:db8::1', negated: false }],
  ])('%s', (query, expected) => {
    expect(parseOne(query)).toEqual(expected);
  });
});

describe('parseSearchQuery: free text', () => {
  it.each<[string, string]>([
    ['login', 'login'],
    ['Login', 'Login'],
    ['user.login', 'user.login'],
    ['naïve', 'naïve'],
    ['a*b', 'a*b'],
    ['foo-bar', 'foo-bar'],
    ['back\\slash', 'back\\slash'],
    ['"bad password"', 'bad password'],
    ['"  padded  "', '  padded  '],
    ['"foo:bar"', 'foo:bar'],
    ['"action:user.login"', 'action:user.login'],
    ['"say \\"hi\\""', 'say "hi"'],
    ['"back\\\\slash"', 'back\\slash'],
    ['"C:\\path"', 'C:\\path'],
    ['"-dash"', '-dash'],
  ])('%s → %j', (query, value) => {
    expect(parseOne(query)).toEqual({ field: 'text', value, negated: false });
  });
});

describe('parseSearchQuery: negation', () => {
  it.each<[string, SearchTerm]>([
    ['-action:user.login', { field: 'action', value: 'user.login', prefix: false, negated: true }],
    ['-action:user.*', { field: 'action', value: 'user.', prefix: true, negated: true }],
    ['-actor_type:system', { field: 'actor_type', value: 'system', negated: true }],
    ['-ip:10.0.0.0/8', { field: 'ip', value: '10.0.0.0/8', negated: true }],
    [
      '-created:2026-11-01',
      { field: 'created', gte: utc('2026-11-01T00:00:00Z'), lt: utc('2026-11-02T00:00:00Z'), negated: true },
    ],
    ['-"some phrase"', { field: 'text', value: 'some phrase', negated: true }],
    ['-word', { field: 'text', value: 'word', negated: true }],
    ['--word', { field: 'text', value: '-word', negated: true }],
  ])('%s', (query, expected) => {
    expect(parseOne(query)).toEqual(expected);
  });
});

describe('parseSearchQuery: several terms', () => {
  it('keeps the order and splits on any whitespace', () => {
    const query =
      '  action:user.* \t-actor_type:system\n"bad password"\u00a0created:>=2026-11-01  ip:10.0.0.0/8 ';
    expect(parseSearchQuery(query)).toEqual([
      { field: 'action', value: 'user.', prefix: true, negated: false },
      { field: 'actor_type', value: 'system', negated: true },
      { field: 'text', value: 'bad password', negated: false },
      { field: 'created', gte: utc('2026-11-01T00:00:00Z'), negated: false },
      { field: 'ip', value: '10.0.0.0/8', negated: false },
    ]);
  });

  it('keeps repeated qualifiers as separate terms', () => {
    expect(parseSearchQuery('actor:a actor:b')).toEqual([
      { field: 'actor', value: 'a', negated: false },
      { field: 'actor', value: 'b', negated: false },
    ]);
  });

  it('splits adjacent quoted phrases on the space between them', () => {
    expect(parseSearchQuery('"a" "b"')).toHaveLength(2);
  });
});

describe('parseSearchQuery: created with days (UTC)', () => {
  const day = (d: string) => utc(`${d}T00:00:00Z`);

  it.each<[string, { gte?: Date; lt?: Date }]>([
    ['>=2026-11-01', { gte: day('2026-11-01') }],
    ['>2026-11-01', { gte: day('2026-11-02') }],
    ['<2026-11-01', { lt: day('2026-11-01') }],
    ['<=2026-11-01', { lt: day('2026-11-02') }],
    ['2026-11-01', { gte: day('2026-11-01'), lt: day('2026-11-02') }],
    ['2026-11-01..2026-11-07', { gte: day('2026-11-01'), lt: day('2026-11-08') }],
    ['2026-11-01..2026-11-01', { gte: day('2026-11-01'), lt: day('2026-11-02') }],
    ['2026-11-01..*', { gte: day('2026-11-01') }],
    ['*..2026-11-07', { lt: day('2026-11-08') }],
    ['<=2026-12-31', { lt: day('2027-01-01') }],
    ['>2026-02-28', { gte: day('2026-03-01') }],
    ['2024-02-29', { gte: day('2024-02-29'), lt: day('2024-03-01') }],
    ['2026-12-25..2027-01-05', { gte: day('2026-12-25'), lt: day('2027-01-06') }],
    ['"2026-11-01..2026-11-07"', { gte: day('2026-11-01'), lt: day('2026-11-08') }],
    ['">=2026-11-01"', { gte: day('2026-11-01') }],
    ['9999-12-30', { gte: day('9999-12-30'), lt: day('9999-12-31') }],
    ['>=9999-12-31', { gte: day('9999-12-31') }],
    ['<9999-12-31', { lt: day('9999-12-31') }],
    ['>=0001-01-01', { gte: utc('0001-01-01T00:00:00Z') }],
  ])('created:%s', (value, bounds) => {
    expect(parseOne(`created:${value}`)).toEqual({ field: 'created', ...bounds, negated: false });
  });

  it('does not map two-digit years to the 1900s', () => {
    const term = parseOne('created:>=0050-06-01');
    expect(term).toMatchObject({ gte: expect.any(Date) });
    expect((term as { gte: Date }).gte.toISOString()).toBe('0050-06-01T00:00:00.000Z');
  });
});

describe('parseSearchQuery: created with timestamps', () => {
  const t = '2026-11-01T10:00:00Z';
  const at = utc(t);

  it.each<[string, { gte?: Date; gt?: Date; lte?: Date; lt?: Date }]>([
    [`>=${t}`, { gte: at }],
    [`>${t}`, { gt: at }],
    [`<${t}`, { lt: at }],
    [`<=${t}`, { lte: at }],
    [t, { gte: at, lte: at }],
    [`${t}..${t}`, { gte: at, lte: at }],
    [`${t}..2026-11-02T10:00:00Z`, { gte: at, lte: utc('2026-11-02T10:00:00Z') }],
    [`${t}..*`, { gte: at }],
    [`*..${t}`, { lte: at }],
    [
      '2026-11-01..2026-11-05T12:00:00Z',
      { gte: utc('2026-11-01T00:00:00Z'), lte: utc('2026-11-05T12:00:00Z') },
    ],
    [
      '2026-11-01T12:00:00Z..2026-11-05',
      { gte: utc('2026-11-01T12:00:00Z'), lt: utc('2026-11-06T00:00:00Z') },
    ],
    [
      '2026-11-01T12:00:00Z..2026-11-01',
      { gte: utc('2026-11-01T12:00:00Z'), lt: utc('2026-11-02T00:00:00Z') },
    ],
    [
      '2026-11-01T10:00:00.123+02:00',
      { gte: utc('2026-11-01T08:00:00.123Z'), lte: utc('2026-11-01T08:00:00.123Z') },
    ],
    ['>=2026-11-01T10:00:00-05:30', { gte: utc('2026-11-01T15:30:00Z') }],
    ['>=2026-11-01T00:30:00+01:00', { gte: utc('2026-10-31T23:30:00Z') }],
    ['>=2026-11-01T10:00:00+00:00', { gte: at }],
    ['>=2026-11-01T10:00:00-00:00', { gte: at }],
    ['>=2026-11-01t10:00:00z', { gte: at }],
    ['>=2026-11-01T10:00:00.5Z', { gte: utc('2026-11-01T10:00:00.500Z') }],
    ['>=2026-11-01T10:00:00.123000000Z', { gte: utc('2026-11-01T10:00:00.123Z') }],
    ['>=9999-12-31T23:59:59.999Z', { gte: utc('9999-12-31T23:59:59.999Z') }],
  ])('created:%s', (value, bounds) => {
    expect(parseOne(`created:${value}`)).toEqual({ field: 'created', ...bounds, negated: false });
  });
});

describe('parseSearchQuery: errors', () => {
  it('names the term and its position in the message', () => {
    const error = syntaxErrorOf('actor:jane_do created:2026-13-01');
    expect(error).toBeInstanceOf(SearchSyntaxError);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('SearchSyntaxError');
    expect(error.message).toBe(
      'Invalid search term "created:2026-13-01" at position 14: month must be 01-12',
    );
    expect(error.position).toBe(14);
    expect(error.term).toBe('created:2026-13-01');
    expect(error.reason).toBe('month must be 01-12');
  });

  it.each<[string, number, string, string | RegExp]>([
    // unknown and missing qualifiers
    [
      'foo:bar',
      0,
      'foo:bar',
      /^unknown qualifier "foo" \(known: action, actor, actor_type, target, target_type, ip, created\); to search for text containing ":", put it in double quotes$/,
    ],
    ['login http://example.com', 6, 'http://example.com', /^unknown qualifier "http"/],
    ['-Foo:bar', 0, '-Foo:bar', /^unknown qualifier "Foo"/],
    [':x', 0, ':x', /^missing qualifier before ":"/],
    // empty values
    [
      'action:',
      0,
      'action:',
      'missing value after "action:"; write it right after the colon, e.g. action:user.login',
    ],
    ['action: user.login', 0, 'action:', /^missing value after "action:"/],
    ['x -actor:', 2, '-actor:', /^missing value after "actor:"; .* e\.g\. actor:usr_123$/],
    ['ip:""', 0, 'ip:""', /^missing value after "ip:"/],
    ['target:"   "', 0, 'target:"   "', /^missing value after "target:"/],
    ['created:', 0, 'created:', /e\.g\. created:>=2026-11-01$/],
    // action
    ['action:*', 0, 'action:*', '"*" needs the start of an action before it, e.g. action:user.*'],
    ['action:user.*.x', 0, 'action:user.*.x', '"*" is only allowed at the end, e.g. action:user.*'],
    ['action:user.**', 0, 'action:user.**', /^"\*" is only allowed at the end/],
    [
      'action:User.Login',
      0,
      'action:User.Login',
      /^an action is lowercase "noun\.verb" like user\.login_failed/,
    ],
    ['action:user', 0, 'action:user', /^an action is lowercase/],
    ['action:user.', 0, 'action:user.', /^an action is lowercase/],
    ['action:1user.login', 0, 'action:1user.login', /^an action is lowercase/],
    ['action:user..login', 0, 'action:user..login', /^an action is lowercase/],
    ['action:user..*', 0, 'action:user..*', /^an action is lowercase/],
    ['action:.user*', 0, 'action:.user*', /^an action is lowercase/],
    ['action:user-login.x', 0, 'action:user-login.x', /^an action is lowercase/],
    // ip
    ['ip:10.0.0.0/33', 0, 'ip:10.0.0.0/33', 'an IPv4 prefix length must be 0-32'],
    ['ip:2001:db8::/129', 0, 'ip:2001:db8::/129', 'an IPv6 prefix length must be 0-128'],
    ['ip:10.0.0.0/abc', 0, 'ip:10.0.0.0/abc', 'an IPv4 prefix length must be 0-32'],
    [
      'ip:banana',
      0,
      'ip:banana',
      '"banana" is not an IP address or CIDR range like 10.0.0.1, 10.0.0.0/8 or 2001:db8::/32',
    ],
    ['ip:10.0.0.256', 0, 'ip:10.0.0.256', /is not an IP address/],
    ['ip:fe80::1%eth0', 0, 'ip:fe80::1%eth0', /is not an IP address/],
    // created: calendar
    ['created:2026-02-30', 0, 'created:2026-02-30', 'day must be 01-28 in 2026-02'],
    ['created:2024-02-30', 0, 'created:2024-02-30', 'day must be 01-29 in 2024-02'],
    ['created:2100-02-29', 0, 'created:2100-02-29', 'day must be 01-28 in 2100-02'],
    ['created:2026-04-31', 0, 'created:2026-04-31', 'day must be 01-30 in 2026-04'],
    ['created:2026-11-00', 0, 'created:2026-11-00', 'day must be 01-30 in 2026-11'],
    ['created:2026-00-10', 0, 'created:2026-00-10', 'month must be 01-12'],
    ['created:0000-01-01', 0, 'created:0000-01-01', 'year must be 0001-9999'],
    [
      'created:9999-12-31',
      0,
      'created:9999-12-31',
      'the range reaches past 9999-12-31, the latest supported date',
    ],
    [
      'created:<=9999-12-31',
      0,
      'created:<=9999-12-31',
      'the range reaches past 9999-12-31, the latest supported date',
    ],
    ['created:>9999-12-31', 0, 'created:>9999-12-31', /^the range reaches past 9999-12-31/],
    [
      'created:2026-01-01..9999-12-31',
      0,
      'created:2026-01-01..9999-12-31',
      /^the range reaches past 9999-12-31/,
    ],
    ['created:>=2026-02-29T10:00:00Z', 0, 'created:>=2026-02-29T10:00:00Z', 'day must be 01-28 in 2026-02'],
    // created: clock and zone
    ['created:2026-11-01T24:00:00Z', 0, 'created:2026-11-01T24:00:00Z', 'hour must be 00-23'],
    ['created:2026-11-01T10:60:00Z', 0, 'created:2026-11-01T10:60:00Z', 'minute must be 00-59'],
    ['created:2026-11-01T10:00:60Z', 0, 'created:2026-11-01T10:00:60Z', 'second must be 00-59'],
    [
      'created:2026-11-01T10:00:00+24:00',
      0,
      'created:2026-11-01T10:00:00+24:00',
      'offset hour must be 00-23',
    ],
    [
      'created:2026-11-01T10:00:00+02:60',
      0,
      'created:2026-11-01T10:00:00+02:60',
      'offset minute must be 00-59',
    ],
    ['created:2026-11-01T10:00:00', 0, 'created:2026-11-01T10:00:00', /^a timestamp needs a time zone/],
    [
      'created:2026-11-01T10:00:00.1234Z',
      0,
      'created:2026-11-01T10:00:00.1234Z',
      'fractional seconds finer than milliseconds are not supported',
    ],
    [
      'created:0001-01-01T00:00:00+01:00',
      0,
      'created:0001-01-01T00:00:00+01:00',
      /^a timestamp must lie between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59\.999Z$/,
    ],
    [
      'created:9999-12-31T23:00:00-02:00',
      0,
      'created:9999-12-31T23:00:00-02:00',
      /^a timestamp must lie between/,
    ],
    // created: shape
    [
      'created:2026-11-01T10:00Z',
      0,
      'created:2026-11-01T10:00Z',
      '"2026-11-01T10:00Z" is not a date like 2026-11-01 or a timestamp like 2026-11-01T10:00:00Z',
    ],
    ['created:2026-1-1', 0, 'created:2026-1-1', /^"2026-1-1" is not a date/],
    ['created:yesterday', 0, 'created:yesterday', /^"yesterday" is not a date/],
    ['created:>>2026-11-01', 0, 'created:>>2026-11-01', /^">2026-11-01" is not a date/],
    ['created:=2026-11-01', 0, 'created:=2026-11-01', /^"=2026-11-01" is not a date/],
    ['created:>=', 0, 'created:>=', 'missing date, e.g. created:>=2026-11-01'],
    ['created:>=2026-11-01..2026-11-02', 0, 'created:>=2026-11-01..2026-11-02', /is not a date/],
    [
      'created:2026-11-01...2026-11-02',
      0,
      'created:2026-11-01...2026-11-02',
      /^"\.2026-11-02" is not a date/,
    ],
    // created: ranges
    [
      'created:2026-11-07..2026-11-01',
      0,
      'created:2026-11-07..2026-11-01',
      'the range is reversed: 2026-11-07 is after 2026-11-01',
    ],
    [
      'created:2026-11-01T10:00:01Z..2026-11-01T10:00:00Z',
      0,
      'created:2026-11-01T10:00:01Z..2026-11-01T10:00:00Z',
      /^the range is reversed/,
    ],
    [
      'created:2026-11-02T00:00:00Z..2026-11-01',
      0,
      'created:2026-11-02T00:00:00Z..2026-11-01',
      /^the range is reversed/,
    ],
    [
      'created:2026-11-02..2026-11-01T23:59:59.999Z',
      0,
      'created:2026-11-02..2026-11-01T23:59:59.999Z',
      /^the range is reversed/,
    ],
    [
      'created:*..*',
      0,
      'created:*..*',
      'a range needs at least one date, e.g. 2026-11-01..* or *..2026-11-07',
    ],
    [
      'created:2026-11-01..',
      0,
      'created:2026-11-01..',
      'use * for an open end of a range, e.g. 2026-11-01..* or *..2026-11-07',
    ],
    ['created:..2026-11-01', 0, 'created:..2026-11-01', /^use \* for an open end/],
    // quoting
    [
      '"unterminated',
      0,
      '"unterminated',
      'the double quote is never closed; add a closing " (write \\" for a quote inside the phrase)',
    ],
    ['a "two words', 2, '"two words', /^the double quote is never closed/],
    ['actor:"Jane Doe', 0, 'actor:"Jane Doe', /^the double quote is never closed/],
    ['"ends in escape\\"', 0, '"ends in escape\\"', /^the double quote is never closed/],
    ['"a"b c', 0, '"a"b', 'put a space after the closing double quote'],
    ['actor:"a b"c', 0, 'actor:"a b"c', 'put a space after the closing double quote'],
    [
      'ab"c"',
      0,
      'ab"c"',
      'a double quote may only start a phrase or a value, e.g. "some phrase" or actor:"Jane Doe"',
    ],
    ['actor:ab"c', 0, 'actor:ab"c', /^a double quote may only start/],
    ['x actor:ab"c d"', 2, 'actor:ab"c', /^a double quote may only start/],
    ['""', 0, '""', 'the quoted phrase is empty'],
    ['-"  "', 0, '-"  "', 'the quoted phrase is empty'],
    // negation
    ['-', 0, '-', 'put the term to exclude right after "-", e.g. -actor_type:system'],
    ['a - b', 2, '-', /^put the term to exclude right after "-"/],
    ['- "a"', 0, '-', /^put the term to exclude/],
    // NUL
    ['a\u0000b', 0, 'a\u0000b', 'the NUL character is not allowed'],
    ['actor:"\u0000"', 0, 'actor:"\u0000"', 'the NUL character is not allowed'],
  ])('%j → position %i, term %j: %s', (query, position, term, reason) => {
    const error = syntaxErrorOf(query);
    expect({ position: error.position, term: error.term }).toEqual({ position, term });
    expect(error.reason).toMatch(reason);
    expect(error.message).toBe(
      `Invalid search term ${JSON.stringify(term)} at position ${position}: ${error.reason}`,
    );
  });

  it('reports the leftmost problem', () => {
    expect(syntaxErrorOf('action:bad created:2026-13-01').position).toBe(0);
    expect(syntaxErrorOf('ok "unterminated foo:bar').reason).toMatch(/never closed/);
  });

  it('counts positions in UTF-16 code units, like JavaScript string indices', () => {
    const error = syntaxErrorOf('😀 foo:bar');
    expect(error.position).toBe(3);
  });

  it('shortens a very long term in the message but keeps it whole on the error', () => {
    const term = `actor:"${'x'.repeat(200)}`;
    const error = syntaxErrorOf(term);
    expect(error.term).toBe(term);
    expect(error.message).toBe(
      `Invalid search term "actor:\\"${'x'.repeat(50)}..." at position 0: ${error.reason}`,
    );
  });
});

describe('parseSearchQuery: limits', () => {
  const words = (n: number) => Array.from({ length: n }, (_, i) => `w${i}`).join(' ');

  it(`accepts ${MAX_SEARCH_TERMS} terms`, () => {
    expect(parseSearchQuery(words(MAX_SEARCH_TERMS))).toHaveLength(MAX_SEARCH_TERMS);
  });

  it(`rejects term number ${MAX_SEARCH_TERMS + 1}`, () => {
    const query = words(MAX_SEARCH_TERMS + 1);
    const error = syntaxErrorOf(query);
    expect(error.term).toBe('w50');
    expect(error.position).toBe(query.indexOf(' w50') + 1);
    expect(error.message).toBe(
      `Search query has too many terms: at most 50 terms are allowed, "w50" at position ${error.position} is one too many`,
    );
  });

  it(`accepts ${MAX_SEARCH_QUERY_LENGTH} characters`, () => {
    const query = `"${'x'.repeat(MAX_SEARCH_QUERY_LENGTH - 2)}"`;
    expect(parseSearchQuery(query)).toHaveLength(1);
  });

  it(`rejects ${MAX_SEARCH_QUERY_LENGTH + 1} characters, even blank ones`, () => {
    const error = syntaxErrorOf(' '.repeat(MAX_SEARCH_QUERY_LENGTH + 1));
    expect(error.message).toBe(
      'Search query is too long: it is 1001 characters long, at most 1000 are allowed',
    );
    expect(error.position).toBe(MAX_SEARCH_QUERY_LENGTH);
    expect(error.term).toBe('');
  });
});

describe('formatSearchTerms', () => {
  it.each<[string, string]>([
    ['action:user.login', 'action:user.login'],
    ['action:user.*', 'action:user.*'],
    ['-ACTION:"user.login*"', '-action:user.login*'],
    ['actor:"Jane Doe"', 'actor:"Jane Doe"'],
    ['actor:"plain"', 'actor:plain'],
    ['actor:a:b', 'actor:a:b'],
    ['actor:"say \\"hi\\""', 'actor:"say \\"hi\\""'],
    ['target:C:\\dir', 'target:C:\\dir'],
    ['target:"C:\\dir x"', 'target:"C:\\\\dir x"'],
    ['ip:10.1.2.3/8 ip:2001:DB8::1', 'ip:10.0.0.0/8 ip:2001:db8::1'],
    ['word "two words" "-dash" "a:b" -"x"', 'word "two words" "-dash" "a:b" -x'],
    ['created:2026-11-01', 'created:2026-11-01'],
    ['created:2026-11-01..2026-11-01', 'created:2026-11-01'],
    ['created:2026-11-01..2026-11-07', 'created:2026-11-01..2026-11-07'],
    ['created:>=2026-11-01 created:2026-11-01..*', 'created:>=2026-11-01 created:>=2026-11-01'],
    ['created:>2026-11-01', 'created:>=2026-11-02'],
    ['created:<2026-11-01', 'created:<2026-11-01'],
    ['created:<=2026-11-01 created:*..2026-11-01', 'created:<2026-11-02 created:<2026-11-02'],
    ['created:>=2026-11-01T00:00:00Z', 'created:>=2026-11-01'],
    ['created:2026-11-01T00:00:00Z', 'created:2026-11-01T00:00:00Z'],
    ['created:2026-11-01T10:00:00.120+02:00', 'created:2026-11-01T08:00:00.120Z'],
    [
      'created:>2026-11-01T10:00:00Z created:<=2026-11-01T10:00:00Z',
      'created:>2026-11-01T10:00:00Z created:<=2026-11-01T10:00:00Z',
    ],
    ['created:2026-11-01T10:00:00Z..2026-11-02', 'created:2026-11-01T10:00:00Z..2026-11-02'],
    ['created:2026-11-01..2026-11-02T10:00:00Z', 'created:2026-11-01..2026-11-02T10:00:00Z'],
    ['-created:*..2026-11-02T10:00:00Z', '-created:<=2026-11-02T10:00:00Z'],
  ])('%s → %s', (query, formatted) => {
    expect(formatSearchTerms(parseSearchQuery(query))).toBe(formatted);
  });

  it('returns an empty string for no terms', () => {
    expect(formatSearchTerms([])).toBe('');
  });

  it.each<[string, SearchTerm]>([
    [
      'gt with an upper bound',
      { field: 'created', gt: utc('2026-11-01T00:00:00Z'), lt: utc('2026-11-02T00:00:00Z'), negated: false },
    ],
    [
      'lt off midnight with a lower bound',
      { field: 'created', gte: utc('2026-11-01T00:00:00Z'), lt: utc('2026-11-02T10:00:00Z'), negated: false },
    ],
    ['no bounds at all', { field: 'created', negated: false }],
    ['a date after 9999', { field: 'created', gte: utc('+010000-01-01T00:00:00Z'), negated: false }],
  ])('refuses created bounds no single term can express: %s', (_, term) => {
    expect(() => formatSearchTerm(term)).toThrow(RangeError);
  });
});

describe('properties', () => {
  const grammarPiece = fc.constantFrom(
    ' ',
    '  ',
    '\t',
    '-',
    '"',
    '\\',
    ':',
    '*',
    '.',
    '..',
    '>',
    '>=',
    '<',
    '<=',
    '/',
    'Z',
    'T',
    '+02:00',
    'action',
    'actor',
    'actor_type',
    'target',
    'target_type',
    'ip',
    'created',
    'foo',
    'user',
    'login',
    '2026',
    '-11',
    '-01',
    '2026-11-01',
    '10:00:00',
    '10.0.0.1',
    '::1',
    '8',
    '129',
    '\u0000',
    'é',
    '😀',
  );
  const grammarSoup = fc.array(grammarPiece, { maxLength: 30 }).map((pieces) => pieces.join(''));
  const anyText = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 80 }),
    grammarSoup,
    fc.string({ maxLength: 1100 }),
  );

  it('parsing never throws anything but SearchSyntaxError', () => {
    fc.assert(
      fc.property(anyText, (query) => {
        try {
          parseSearchQuery(query);
        } catch (error) {
          expect(error).toBeInstanceOf(SearchSyntaxError);
          const { position, term } = error as SearchSyntaxError;
          expect(position).toBeGreaterThanOrEqual(0);
          expect(position).toBeLessThanOrEqual(query.length);
          if (term !== '') expect(query.startsWith(term, position)).toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
  });

  const quoted = (value: string) => `"${value.replace(/[\\"]/g, '\\$&')}"`;
  const phrase = fc
    .string({ unit: 'binary', minLength: 1, maxLength: 12 })
    .filter((s) => s.trim() !== '' && !s.includes('\0'))
    .map(quoted);
  const bareWord = fc.stringMatching(/^[A-Za-z0-9_.@*\\é][A-Za-z0-9_.@*\\é-]{0,8}$/);
  const value = fc.oneof(bareWord, phrase);
  const action = fc.oneof(
    fc.stringMatching(/^[a-z][a-z0-9_]{0,5}(\.[a-z0-9_]{1,5}){1,3}$/),
    fc.stringMatching(/^[a-z][a-z0-9_]{0,5}(\.[a-z0-9_]{1,5}){0,2}\.?\*$/),
  );
  const ip = fc.oneof(
    fc.ipV4(),
    fc.ipV6(),
    fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 32 })).map(([a, p]) => `${a}/${p}`),
    fc.tuple(fc.ipV6(), fc.integer({ min: 0, max: 128 })).map(([a, p]) => `${a}/${p}`),
  );
  // Stops a day short of 9999-12-31, where `<=` and a range's end would reach into the year 10000.
  const instant = fc.date({
    min: utc('0001-01-01T00:00:00Z'),
    max: utc('9999-12-30T23:59:59.999Z'),
    noInvalidDate: true,
  });
  const moment = fc
    .tuple(instant, fc.boolean())
    .map(([date, asDay]) => (asDay ? date.toISOString().slice(0, 10) : date.toISOString()));
  const created = fc.oneof(
    moment,
    fc.tuple(fc.constantFrom('>=', '>', '<=', '<'), moment).map(([op, m]) => op + m),
    fc.tuple(instant, instant, fc.boolean(), fc.boolean()).map(([a, b, dayA, dayB]) => {
      const [from, to] = a <= b ? [a, b] : [b, a];
      return `${dayA ? from.toISOString().slice(0, 10) : from.toISOString()}..${dayB ? to.toISOString().slice(0, 10) : to.toISOString()}`;
    }),
    moment.map((m) => `${m}..*`),
    moment.map((m) => `*..${m}`),
  );
  const term = fc.tuple(
    fc.boolean(),
    fc.oneof(
      value,
      action.map((a) => `action:${a}`),
      fc
        .tuple(fc.constantFrom('actor', 'actor_type', 'target', 'target_type'), value)
        .map(([q, v]) => `${q}:${v}`),
      ip.map((a) => `ip:${a}`),
      created.map((c) => `created:${c}`),
    ),
  );
  const validQuery = fc
    .array(term, { maxLength: 8 })
    .map((terms) => terms.map(([negated, text]) => (negated ? `-${text}` : text)).join(' '));

  it('generated valid queries parse', () => {
    fc.assert(
      fc.property(validQuery, (query) => {
        expect(parseSearchQuery(query).length).toBeLessThanOrEqual(8);
      }),
      { numRuns: 1000 },
    );
  });

  it('formatting and re-parsing gives back the same terms', () => {
    fc.assert(
      fc.property(validQuery, (query) => {
        const terms = parseSearchQuery(query);
        const formatted = formatSearchTerms(terms);
        expect(parseSearchQuery(formatted)).toEqual(terms);
        expect(formatSearchTerms(parseSearchQuery(formatted))).toBe(formatted);
      }),
      { numRuns: 1000 },
    );
  });

  it('formatting and re-parsing is stable for whatever arbitrary text parses', () => {
    fc.assert(
      fc.property(anyText, (query) => {
        let terms: SearchTerm[];
        try {
          terms = parseSearchQuery(query);
        } catch {
          return;
        }
        const formatted = formatSearchTerms(terms);
        // Canonical forms can be a little longer (`>2026-11-01` becomes `>=2026-11-02`).
        fc.pre(formatted.length <= MAX_SEARCH_QUERY_LENGTH);
        expect(parseSearchQuery(formatted)).toEqual(terms);
      }),
      { numRuns: 2000 },
    );
  });
});
