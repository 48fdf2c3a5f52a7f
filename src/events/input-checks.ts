/**
 * Checks shared by emits and filters for input PostgreSQL cannot store or compare: text with NUL or
 * with half of a UTF-16 surrogate pair, and JSON nested too deep. Each returns the problem (or null)
 * so callers attach the input's path.
 */

/** With the `u` flag a paired surrogate is one code point, so only lone halves match. */
const LONE_SURROGATE = /\p{Cs}/u;

export const LONE_SURROGATE_PROBLEM =
  'contains a lone UTF-16 surrogate (half of a character pair), which is not valid Unicode';

export const hasLoneSurrogate = (text: string) => LONE_SURROGATE.test(text);

/** Why PostgreSQL would refuse this text, or null. */
export function unstorableText(text: string): string | null {
  if (text.includes('\0')) return 'contains the NUL character (U+0000), which cannot be stored';
  if (hasLoneSurrogate(text)) return LONE_SURROGATE_PROBLEM;
  return null;
}

/** A problem inside a JSON value: `at` is the key/index path below the value (empty for the value itself). */
export interface JsonProblem {
  at: string[];
  reason: string;
}

interface Pending {
  value: unknown;
  depth: number;
  parent: Pending | null;
  key: string;
}

const pathOf = (node: Pending | null): string[] => {
  const path: string[] = [];
  for (let at = node; at?.parent; at = at.parent) path.push(at.key);
  return path.reverse();
};

/**
 * Walks a parsed JSON value with an explicit stack, never recursion, so a value nested a million
 * levels deep is refused after `maxDepth + 1` steps instead of overflowing the call stack. Containers
 * count as levels: `{}` is 1 deep, `{"a":[1]}` 2. Keys and strings must be storable text.
 */
export function jsonProblem(value: unknown, maxDepth: number): JsonProblem | null {
  const stack: Pending[] = [{ value, depth: 0, parent: null, key: '' }];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (typeof node.value === 'string') {
      const reason = unstorableText(node.value);
      if (reason) return { at: pathOf(node), reason: `a string value ${reason}` };
      continue;
    }
    if (node.value === null || typeof node.value !== 'object') continue;
    const depth = node.depth + 1;
    if (depth > maxDepth) return { at: [], reason: `nests deeper than ${maxDepth} levels` };
    const entries = Array.isArray(node.value)
      ? node.value.map((child, index) => [String(index), child] as const)
      : Object.entries(node.value);
    for (const [key, child] of entries) {
      const reason = Array.isArray(node.value) ? null : unstorableText(key);
      if (reason) return { at: pathOf(node), reason: `a key ${reason}` };
      stack.push({ value: child, depth, parent: node, key });
    }
  }
  return null;
}
