import { formatIpOrCidr, parseIpOrCidr } from './ip.ts';

/** One term of an `events(query:)` search string; all terms must match (AND). */
export type SearchTerm =
  | { field: 'action'; value: string; prefix: boolean; negated: boolean }
  | { field: 'actor' | 'actor_type' | 'target' | 'target_type'; value: string; negated: boolean }
  | { field: 'ip'; value: string; negated: boolean }
  | { field: 'created'; gte?: Date; gt?: Date; lte?: Date; lt?: Date; negated: boolean }
  | { field: 'text'; value: string; negated: boolean };

export type CreatedTerm = Extract<SearchTerm, { field: 'created' }>;
type CreatedBounds = Omit<CreatedTerm, 'field' | 'negated'>;

export const SEARCH_QUALIFIERS = [
  'action',
  'actor',
  'actor_type',
  'target',
  'target_type',
  'ip',
  'created',
] as const;
export type SearchQualifier = (typeof SEARCH_QUALIFIERS)[number];

export const MAX_SEARCH_TERMS = 50;
export const MAX_SEARCH_QUERY_LENGTH = 1000;

export class SearchSyntaxError extends Error {
  override readonly name = 'SearchSyntaxError';

  /**
   * @param position 0-based offset of the offending term in the query (of the limit, for a too-long query)
   * @param term the offending term as written, including a leading `-`; empty when the whole query is at fault
   * @param reason the message without the "Invalid search term … at position …" preamble
   */
  constructor(
    message: string,
    readonly position: number,
    readonly term: string,
    readonly reason: string,
  ) {
    super(message);
  }

  static forTerm(term: string, position: number, reason: string): SearchSyntaxError {
    const message = `Invalid search term ${quoteForMessage(term)} at position ${position}: ${reason}`;
    return new SearchSyntaxError(message, position, term, reason);
  }
}

/** Parses a GitHub-style search string such as `action:user.* -actor_type:system created:>=2026-11-01 "bad password"`. */
export function parseSearchQuery(input: string): SearchTerm[] {
  if (input.length > MAX_SEARCH_QUERY_LENGTH) {
    const reason = `it is ${input.length} characters long, at most ${MAX_SEARCH_QUERY_LENGTH} are allowed`;
    throw new SearchSyntaxError(`Search query is too long: ${reason}`, MAX_SEARCH_QUERY_LENGTH, '', reason);
  }
  const terms: SearchTerm[] = [];
  for (let position = skipWhitespace(input, 0); position < input.length; ) {
    const raw = readTerm(input, position);
    if (terms.length === MAX_SEARCH_TERMS) throw tooManyTerms(raw);
    terms.push(interpretTerm(raw));
    position = skipWhitespace(input, raw.position + raw.text.length);
  }
  return terms;
}

export function formatSearchTerms(terms: readonly SearchTerm[]): string {
  return terms.map(formatSearchTerm).join(' ');
}

/** The inverse of parsing one term: `parseSearchQuery(formatSearchTerm(t))` yields `[t]` for any parsed `t`. */
export function formatSearchTerm(term: SearchTerm): string {
  const body = formatTermBody(term);
  return term.negated ? `-${body}` : body;
}

// ---------------------------------------------------------------------------------------------
// Splitting the query into terms

/** A term as written: `qualifier` is null for free text; `value` has quotes and escapes removed. */
interface RawTerm {
  text: string;
  position: number;
  negated: boolean;
  qualifier: string | null;
  value: string;
}

const WHITESPACE = /\s/;

function isWhitespace(char: string | undefined): boolean {
  return char !== undefined && WHITESPACE.test(char);
}

function skipWhitespace(input: string, position: number): number {
  let end = position;
  while (isWhitespace(input[end])) end++;
  return end;
}

function endOfWord(input: string, position: number): number {
  let end = position;
  while (end < input.length && !isWhitespace(input[end])) end++;
  return end;
}

