import { setTimeout as sleep } from 'node:timers/promises';
import { sealPending } from '../../../src/integrity/sealer.ts';
import { integrityStatus } from '../../../src/integrity/status.ts';
import { cpuDuring, round } from '../lib/compare.ts';
import type { BenchContext } from '../lib/context.ts';
import { measured, type ScenarioEntry } from '../lib/results.ts';
import { runLoad } from '../load/run-load.ts';
import { auditlineBatchRequests, auditlineEmitRequests, emitLoad, ingestInputs } from './ingest-workload.ts';
import type { Scenario } from './scenario.ts';

const SCENARIO = 'tamper-evidence sealing';
const CONNECTIONS = 50;
const BATCH = 2000;
/** Events the server's sealer gets to seal per second of an ingest run, so it is still sealing when the run ends. */
const BACKLOG_PER_SECOND = 15_000;
/** The fastest ingest, as in the batch scenario: emitEvents calls of 500 events, 4 at a time. */
const PER_CALL = 500;
const BATCH_CALLERS = 4;
const LAG_SAMPLE_MS = 500;

const leafCount = async (ctx: BenchContext) =>
  Number((await ctx.sql<{ count: string }[]>`select count(*) from merkle_leaves`)[0]!.count);

/**
 * Sealing throughput over the seeded backlog (the sealer's own `sealPending`, in thirds, before any
 * server has sealed it), and single-event ingest p99 while the server's sealer works through a fresh
 * backlog against the same ingest with the sealer caught up.
 */
