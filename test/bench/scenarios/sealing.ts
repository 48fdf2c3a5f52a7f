import { type ScenarioEntry, unmeasured } from '../lib/results.ts';
import type { Scenario } from './scenario.ts';

const SCENARIO = 'tamper-evidence sealing';

/**
 * STUB until the sealer (issue 6) lands. Not in issue 7's table; proposed rows:
 *
 * - sealer catch-up throughput: events sealed per second over the seeded backlog
 *   (`ctx.dataset.events` events in 100 organizations). Time the sealer's one-pass entry point (e.g.
 *   `sealPending(database, …)` until it reports nothing left) on its own DatabaseHandle; read progress
 *   from the sealer's tree-size table. No baseline: report events/s, and the time per signed checkpoint.
 * - ingest p99 while the sealer runs vs without: single-event ingest at c=50 against
 *   `ctx.auditline()` (its background worker list includes the sealer), once with the sealer idle and
 *   once while it seals a fresh backlog; `target: { on: 'ratio', op: '<=', value: 1.2 }`.
 */
export const sealing: Scenario = {
  id: 'sealing',
  title: SCENARIO,
  needsData: true,
  async run(): Promise<ScenarioEntry[]> {
    const note =
      'Needs the tamper-evidence sealer (issue 6): a one-pass entry point and its progress table. ' +
      'See the plan at the top of test/bench/scenarios/sealing.ts.';
    return [
      unmeasured({
        scenario: SCENARIO,
        name: 'sealing: events sealed per second (catch-up over the seeded backlog)',
        status: 'not yet measured',
        unit: 'events/s',
        note,
      }),
      unmeasured({
        scenario: SCENARIO,
        name: 'sealing: ingest p99 while sealing vs without',
        status: 'not yet measured',
        unit: 'ms p99',
        baselineName: 'ingest p99 with the sealer idle',
        target: { on: 'ratio', op: '<=', value: 1.2 },
        note,
      }),
    ];
  },
};