function readTerm(input: string, start: number): RawTerm {
  const negated = input[start] === '-';
  const bodyStart = negated ? start + 1 : start;
  if (bodyStart === input.length || isWhitespace(input[bodyStart])) {
    throw SearchSyntaxError.forTerm(
      '-',
      start,
      'put the term to exclude right after "-", e.g. -actor_type:system',
    );
  }
  if (input[bodyStart] === '"') {
    const phrase = readQuoted(input, start, bodyStart);
    return {
      text: input.slice(start, phrase.end),
      position: start,
      negated,
      qualifier: null,
      value: phrase.value,
    };
  }

  const nameEnd = endOfName(input, bodyStart);
  if (input[nameEnd] === '"') throw misplacedQuote(input, start);
  if (input[nameEnd] !== ':') {
    return {
      text: input.slice(start, nameEnd),
      position: start,
      negated,
      qualifier: null,
      value: input.slice(bodyStart, nameEnd),
    };
  }

  const qualifier = input.slice(bodyStart, nameEnd);
  const valueStart = nameEnd + 1;
  const { value, end } =
    input[valueStart] === '"'
      ? readQuoted(input, start, valueStart)
      : readBareValue(input, start, valueStart);
  return { text: input.slice(start, end), position: start, negated, qualifier, value };
}

function endOfName(input: string, position: number): number {
  let end = position;
  while (end < input.length && !isWhitespace(input[end]) && input[end] !== ':' && input[end] !== '"') end++;
  return end;
}

function readBareValue(input: string, termStart: number, valueStart: number): { value: string; end: number } {
  const end = endOfWord(input, valueStart);
  if (input.slice(valueStart, end).includes('"')) throw misplacedQuote(input, termStart);
  return { value: input.slice(valueStart, end), end };
}

/** Reads `"..."` starting at the opening quote; `\"` and `\\` are the only escapes. */
function readQuoted(input: string, termStart: number, openQuote: number): { value: string; end: number } {
  let value = '';
  for (let i = openQuote + 1; i < input.length; i++) {
    const char = input[i];
    const next = input[i + 1];
    if (char === '\\' && (next === '"' || next === '\\')) {
      value += next;
      i++;
    } else if (char === '"') {
      const end = i + 1;
      if (end < input.length && !isWhitespace(input[end])) {
        const text = input.slice(termStart, endOfWord(input, end));
        throw SearchSyntaxError.forTerm(text, termStart, 'put a space after the closing double quote');
      }
      return { value, end };
    } else {
      value += char;
    }
  }
  throw SearchSyntaxError.forTerm(
    input.slice(termStart),
    termStart,
    'the double quote is never closed; add a closing " (write \\" for a quote inside the phrase)',
  );
}

function misplacedQuote(input: string, termStart: number): SearchSyntaxError {
  return SearchSyntaxError.forTerm(
    input.slice(termStart, endOfWord(input, termStart)),
    termStart,
    'a double quote may only start a phrase or a value, e.g. "some phrase" or actor:"Jane Doe"',
  );
}

function tooManyTerms(raw: RawTerm): SearchSyntaxError {
  const reason = `at most ${MAX_SEARCH_TERMS} terms are allowed, ${quoteForMessage(raw.text)} at position ${raw.position} is one too many`;
  return new SearchSyntaxError(`Search query has too many terms: ${reason}`, raw.position, raw.text, reason);
}

function quoteForMessage(text: string): string {
  const shown = text.length > 60 ? `${text.slice(0, 57)}...` : text;
  return JSON.stringify(shown);
}

// ---------------------------------------------------------------------------------------------
// Interpreting one term

/** Thrown by the value parsers below; turned into a SearchSyntaxError naming the whole term. */
class TermProblem extends Error {}

function fail(reason: string): never {
  throw new TermProblem(reason);
}

function interpretTerm(raw: RawTerm): SearchTerm {
  try {
    return { ...termBody(raw), negated: raw.negated };
  } catch (error) {
    if (error instanceof TermProblem) throw SearchSyntaxError.forTerm(raw.text, raw.position, error.message);
    throw error;
  }
}

