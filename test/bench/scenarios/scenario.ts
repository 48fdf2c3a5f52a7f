import type { BenchContext } from '../lib/context.ts';
import type { ScenarioEntry } from '../lib/results.ts';

/**
 * One row of the table. A scenario starts the servers it needs through the context, checks
 * that every contender answers correctly before timing it, and returns one entry per comparison.
 */
export interface Scenario {
  id: string;
  title: string;
  /**
   * Runs after the data set is loaded (ctx.dataset). Scenarios without it run first, on empty event
   * tables (the same for every contender), before the load and before any backlog for background
   * workers exists.
   */
  needsData: boolean;
  /** Compares with the PostGraphile baseline, whose packages are installed on first use. */
  usesPostgraphile?: boolean;
  run(ctx: BenchContext): Promise<ScenarioEntry[]>;
}
