import type { CliIo } from './command.ts';

export function writeJson(io: CliIo, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function writeLines(io: CliIo, ...lines: string[]): void {
  io.stdout.write(`${lines.join('\n')}\n`);
}

/** Columns padded to their widest cell, two spaces apart; the last column is not padded. */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const formatRow = (cells: readonly string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column]!)))
      .join('  ');
  return [headers, ...rows].map(formatRow).join('\n');
}

/** `2026-11-28T14:17:58Z`: second precision reads better in a table. */
export function formatTime(date: Date | null, absent = '-'): string {
  return date ? date.toISOString().replace(/\.\d{3}Z$/, 'Z') : absent;
}