const VALUE_EXAMPLES: Record<SearchQualifier, string> = {
  action: 'user.login',
  actor: 'usr_123',
  actor_type: 'user',
  target: 'doc_42',
  target_type: 'document',
  ip: '10.0.0.0/8',
  created: '>=2026-11-01',
};

type WithoutNegation<T> = T extends unknown ? Omit<T, 'negated'> : never;
type TermBody = WithoutNegation<SearchTerm>;

function termBody({ qualifier, value }: RawTerm): TermBody {
  // PostgreSQL text cannot hold NUL, so reject it here rather than fail in the database.
  if (value.includes('\0')) fail('the NUL character is not allowed');
  if (qualifier === null) {
    if (value.trim() === '') fail('the quoted phrase is empty');
    return { field: 'text', value };
  }

  const field = knownQualifier(qualifier);
  if (value.trim() === '') {
    fail(
      `missing value after "${field}:"; write it right after the colon, e.g. ${field}:${VALUE_EXAMPLES[field]}`,
    );
  }
  switch (field) {
    case 'action':
      return { field, ...parseActionValue(value) };
    case 'ip':
      return { field, value: parseIpValue(value) };
    case 'created':
      return { field, ...parseCreatedValue(value) };
    default:
      return { field, value };
  }
}

function knownQualifier(name: string): SearchQualifier {
  const lowerCased = name.toLowerCase();
  const known = SEARCH_QUALIFIERS.find((qualifier) => qualifier === lowerCased);
  if (known) return known;
  const problem = name === '' ? 'missing qualifier before ":"' : `unknown qualifier "${name}"`;
  fail(
    `${problem} (known: ${SEARCH_QUALIFIERS.join(', ')}); ` +
      'to search for text containing ":", put it in double quotes',
  );
}

const ACTION = /^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$/;
const ACTION_PREFIX = /^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*\.?$/;

function parseActionValue(value: string): { value: string; prefix: boolean } {
  const stem = value.endsWith('*') ? value.slice(0, -1) : value;
  const prefix = stem !== value;
  if (stem.includes('*')) fail('"*" is only allowed at the end, e.g. action:user.*');
  if (prefix && stem === '') fail('"*" needs the start of an action before it, e.g. action:user.*');
  if (!(prefix ? ACTION_PREFIX : ACTION).test(stem)) {
    fail(
      'an action is lowercase "noun.verb" like user.login_failed (a-z, 0-9 and _, separated by dots), ' +
        'or the start of one followed by "*" like user.*',
    );
  }
  return { value: stem, prefix };
}

function parseIpValue(value: string): string {
  const network = parseIpOrCidr(value);
  if (network) return formatIpOrCidr(network);
  const [address = '', prefix, ...rest] = value.split('/');
  if (prefix !== undefined && rest.length === 0 && parseIpOrCidr(address)) {
    fail(
      address.includes(':') ? 'an IPv6 prefix length must be 0-128' : 'an IPv4 prefix length must be 0-32',
    );
  }
  fail(`"${value}" is not an IP address or CIDR range like 10.0.0.1, 10.0.0.0/8 or 2001:db8::/32`);
}

// ---------------------------------------------------------------------------------------------
// created: values

/** A date alone stands for the whole UTC day; a timestamp for one instant. */
type Moment = { kind: 'day'; start: Date; end: Date } | { kind: 'instant'; at: Date };

const DAY_MS = 86_400_000;
const COMPARISON = /^(>=|<=|>|<)/;

function parseCreatedValue(value: string): CreatedBounds {
  const bounds = createdBounds(value);
  // The midnight after 9999-12-31 is in the year 10000; toISOString() writes it as +010000-…, which PostgreSQL rejects.
  if (Object.values(bounds).some((bound: Date) => bound.getTime() > LATEST)) {
    fail('the range reaches past 9999-12-31, the latest supported date');
  }
  return bounds;
}

