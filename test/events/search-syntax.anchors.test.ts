import { describe, expect, it } from 'vitest';
import {
  formatSearchTerm,
  parseSearchQuery,
  SearchSyntaxError,
  type SearchTerm,
} from '../../src/events/search-syntax.ts';

// Values that contain a valid action, day or timestamp but do not consist of one: each regex of the parser
// must match the whole value (mutation testing found the anchors unpinned).

function reasonOf(query: string): string {
  try {
    parseSearchQuery(query);
  } catch (error) {
    if (error instanceof SearchSyntaxError) return error.reason;
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(query)} to be rejected`);
}

const ACTION_REASON =
  'an action is lowercase "noun.verb" like user.login_failed (a-z, 0-9 and _, separated by dots), ' +
  'or the start of one followed by "*" like user.*';
const notADate = (text: string) =>
  `"${text}" is not a date like 2026-11-01 or a timestamp like 2026-11-01T10:00:00Z`;

describe('action values match as a whole', () => {
  it.each([
    'action:9user.login',
    'action:Xuser.login',
    'action:user.login!',
    'action:user.login.Y',
    'action:9user.*',
    'action:.user.*',
    'action:user.lo!*',
    'action:user..*',
  ])('%s is refused', (query) => {
    expect(reasonOf(query)).toBe(ACTION_REASON);
  });

  it('while the action inside them is accepted', () => {
    expect(parseSearchQuery('action:user.login action:user.* action:user.lo*')).toEqual([
      { field: 'action', value: 'user.login', prefix: false, negated: false },
      { field: 'action', value: 'user.', prefix: true, negated: false },
      { field: 'action', value: 'user.lo', prefix: true, negated: false },
    ]);
  });
});

describe('created values match as a whole', () => {
  it.each([
    'x2026-11-01',
    '2026-11-01x',
    '12026-11-01',
    '2026-11-011',
    'x2026-11-01T10:00:00Z',
    '2026-11-01T10:00:00Zx',
    '2026-11-01T10:00:00+02:00x',
    '2026-11-01T10:00:00+02:001',
    '02026-11-01T10:00:00Z',
  ])('created:%s is refused', (value) => {
    expect(reasonOf(`created:${value}`)).toBe(notADate(value));
  });

  it('a comparison operator counts only at the start', () => {
    expect(reasonOf('created:2026-11-01>')).toBe(notADate('2026-11-01>'));
    expect(reasonOf('created:2026-11-01<=')).toBe(notADate('2026-11-01<='));
    expect(reasonOf('created:x>=2026-11-01')).toBe(notADate('x>=2026-11-01'));
  });

  it('in ranges too', () => {
    expect(reasonOf('created:x2026-11-01..2026-11-02')).toBe(notADate('x2026-11-01'));
    expect(reasonOf('created:2026-11-01..2026-11-02x')).toBe(notADate('2026-11-02x'));
  });

  it('while the dates inside them are accepted', () => {
    expect(parseSearchQuery('created:2026-11-01 created:>2026-11-01T10:00:00+02:00')).toEqual([
      {
        field: 'created',
        gte: new Date('2026-11-01T00:00:00Z'),
        lt: new Date('2026-11-02T00:00:00Z'),
        negated: false,
      },
      { field: 'created', gt: new Date('2026-11-01T08:00:00Z'), negated: false },
    ]);
  });
});

describe('formatting quotes what a bare word cannot hold', () => {
  it.each<[SearchTerm, string]>([
    [{ field: 'text', value: 'plain', negated: false }, 'plain'],
    [{ field: 'text', value: '-leading', negated: false }, '"-leading"'],
    [{ field: 'text', value: ':leading', negated: false }, '":leading"'],
    [{ field: 'text', value: 'trailing:', negated: false }, '"trailing:"'],
    [{ field: 'text', value: 'two words', negated: false }, '"two words"'],
    [{ field: 'text', value: 'end ', negated: false }, '"end "'],
    [{ field: 'text', value: 'say"hi', negated: false }, '"say\\"hi"'],
    [{ field: 'text', value: 'back\\"slash', negated: false }, '"back\\\\\\"slash"'],
    [{ field: 'actor', value: 'usr_1', negated: false }, 'actor:usr_1'],
    [{ field: 'actor', value: 'usr 1', negated: true }, '-actor:"usr 1"'],
    [{ field: 'actor', value: 'usr1 ', negated: false }, 'actor:"usr1 "'],
    [{ field: 'actor', value: ' usr1', negated: false }, 'actor:" usr1"'],
    [{ field: 'actor', value: 'a"b', negated: false }, 'actor:"a\\"b"'],
    [{ field: 'actor', value: '-x:y', negated: false }, 'actor:-x:y'],
  ])('%j → %s', (term, written) => {
    expect(formatSearchTerm(term)).toBe(written);
    expect(parseSearchQuery(written)).toEqual([term]);
  });
});
