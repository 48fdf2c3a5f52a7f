import { prepareEvent } from '../../../src/events/emit-input.ts';
import { recordOf } from '../../../src/events/event-row.ts';
import { cpuDuring, postJson, round } from '../lib/compare.ts';
import type { BenchContext } from '../lib/context.ts';
import { measured, type ScenarioEntry } from '../lib/results.ts';
import type { RawBatchSpec } from '../load/raw-batch.ts';
import { loadGeneratorCpuSeconds, runLoad, runRawBatch } from '../load/run-load.ts';
import { auditlineBatchRequests, ingestInputs } from './ingest-workload.ts';
import type { Scenario } from './scenario.ts';

const SCENARIO = 'batch ingest, 500 events per call';
const PER_CALL = 500;
const RAW_ROWS = 1000;
/** The same number of callers for both: Auditline's group commit merges two calls into one 1000-row INSERT. */
const CONNECTIONS = 4;

const perEvent = (seconds: number, events: number) => round((seconds * 1e6) / Math.max(1, events), 1);

export const batchIngest: Scenario = {
  id: 'batch',
  title: SCENARIO,
  needsData: false,
  async run(ctx: BenchContext): Promise<ScenarioEntry[]> {
    const organization = ctx.ingestOrganization;
    const inputs = ingestInputs(organization, 4000, 123);
    const key = await ctx.keyFor(organization);
    const auditline = await ctx.auditline();
    const requests = auditlineBatchRequests(inputs, key, PER_CALL);
    const answer = await postJson(`${auditline.url}/graphql`, requests[0]!.body!, requests[0]!.headers);
    if (answer.data?.emitEvents?.acceptedCount !== PER_CALL) {
      throw new Error(
        `emitEvents smoke test did not accept ${PER_CALL} events: ${JSON.stringify(answer).slice(0, 500)}`,
      );
    }
    const now = new Date(Date.now() + 60_000);
    const rows = inputs.slice(0, RAW_ROWS).map((input) => {
      const prepared = prepareEvent(input, { id: organization, organizationId: organization }, now);
      if (!prepared.ok) throw new Error(prepared.error.message);
      return recordOf(prepared.event, now) as unknown as Record<string, unknown>;
    });
    const rawSpec = (durationSeconds: number): RawBatchSpec => ({
      databaseUrl: ctx.databaseUrl,
      table: 'bench_raw.events',
      rows,
      connections: CONNECTIONS,
      durationSeconds,
    });
    const auditlineLoad = (durationSeconds: number) =>
      runLoad({
        url: auditline.url,
        method: 'POST',
        connections: CONNECTIONS,
        durationSeconds,
        requests,
        failMarker: '"errors"',
        successMarker: `"rejectedCount":0`,
      });

    const { warmupSeconds, runSeconds, repeats } = ctx.settings;
    ctx.log(`${SCENARIO}: warming up (${warmupSeconds} s each)`);
    await auditlineLoad(warmupSeconds);
    await runRawBatch(rawSpec(warmupSeconds));
    const ours: number[] = [];
    let fewestCalls = Number.POSITIVE_INFINITY;
    const theirs: number[] = [];
    const details: { auditline: unknown[]; raw: unknown[] } = { auditline: [], raw: [] };
    for (let repeat = 1; repeat <= repeats; repeat += 1) {
      const auditlineRun = await cpuDuring(auditline, () => auditlineLoad(runSeconds));
      const result = auditlineRun.value;
      ours.push(result.requestsPerSecond * PER_CALL);
      fewestCalls = Math.min(fewestCalls, result.requests);
      const ourCpu = {
        serverMicrosPerEvent: perEvent(auditlineRun.serverSeconds, result.requests * PER_CALL),
        postgresMicrosPerEvent: perEvent(auditlineRun.postgresSeconds, result.requests * PER_CALL),
        machineBusyPercent: auditlineRun.machineBusyPercent,
      };
      details.auditline.push({
        callsPerSecond: round(result.requestsPerSecond),
        p99Ms: round(result.latencyMs.p99),
        ...ourCpu,
      });
      const clientBefore = loadGeneratorCpuSeconds();
      const rawRun = await cpuDuring(null, () => runRawBatch(rawSpec(runSeconds)));
      const raw = rawRun.value;
      theirs.push(raw.eventsPerSecond);
      const theirCpu = {
        // The raw side's Node work (building and sending each INSERT) happens in the load generator.
        clientMicrosPerEvent: perEvent(loadGeneratorCpuSeconds() - clientBefore, raw.rows),
        postgresMicrosPerEvent: perEvent(rawRun.postgresSeconds, raw.rows),
        machineBusyPercent: rawRun.machineBusyPercent,
      };
      details.raw.push({
        eventsPerSecond: Math.round(raw.eventsPerSecond),
        insertP99Ms: round(raw.insertLatencyMs.p99),
        ...theirCpu,
      });
      ctx.log(
        `${SCENARIO} ${repeat}/${repeats}: Auditline ${Math.round(ours.at(-1)!)} events/s ` +
          `(CPU per event: server ${ourCpu.serverMicrosPerEvent} µs, PostgreSQL ${ourCpu.postgresMicrosPerEvent} µs; ` +
          `machine ${ourCpu.machineBusyPercent} % busy), raw ${Math.round(raw.eventsPerSecond)} events/s ` +
          `(CPU per event: client ${theirCpu.clientMicrosPerEvent} µs, PostgreSQL ${theirCpu.postgresMicrosPerEvent} µs; machine ${theirCpu.machineBusyPercent} % busy)`,
      );
    }
    return [
      measured({
        scenario: SCENARIO,
        name: `${SCENARIO}: Auditline emitEvents vs raw multi-row INSERT of ${RAW_ROWS}`,
        figure: { unit: 'events/s', values: ours },
        baseline: {
          name: `raw multi-row INSERT of ${RAW_ROWS} from Node (postgres.js), ${CONNECTIONS} at a time`,
          figure: { unit: 'events/s', values: theirs },
        },
        target: { on: 'ratio', op: '>=', value: 0.8 },
        note:
          `${CONNECTIONS} concurrent callers on both sides` +
          (fewestCalls < 5
            ? `; a run completed only ${fewestCalls} calls: too few for a stable figure (raise --run-seconds)`
            : ''),
        details,
      }),
    ];
  },
};
