/** One row of the results: a figure of Auditline, optionally against a baseline from the same run. */
export interface ScenarioEntry {
  /** The row of the table this belongs to, e.g. "single-event ingest, c=50". */
  scenario: string;
  /** The comparison, e.g. "single-event ingest, c=50: Auditline vs PostGraphile 5". */
  name: string;
  status: 'measured' | 'not yet measured' | 'not measured';
  value: number | null;
  unit: string;
  /** [min, median, max] over the repeats (value is the median). */
  runs: [number, number, number] | null;
  baseline: {
    name: string;
    value: number | null;
    unit: string;
    runs: [number, number, number] | null;
  } | null;
  /** value / baseline.value, from the medians. */
  ratio: number | null;
  /** Human form, e.g. "≥ 1.2x" or "< 50 ms". */
  target: string;
  /** What the target applies to, how, and to which number; `met` is computed from these. */
  targetOn: 'ratio' | 'value' | null;
  targetOp: '>=' | '<=' | '<' | null;
  targetValue: number | null;
  met: boolean | null;
  repeats: number;
  note?: string;
  details?: Record<string, unknown>;
}

export interface Figure {
  unit: string;
  values: number[];
}

export function summarize(values: readonly number[]): [number, number, number] {
  if (values.length === 0) throw new Error('no values to summarize');
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  return [sorted[0]!, median, sorted.at(-1)!];
}

export interface Target {
  on: 'ratio' | 'value';
  op: '>=' | '<=' | '<';
  value: number;
}

const SYMBOL = { '>=': '≥', '<=': '≤', '<': '<' } as const;

export function targetText(target: Target | null, unit: string): string {
  if (!target) return '—';
  return target.on === 'ratio'
    ? `${SYMBOL[target.op]} ${target.value}x`
    : `${SYMBOL[target.op]} ${target.value} ${unit}`;
}

export function meets(target: Target, measured: number): boolean {
  if (target.op === '>=') return measured >= target.value;
  if (target.op === '<=') return measured <= target.value;
  return measured < target.value;
}

/** A measured row; with a baseline, ratio = median / baseline median. */
export function measured(input: {
  scenario: string;
  name: string;
  figure: Figure;
  baseline?: { name: string; figure: Figure } | null;
  target?: Target | null;
  note?: string;
  details?: Record<string, unknown>;
}): ScenarioEntry {
  const runs = summarize(input.figure.values);
  const baselineRuns = input.baseline ? summarize(input.baseline.figure.values) : null;
  const ratio = baselineRuns ? runs[1] / baselineRuns[1] : null;
  const target = input.target ?? null;
  let met: boolean | null = null;
  if (target?.on === 'ratio' && ratio !== null) met = meets(target, ratio);
  if (target?.on === 'value') met = meets(target, runs[1]);
  return {
    scenario: input.scenario,
    name: input.name,
    status: 'measured',
    value: runs[1],
    unit: input.figure.unit,
    runs,
    baseline: input.baseline
      ? {
          name: input.baseline.name,
          value: baselineRuns![1],
          unit: input.baseline.figure.unit,
          runs: baselineRuns,
        }
      : null,
    ratio,
    target: targetText(target, input.figure.unit),
    targetOn: target?.on ?? null,
    targetOp: target?.op ?? null,
    targetValue: target?.value ?? null,
    met,
    repeats: input.figure.values.length,
    ...(input.note ? { note: input.note } : {}),
    ...(input.details ? { details: input.details } : {}),
  };
}

/** A row that has no figure: a scenario waiting for a feature, or a baseline that could not run. */
export function unmeasured(input: {
  scenario: string;
  name: string;
  status: 'not yet measured' | 'not measured';
  unit: string;
  baselineName?: string;
  target?: Target | null;
  note: string;
  details?: Record<string, unknown>;
}): ScenarioEntry {
  const target = input.target ?? null;
  return {
    scenario: input.scenario,
    name: input.name,
    status: input.status,
    value: null,
    unit: input.unit,
    runs: null,
    baseline: input.baselineName
      ? { name: input.baselineName, value: null, unit: input.unit, runs: null }
      : null,
    ratio: null,
    target: targetText(target, input.unit),
    targetOn: target?.on ?? null,
    targetOp: target?.op ?? null,
    targetValue: target?.value ?? null,
    met: null,
    repeats: 0,
    note: input.note,
    ...(input.details ? { details: input.details } : {}),
  };
}
