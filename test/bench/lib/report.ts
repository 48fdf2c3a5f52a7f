import type { ScenarioEntry } from './results.ts';

const number = (value: number | null) => {
  if (value === null || Number.isNaN(value)) return '—';
  if (Math.abs(value) >= 100) return Math.round(value).toLocaleString('en-US');
  return value.toFixed(Math.abs(value) >= 10 ? 1 : 2);
};

const figure = (value: number | null, runs: [number, number, number] | null, unit: string) =>
  value === null
    ? '—'
    : `${number(value)} ${unit}${runs && runs[0] !== runs[2] ? ` (${number(runs[0])}–${number(runs[2])})` : ''}`;

const verdict = (entry: ScenarioEntry) =>
  entry.status !== 'measured' ? entry.status : entry.met === null ? '—' : entry.met ? 'met' : 'MISSED';

function rows(entries: ScenarioEntry[]): string[][] {
  return entries.map((entry) => [
    entry.name,
    figure(entry.value, entry.runs, entry.unit),
    entry.baseline
      ? `${entry.baseline.name}: ${figure(entry.baseline.value, entry.baseline.runs, entry.baseline.unit)}`
      : '—',
    entry.ratio === null ? '—' : `${entry.ratio.toFixed(2)}x`,
    entry.target,
    verdict(entry),
  ]);
}

const HEADER = ['comparison', 'Auditline (median, min–max)', 'baseline', 'ratio', 'target', 'result'];

/** A plain-text table for the terminal. */
export function textTable(entries: ScenarioEntry[]): string {
  const all = [HEADER, ...rows(entries)];
  const widths = HEADER.map((_, column) => Math.min(70, Math.max(...all.map((row) => row[column]!.length))));
  const line = (row: string[]) => row.map((cell, column) => cell.padEnd(widths[column]!)).join(' | ');
  return [line(HEADER), widths.map((width) => '-'.repeat(width)).join('-+-'), ...all.slice(1).map(line)].join(
    '\n',
  );
}

/** The same table in Markdown, for RESULTS.md. */
export function markdownTable(entries: ScenarioEntry[]): string {
  const escapeCell = (cell: string) => cell.replaceAll('|', '\\|');
  return [
    `| ${HEADER.join(' | ')} |`,
    `| ${HEADER.map(() => '---').join(' | ')} |`,
    ...rows(entries).map((row) => `| ${row.map(escapeCell).join(' | ')} |`),
  ].join('\n');
}