export const sealing: Scenario = {
  id: 'sealing',
  title: SCENARIO,
  needsData: true,
  async run(ctx: BenchContext): Promise<ScenarioEntry[]> {
    const { repeats, runSeconds, warmupSeconds } = ctx.settings;
    const backlog = ctx.dataset.events;
    const third = Math.max(1, Math.ceil(backlog / repeats / BATCH));
    const throughput: number[] = [];
    const passes: Record<string, unknown>[] = [];
    for (let pass = 1; pass <= repeats; pass += 1) {
      const result = await sealPending(ctx.database.db, { batch: BATCH, maxBatches: third });
      throughput.push((result.sealed * 1000) / result.ms);
      passes.push({ sealed: result.sealed, ms: result.ms, organizations: result.organizations });
      ctx.log(
        `${SCENARIO} ${pass}/${repeats}: sealed ${result.sealed} events in ${(result.ms / 1000).toFixed(1)} s ` +
          `(${Math.round((result.sealed * 1000) / result.ms)}/s)`,
      );
    }

    const organization = ctx.ingestOrganization;
    const key = await ctx.keyFor(organization);
    const requests = auditlineEmitRequests(ingestInputs(organization, 2000, 17), key);
    const server = await ctx.auditline();
    const ingest = emitLoad(server, requests, CONNECTIONS);
    await ingest(warmupSeconds);

    // Does sealing keep up with the fastest ingest? Batch ingest at full speed while sampling the lag.
    const batchInputs = ingestInputs(organization, 4 * PER_CALL, 29);
    const batchRequests = auditlineBatchRequests(batchInputs, key, PER_CALL);
    const worstLag: number[] = [];
    const ingestRates: number[] = [];
    for (let repeat = 1; repeat <= repeats; repeat += 1) {
      await ctx.settle(server, `auditline sealer caught up before batch ingest (${repeat}/${repeats})`);
      let running = true;
      const load = runLoad({
        url: server.url,
        method: 'POST',
        connections: BATCH_CALLERS,
        durationSeconds: runSeconds,
        requests: batchRequests,
        successMarker: '"rejectedCount":0',
      }).finally(() => {
        running = false;
      });
      const lags: number[] = [];
      while (running) {
        lags.push((await integrityStatus(ctx.database.db, null)).lagSeconds);
        await sleep(LAG_SAMPLE_MS);
      }
      const result = await load;
      worstLag.push(Math.max(...lags));
      ingestRates.push(result.requestsPerSecond * PER_CALL);
      ctx.log(
        `${SCENARIO} ${repeat}/${repeats}: batch ingest ${Math.round(result.requestsPerSecond * PER_CALL)} events/s, ` +
          `sealing lag at most ${Math.max(...lags).toFixed(2)} s over ${lags.length} samples`,
      );
    }

    const idle: number[] = [];
    const busy: number[] = [];
    const runs: Record<string, unknown>[] = [];
    const backlogSize = BACKLOG_PER_SECOND * runSeconds;
    for (let repeat = 1; repeat <= repeats; repeat += 1) {
      await ctx.settle(server, `auditline sealer caught up (${repeat}/${repeats})`);
      const quietRun = await cpuDuring(server, () => ingest(runSeconds));
      const quiet = quietRun.value;

      // A backlog as after an outage of the sealer: settled rows it has not seen, written past the server.
      await ctx.sql`
        insert into events (id, organization_id, action, actor_id, actor_type, targets, target_ids, target_types,
          metadata, search_text, occurred_at, received_at)
        select gen_random_uuid(), ${organization}::uuid, 'document.viewed', 'usr_' || (g % 1000), 'user',
          '[{"id":"doc_1","type":"document"}]', '{doc_1}', '{document}', '{}', 'document.viewed', now(), now()
        from generate_series(1, ${backlogSize}) g`;
      await sleep(1500); // the sealer's safety tick picks the backlog up
      const leavesBefore = await leafCount(ctx);
      const loadedRun = await cpuDuring(server, () => ingest(runSeconds));
      const loaded = loadedRun.value;
      const sealedDuring = (await leafCount(ctx)) - leavesBefore;
      // Cores: CPU seconds per second of the run, how much of the machine each side took.
      const windowOf = (run: typeof quietRun) => ({
        rps: Math.round(run.value.requestsPerSecond),
        p99: round(run.value.latencyMs.p99),
        serverCores: round(run.serverSeconds / runSeconds),
        postgresCores: round(run.postgresSeconds / runSeconds),
        machineBusyPercent: run.machineBusyPercent,
      });
      const [ingestIdle, ingestSealing] = [windowOf(quietRun), windowOf(loadedRun)];
      idle.push(quiet.latencyMs.p99);
      busy.push(loaded.latencyMs.p99);
      runs.push({
        backlog: backlogSize,
        sealedDuringRun: sealedDuring,
        ingestIdle,
        ingestSealing,
      });
      const described = (window: typeof ingestIdle) =>
        `${window.p99} ms (${window.rps} req/s; server ${window.serverCores}, PostgreSQL ${window.postgresCores} ` +
        `cores, machine ${window.machineBusyPercent} % busy)`;
      ctx.log(
        `${SCENARIO} ${repeat}/${repeats}: ingest p99 ${described(ingestIdle)} with the sealer caught up, ` +
          `${described(ingestSealing)} while it sealed ${sealedDuring} of a ${backlogSize}-event backlog`,
      );
    }
    // The scenarios after this one measure pages, not a sealer finishing this backlog.
    await ctx.settle(server, 'auditline sealer caught up after the sealing scenario');

    return [
      measured({
        scenario: SCENARIO,
        name: 'sealing: events sealed per second (catch-up over the seeded backlog) vs the fastest ingest',
        figure: { unit: 'events/s', values: throughput },
        baseline: {
          name: `batch ingest (emitEvents of ${PER_CALL}, ${BATCH_CALLERS} callers) in this scenario`,
          figure: { unit: 'events/s', values: ingestRates },
        },
        target: { on: 'ratio', op: '>=', value: 1 },
        note: `sealPending in batches of ${BATCH}, the seeded backlog in ${repeats} passes; hashing, subtree nodes and log states written in one transaction per batch`,
        details: { passes },
      }),
      measured({
        scenario: SCENARIO,
        name: 'sealing: lag behind the fastest ingest (worst sample)',
        figure: { unit: 's', values: worstLag },
        target: { on: 'value', op: '<', value: 5 },
        note: `age of the oldest unsealed event, sampled every ${LAG_SAMPLE_MS} ms during batch ingest at full speed`,
      }),
      measured({
        scenario: SCENARIO,
        name: `sealing: ingest p99 while sealing vs without (c=${CONNECTIONS})`,
        figure: { unit: 'ms p99', values: busy },
        baseline: { name: 'ingest p99 with the sealer caught up', figure: { unit: 'ms p99', values: idle } },
        target: { on: 'ratio', op: '<=', value: 1.2 },
        note: "the server's own sealer works through the backlog during the run",
        details: { runs },
      }),
    ];
  },
};
