import { type ScenarioEntry, unmeasured } from '../lib/results.ts';
import type { Scenario } from './scenario.ts';

const SCENARIO = 'live stream, 1,000 events/s, 500 subscribers';

/**
 * STUB until the live stream (issue 3) lands. To measure it, replace `run` with:
 *
 * 1. `const server = await ctx.auditline()` and one key per organization (`ctx.keyFor`), with the
 *    `events:stream` scope (keyFor already grants it).
 * 2. A subscriber child process (fork a script like load/autocannon-child.ts does, using graphql-ws
 *    over `ws`) that opens 500 subscriptions to the stream subscription on `ws://…/graphql` with
 *    `connectionParams.authorization`, and records for every delivered event
 *    `Date.now() - metadata.sentAt` (same machine, same clock).
 * 3. An emitter child: autocannon with `overallRate: 1000` posting `emitEvent` whose input carries
 *    `metadata.sentAt = Date.now()` set in setupRequest, for `ctx.settings.runSeconds`, 3 repeats.
 * 4. Baseline in the same run: a child that commits `insert …; select pg_notify('bench', <ms>)`
 *    1,000 times a second into `bench_raw.events` while a postgres.js `listen('bench')` callback
 *    records arrival − commit time (commit→callback p50/p99).
 * 5. Entries: `measured({ figure: p99 ms of Auditline, baseline: raw NOTIFY p99, target: { on:
 *    'value', op: '<', value: 50 } })`, plus one for p50; put p50/p90/max and deliveries in details.
 */
export const streamLatency: Scenario = {
  id: 'stream',
  title: SCENARIO,
  needsData: false,
  async run(): Promise<ScenarioEntry[]> {
    const note =
      'Needs the live stream (issue 3): a graphql-ws subscription that delivers emitted events. ' +
      'See the plan at the top of test/bench/scenarios/stream-latency.ts.';
    return [
      unmeasured({
        scenario: SCENARIO,
        name: 'live stream: emit→receive p99',
        status: 'not yet measured',
        unit: 'ms p99',
        baselineName: 'raw LISTEN/NOTIFY commit→callback p99',
        target: { on: 'value', op: '<', value: 50 },
        note,
      }),
      unmeasured({
        scenario: SCENARIO,
        name: 'live stream: emit→receive p50',
        status: 'not yet measured',
        unit: 'ms p50',
        baselineName: 'raw LISTEN/NOTIFY commit→callback p50',
        note,
      }),
    ];
  },
};
