import { type ScenarioEntry, unmeasured } from '../lib/results.ts';
import type { Scenario } from './scenario.ts';

const SCENARIO = 'purge an expired day of 1M events';

/**
 * STUB until the retention purge (issue 4) lands. To measure it, replace `run` with:
 *
 * 1. Load one expired day: `seedEvents({ url: ctx.databaseUrl, events: 1_000_000 (quick: 100_000),
 *    range: { from: <day D 00:00Z>, to: <day D 23:59Z> } })` with D older than the retention window
 *    (it creates the partition `events_pYYYYMMDD` through `auditline_ensure_partitions`).
 * 2. Give the bench organizations a retention policy that makes day D expired (through the purge
 *    feature's own function, e.g. `setRetentionPolicy(db, …)`).
 * 3. Ingest p99 without purge: single-event ingest at c=50 against `ctx.auditline()` for
 *    `ctx.settings.runSeconds` (reuse `auditlineEmitRequests` and `runLoad`).
 * 4. The same ingest load started in parallel with the purge entry point (e.g.
 *    `purgeExpired(database, now)` on its own DatabaseHandle); time the purge with
 *    performance.now() and take ingest p99 during it. 3 repeats = reload day D each time.
 * 5. Entries: purge seconds with `target: { on: 'value', op: '<', value: 1 }`; ingest p99 during
 *    purge vs without with `target: { on: 'ratio', op: '<=', value: 1.2 }`.
 */
export const purge: Scenario = {
  id: 'purge',
  title: SCENARIO,
  needsData: false,
  async run(): Promise<ScenarioEntry[]> {
    const note =
      'Needs the retention purge (issue 4): a function or worker that drops an expired day partition. ' +
      'See the plan at the top of test/bench/scenarios/purge.ts.';
    return [
      unmeasured({
        scenario: SCENARIO,
        name: 'purge: seconds to purge one expired day of 1M events',
        status: 'not yet measured',
        unit: 's',
        target: { on: 'value', op: '<', value: 1 },
        note,
      }),
      unmeasured({
        scenario: SCENARIO,
        name: 'purge: ingest p99 during purge vs without',
        status: 'not yet measured',
        unit: 'ms p99',
        baselineName: 'ingest p99 without purge',
        target: { on: 'ratio', op: '<=', value: 1.2 },
        note,
      }),
    ];
  },
};