function createdBounds(value: string): CreatedBounds {
  const operator = COMPARISON.exec(value)?.[0];
  if (operator) return comparisonBounds(operator, parseMoment(value.slice(operator.length)));
  const dots = value.indexOf('..');
  if (dots !== -1) return rangeBounds(value.slice(0, dots), value.slice(dots + 2));
  const moment = parseMoment(value);
  return moment.kind === 'day' ? { gte: moment.start, lt: moment.end } : { gte: moment.at, lte: moment.at };
}

function comparisonBounds(operator: string, moment: Moment): CreatedBounds {
  if (moment.kind === 'instant') {
    const { at } = moment;
    if (operator === '>=') return { gte: at };
    if (operator === '>') return { gt: at };
    if (operator === '<=') return { lte: at };
    return { lt: at };
  }
  // Whole days keep the half-open [gte, lt) shape: "after the 1st" starts at the 2nd's midnight.
  const { start, end } = moment;
  if (operator === '>=') return { gte: start };
  if (operator === '>') return { gte: end };
  if (operator === '<=') return { lt: end };
  return { lt: start };
}

function rangeBounds(from: string, to: string): CreatedBounds {
  if (from === '' || to === '') fail('use * for an open end of a range, e.g. 2026-11-01..* or *..2026-11-07');
  if (from === '*' && to === '*') {
    fail('a range needs at least one date, e.g. 2026-11-01..* or *..2026-11-07');
  }
  const lower = from === '*' ? {} : lowerBound(parseMoment(from));
  const upper = to === '*' ? {} : upperBound(parseMoment(to));
  const bounds = { ...lower, ...upper };
  if (isEmptyRange(bounds)) fail(`the range is reversed: ${from} is after ${to}`);
  return bounds;
}

function lowerBound(moment: Moment): CreatedBounds {
  return { gte: moment.kind === 'day' ? moment.start : moment.at };
}

function upperBound(moment: Moment): CreatedBounds {
  return moment.kind === 'day' ? { lt: moment.end } : { lte: moment.at };
}

function isEmptyRange({ gte, lt, lte }: CreatedBounds): boolean {
  if (gte === undefined) return false;
  if (lt !== undefined) return gte >= lt;
  return lte !== undefined && gte > lte;
}

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))?$/;
const EARLIEST = utcInstant([1, 1, 1], [0, 0, 0, 0]).getTime();
const LATEST = utcInstant([9999, 12, 31], [23, 59, 59, 999]).getTime();

function parseMoment(text: string): Moment {
  const day = DAY.exec(text);
  if (day) {
    const start = utcInstant(validDate(day), [0, 0, 0, 0]);
    return { kind: 'day', start, end: new Date(start.getTime() + DAY_MS) };
  }
  const timestamp = TIMESTAMP.exec(text);
  if (timestamp) return { kind: 'instant', at: parseTimestamp(timestamp) };
  if (text === '') fail('missing date, e.g. created:>=2026-11-01');
  fail(`"${text}" is not a date like 2026-11-01 or a timestamp like 2026-11-01T10:00:00Z`);
}

function parseTimestamp(match: RegExpExecArray): Date {
  const [, , , , hour, minute, second, fraction = '', zulu, sign, offsetHours, offsetMinutes] = match;
  if (!zulu && !sign) {
    fail('a timestamp needs a time zone, e.g. 2026-11-01T10:00:00Z or 2026-11-01T10:00:00+02:00');
  }
  const time = [
    inRange(hour, 0, 23, 'hour'),
    inRange(minute, 0, 59, 'minute'),
    inRange(second, 0, 59, 'second'),
    milliseconds(fraction),
  ];
  const local = utcInstant(validDate(match), time);
  const offset = sign
    ? inRange(offsetHours, 0, 23, 'offset hour') * 60 + inRange(offsetMinutes, 0, 59, 'offset minute')
    : 0;
  const at = new Date(local.getTime() - (sign === '-' ? -offset : offset) * 60_000);
  if (at.getTime() < EARLIEST || at.getTime() > LATEST) {
    fail('a timestamp must lie between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z');
  }
  return at;
}

