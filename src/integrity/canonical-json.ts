import { hasLoneSurrogate } from './bytes.ts';

/**
 * RFC 8785 JSON Canonicalization Scheme (JCS).
 *
 * Only JSON data is accepted: null, booleans, finite numbers, strings, arrays and plain objects. Anything
 * JSON.stringify would silently drop or coerce (undefined, functions, symbols, bigints, Dates, NaN, …) is an
 * error instead, because a hash over silently altered data proves nothing.
 */

export class CanonicalJsonError extends Error {
  constructor(
    readonly path: string,
    problem: string,
  ) {
    super(`canonical JSON: ${problem} at ${path}`);
    this.name = 'CanonicalJsonError';
  }
}

export function canonicalize(value: unknown): string {
  try {
    return serializeFast(value, 0);
  } catch (error) {
    if (error !== NOT_FAST) throw error;
    // The careful walk below produces the same text, or the error naming the offending path.
    return serialize(value, '$', new Set());
  }
}

// ---------------------------------------------------------------------------------------------------------
// The fast path: the same output for valid input, without tracking paths or ancestors. Anything it is
// unsure of (a value to reject, or nesting deep enough to be a cycle) hands over to the careful walk,
// which has the final word. The sealer hashes every event through here, so it matters.

const NOT_FAST = Symbol('not fast');
const MAX_FAST_DEPTH = 500;

/** `String.prototype.isWellFormed` (ES2024, in Node 20) where it exists: no lone surrogates. */
const isWellFormed: (text: string) => boolean =
  typeof (String.prototype as { isWellFormed?: unknown }).isWellFormed === 'function'
    ? (text) => (text as unknown as { isWellFormed(): boolean }).isWellFormed()
    : (text) => !hasLoneSurrogate(text);

function serializeFast(value: unknown, depth: number): string {
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw NOT_FAST;
      return JSON.stringify(value);
    case 'string':
      if (!isWellFormed(value)) throw NOT_FAST;
      return JSON.stringify(value);
    case 'object': {
      if (value === null) return 'null';
      if (depth > MAX_FAST_DEPTH) throw NOT_FAST;
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) {
          if (i > 0) out += ',';
          out += serializeFast(value[i], depth + 1);
        }
        return `${out}]`;
      }
      if (!isPlainObject(value)) throw NOT_FAST;
      // Array.prototype.sort without a comparator orders strings by UTF-16 code units, as JCS wants.
      const keys = Object.keys(value).sort();
      let out = '{';
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i]!;
        if (!isWellFormed(key)) throw NOT_FAST;
        if (i > 0) out += ',';
        out += `${JSON.stringify(key)}:${serializeFast((value as Record<string, unknown>)[key], depth + 1)}`;
      }
      return `${out}}`;
    }
    default:
      throw NOT_FAST;
  }
}

function serialize(value: unknown, path: string, ancestors: Set<object>): string {
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      return serializeNumber(value, path);
    case 'string':
      return serializeString(value, path);
    case 'object':
      if (value === null) return 'null';
      return serializeContainer(value, path, ancestors);
    default:
      throw new CanonicalJsonError(path, `${typeof value} is not a JSON value`);
  }
}

/** RFC 8785 §3.2.2.3: the ECMAScript Number-to-String algorithm, which is what JSON.stringify applies. */
function serializeNumber(value: number, path: string): string {
  if (!Number.isFinite(value)) throw new CanonicalJsonError(path, `${value} is not a finite number`);
  // -0 serializes as "0" (RFC 8785 §3.2.2.3), which JSON.stringify already does.
  return JSON.stringify(value);
}

/**
 * RFC 8785 §3.2.2.2: `"` and `\` escaped, U+0008/09/0A/0C/0D as \b \t \n \f \r, other controls below U+0020
 * as lowercase \u00hh, everything else verbatim. That is exactly ECMAScript's QuoteJSONString. Lone
 * surrogates are rejected because I-JSON (RFC 7493 §2.1), which JCS requires, forbids them.
 */
function serializeString(value: string, path: string): string {
  if (hasLoneSurrogate(value)) throw new CanonicalJsonError(path, 'string contains a lone surrogate');
  return JSON.stringify(value);
}

function serializeContainer(value: object, path: string, ancestors: Set<object>): string {
  if (ancestors.has(value)) throw new CanonicalJsonError(path, 'circular reference');
  ancestors.add(value);
  try {
    if (Array.isArray(value)) return serializeArray(value, path, ancestors);
    if (isPlainObject(value)) return serializeObject(value, path, ancestors);
    throw new CanonicalJsonError(path, `${value.constructor?.name ?? 'object'} is not a plain JSON object`);
  } finally {
    ancestors.delete(value);
  }
}

function serializeArray(items: unknown[], path: string, ancestors: Set<object>): string {
  const parts: string[] = [];
  // A plain index loop (not map/forEach) so holes in sparse arrays are visited and rejected as undefined.
  for (let i = 0; i < items.length; i++) parts.push(serialize(items[i], `${path}[${i}]`, ancestors));
  return `[${parts.join(',')}]`;
}

/** RFC 8785 §3.2.3: properties sorted by their names as arrays of UTF-16 code units. */
function serializeObject(object: object, path: string, ancestors: Set<object>): string {
  const entries = Object.entries(object).sort(([a], [b]) => compareUtf16(a, b));
  const members = entries.map(
    ([key, member]) =>
      `${serializeString(key, `${path} (property name)`)}:${serialize(member, memberPath(path, key), ancestors)}`,
  );
  return `{${members.join(',')}}`;
}

/** JavaScript's relational operators on strings compare UTF-16 code units, which is what JCS wants. */
function compareUtf16(a: string, b: string): number {
  if (a < b) return -1;
  return a > b ? 1 : 0;
}

function isPlainObject(value: object): boolean {
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

function memberPath(path: string, key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}
