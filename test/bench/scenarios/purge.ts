import { setTimeout as sleep } from 'node:timers/promises';
import { toPublicId } from '../../../src/ids.ts';
import { runPurge, tallyClosedPartitions } from '../../../src/retention/purge.ts';
import { fillDay } from '../../retention/backdated-events.ts';
import { round } from '../lib/compare.ts';
import type { BenchContext } from '../lib/context.ts';
import { measured, type ScenarioEntry } from '../lib/results.ts';
import { auditlineEmitRequests, emitLoad, ingestInputs } from './ingest-workload.ts';
import type { Scenario } from './scenario.ts';

const SCENARIO = 'purge an expired day of 1M events';
const DAY_MS = 86_400_000;
/** Far enough back to be expired under the default 90-day window, and clear of the seeded 30 days. */
const EXPIRED_DAY_AGO = 200;
const CONNECTIONS = 50;
/** Both ingest windows last this long (half in a quick run); the purge starts a quarter into the second one. */
const LOAD_SECONDS = 4;

/**
 * Fills one day 200 days back with 1,000,000 events (20,000 in a quick run), then times the purge that
 * drops it, through the same `runPurge` the scheduled job calls, while single-event ingest runs
 * against the server; the same ingest without a purge is the baseline. Each repeat refills the day.
 */
export const purge: Scenario = {
  id: 'purge',
  title: SCENARIO,
  needsData: false,
  async run(ctx: BenchContext): Promise<ScenarioEntry[]> {
    const dayEvents = ctx.settings.mode === 'quick' ? 20_000 : 1_000_000;
    const organization = ctx.ingestOrganization;
    const key = await ctx.keyFor(organization);
    const requests = auditlineEmitRequests(ingestInputs(organization, 2000, 5), key);
    const server = await ctx.auditline();
    const day = new Date(Math.floor(Date.now() / DAY_MS - EXPIRED_DAY_AGO) * DAY_MS);
    const partition = `events_p${day.toISOString().slice(0, 10).replaceAll('-', '')}`;
    const loadSeconds = ctx.settings.mode === 'quick' ? LOAD_SECONDS / 2 : LOAD_SECONDS;
    const purgeStartMs = (loadSeconds * 1000) / 4;
    const ingest = () => emitLoad(server, requests, CONNECTIONS)(loadSeconds);

    const seconds: number[] = [];
    const withoutPurge: number[] = [];
    const duringPurge: number[] = [];
    const runs: Record<string, unknown>[] = [];
    for (let repeat = 1; repeat <= ctx.settings.repeats; repeat += 1) {
      const filled = performance.now();
      await fillDay(ctx.database, day, [toPublicId('org', organization)], dayEvents);
      // A day this old has long been vacuumed by autovacuum (its visibility map is set, so the purge
      // counts it with an index-only scan); a freshly filled one has not.
      await ctx.sql.unsafe(`vacuum (analyze) ${partition}`);
      // And the scheduled job counted its events once the day closed, as every run does for the days
      // that closed since the one before: the purge reuses that tally (the day took no row since).
      await tallyClosedPartitions(ctx.database.db, new Date());
      const fillSeconds = (performance.now() - filled) / 1000;
      // The server's sealer seals the refilled day (it is settled history like any other); let it finish.
      await ctx.settle(
        server,
        `auditline after refilling the expired day (${repeat}/${ctx.settings.repeats})`,
      );

      const quiet = await ingest();
      const load = ingest();
      await sleep(purgeStartMs);
      const started = performance.now();
      const report = await runPurge(ctx.database, {
        defaultRetentionDays: 90,
        asOf: new Date(),
        trigger: 'bench',
      });
      const purgeSeconds = (performance.now() - started) / 1000;
      const busy = await load;

      const dropped = report.droppedPartitions.length;
      if (report.deletedCount < dayEvents) {
        throw new Error(`the purge removed ${report.deletedCount} events, expected at least ${dayEvents}`);
      }
      seconds.push(purgeSeconds);
      withoutPurge.push(quiet.latencyMs.p99);
      duringPurge.push(busy.latencyMs.p99);
      runs.push({
        fillSeconds: round(fillSeconds, 1),
        purgeSeconds: round(purgeSeconds, 3),
        deleted: report.deletedCount,
        droppedPartitions: dropped,
        stepsMs: report.stepsMs,
        ingestWithout: { rps: Math.round(quiet.requestsPerSecond), p99: round(quiet.latencyMs.p99) },
        ingestDuring: { rps: Math.round(busy.requestsPerSecond), p99: round(busy.latencyMs.p99) },
      });
      ctx.log(
        `${SCENARIO} ${repeat}/${ctx.settings.repeats}: purged ${report.deletedCount} events ` +
          `(${dropped} partition(s) dropped) in ${purgeSeconds.toFixed(2)} s; ingest p99 ` +
          `${quiet.latencyMs.p99.toFixed(1)} ms without, ${busy.latencyMs.p99.toFixed(1)} ms during`,
      );
    }

    const label = dayEvents.toLocaleString('en-US');
    return [
      measured({
        scenario: SCENARIO,
        name: `purge: seconds to purge one expired day of ${label} events`,
        figure: { unit: 's', values: seconds },
        target: { on: 'value', op: '<', value: 1 },
        note: 'runPurge as the scheduled job runs it: partitions ahead, expired day partitions detached (with the count the job took when the day closed) and then dropped, the tail deleted in batches, the purge recorded; details.runs[].stepsMs splits it (the events leave the log at the end of `partitions`; `storage` releases the files)',
        details: { runs },
      }),
      measured({
        scenario: SCENARIO,
        name: `purge: ingest p99 during purge vs without (c=${CONNECTIONS}, ${loadSeconds} s windows)`,
        figure: { unit: 'ms p99', values: duringPurge },
        baseline: { name: 'ingest p99 without purge', figure: { unit: 'ms p99', values: withoutPurge } },
        target: { on: 'ratio', op: '<=', value: 1.2 },
        note: `the purge starts ${purgeStartMs / 1000} s into the ${loadSeconds} s ingest window`,
      }),
    ];
  },
};
