import type { BenchContext } from '../lib/context.ts';
import type { ScenarioEntry } from '../lib/results.ts';

/**
 * One row of the table. A scenario starts the servers it needs through the context, checks
 * that every contender answers correctly before timing it, and returns one entry per comparison.
 */
export interface Scenario {
  id: string;
  title: string;
  run(ctx: BenchContext): Promise<ScenarioEntry[]>;
}