function milliseconds(fraction: string): number {
  if (/[1-9]/.test(fraction.slice(3))) fail('fractional seconds finer than milliseconds are not supported');
  return Number(fraction.slice(0, 3).padEnd(3, '0'));
}

function validDate([, year, month, day]: RegExpExecArray): [number, number, number] {
  const y = inRange(year, 1, 9999, 'year');
  const m = inRange(month, 1, 12, 'month');
  const lastDay = utcInstant([y, m + 1, 0], [0, 0, 0, 0]).getUTCDate();
  const d = Number(day);
  if (d < 1 || d > lastDay) fail(`day must be 01-${lastDay} in ${year}-${month}`);
  return [y, m, d];
}

function inRange(digits: string | undefined, min: number, max: number, unit: string): number {
  const n = Number(digits);
  const width = digits?.length ?? 2;
  if (n < min || n > max) fail(`${unit} must be ${pad(min, width)}-${pad(max, width)}`);
  return n;
}

/** Avoids Date.UTC, which maps the years 0-99 to 1900-1999. */
function utcInstant(
  [year, month, day]: [number, number, number],
  [hours, minutes, seconds, ms]: number[],
): Date {
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hours ?? 0, minutes ?? 0, seconds ?? 0, ms ?? 0);
  return date;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

// ---------------------------------------------------------------------------------------------
// Formatting

function formatTermBody(term: SearchTerm): string {
  switch (term.field) {
    case 'text':
      return formatText(term.value);
    case 'action':
      return `action:${formatValue(term.prefix ? `${term.value}*` : term.value)}`;
    case 'created':
      return `created:${formatCreatedValue(term)}`;
    default:
      return `${term.field}:${formatValue(term.value)}`;
  }
}

function formatText(value: string): string {
  return /^[^\s":-][^\s":]*$/.test(value) ? value : quote(value);
}

function formatValue(value: string): string {
  return /^[^\s"]+$/.test(value) ? value : quote(value);
}

function quote(value: string): string {
  return `"${value.replace(/[\\"]/g, '\\$&')}"`;
}

function formatCreatedValue({ gte, gt, lte, lt }: CreatedBounds): string {
  const unwritable = () =>
    new RangeError(
      `created bounds ${JSON.stringify({ gte, gt, lte, lt })} cannot be written as one search term`,
    );
  if (gt) {
    if (gte || lte || lt) throw unwritable();
    return `>${formatInstant(gt)}`;
  }
  if (lte && lt) throw unwritable();
  if (!gte) {
    if (lte) return `<=${formatInstant(lte)}`;
    if (lt) return `<${formatBoundary(lt)}`;
    throw unwritable();
  }
  if (lte) {
    const isInstant = gte.getTime() === lte.getTime();
    return isInstant ? formatInstant(gte) : `${formatBoundary(gte)}..${formatInstant(lte)}`;
  }
  if (!lt) return `>=${formatBoundary(gte)}`;
  if (!isMidnight(lt)) throw unwritable();
  if (isMidnight(gte) && lt.getTime() - gte.getTime() === DAY_MS) return formatDay(gte);
  return `${formatBoundary(gte)}..${formatDay(new Date(lt.getTime() - DAY_MS))}`;
}

/** For `>=`, `<` and a range's start, midnight written as a day means the same and reads better. */
function formatBoundary(date: Date): string {
  return isMidnight(date) ? formatDay(date) : formatInstant(date);
}

function isMidnight(date: Date): boolean {
  return date.getTime() % DAY_MS === 0;
}

function formatDay(date: Date): string {
  return formatInstant(date).slice(0, 10);
}

function formatInstant(date: Date): string {
  const time = date.getTime();
  if (!(time >= EARLIEST && time <= LATEST)) throw new RangeError(`${date} is outside the years 0001-9999`);
  return date.toISOString().replace('.000Z', 'Z');
}
