/** PostgreSQL COPY text format: tab-separated, `\N` for NULL, backslash escapes. */

const SPECIAL = /[\\\t\n\r]/;

export function copyField(value: string | null): string {
  if (value === null) return '\\N';
  if (!SPECIAL.test(value)) return value;
  return value.replace(/[\\\t\n\r]/g, (char) =>
    char === '\\' ? '\\\\' : char === '\t' ? '\\t' : char === '\n' ? '\\n' : '\\r',
  );
}

/** A `text[]` literal: every element double-quoted, with `"` and `\` escaped. */
export function textArrayLiteral(values: readonly string[]): string {
  return `{${values.map((value) => `"${value.replace(/["\\]/g, (char) => `\\${char}`)}"`).join(',')}}`;
}

export const jsonField = (value: unknown) =>
  value === null || value === undefined ? null : JSON.stringify(value);
