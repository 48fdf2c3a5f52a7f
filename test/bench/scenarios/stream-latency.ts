import { setTimeout as sleep } from 'node:timers/promises';
import { postJson, round, sampleRss } from '../lib/compare.ts';
import type { BenchContext } from '../lib/context.ts';
import { machineBusyShare, machineCpuSeconds, type ServerProcess } from '../lib/processes.ts';
import { measured, type ScenarioEntry } from '../lib/results.ts';
import { percentile } from '../load/percentile.ts';
import type { RawNotifyResult } from '../load/raw-notify.ts';
import { runPacedPost, runRawNotify } from '../load/run-load.ts';
import type { SubscriberStats } from '../load/stream-protocol.ts';
import { StreamSubscribers } from '../load/stream-subscribers.ts';
import { auditlineBatchRequests, bearer, EMIT_EVENT, ingestInputs } from './ingest-workload.ts';
import type { Scenario } from './scenario.ts';

const SCENARIO = 'live stream, 1,000 events/s';
const RATE = 1000;
/**
 * NOTIFY takes a database-wide lock from its commit until the commit is flushed, so transactions that
 * each notify commit one at a time, one WAL flush each (DESIGN.md). Measured at 1,000/s that baseline
 * mostly shows this machine's fsync queue; its round trip proper is measured at a rate it sustains.
 */
const BASELINE_RATE = 100;
const MANY = 500;
const KEEP_UP_SUBSCRIBERS = 100;
const IDLE_SUBSCRIBERS = 1000;
/** The emitter's connections: at most this many emits in flight. */
const EMITTERS = 20;
/**
 * Events per emitEvents call. A steady 1,000 events/s as 1,000 single-event requests would spend a
 * core of this machine on HTTP and GraphQL alone (see the ingest scenario); an app sending that many
 * batches them, and the stream's latency is what this scenario is about.
 */
const BATCH = 10;
/** The highest-rate search starts here and doubles. */
const LOWEST_RATE = 125;
/** A subscriber keeps up at a rate when every event reaches it and its p99 stays under this. */
const KEEP_UP_P99_MS = 1000;
/** After the emitter stops, how long the last events may take to reach every subscriber. */
const DRAIN_MS = 10_000;
const SENT_AT = '__SENT_AT__';
const FLAT = 1.1;

interface StreamRun {
  emitted: number;
  /** Emits that waited for a free connection: the server was not keeping up with the rate. */
  late: number;
  /** How long the emitEvents calls took (send → response). */
  emitLatencyMs: { p50: number; p99: number };
  stats: SubscriberStats;
  /** Every subscriber received every emitted event. */
  complete: boolean;
  /** CPU time per delivered message, from the start of the emission until the last one arrived. */
  cpuMicrosPerMessage: { server: number; subscribers: number };
  /** Share of the machine's CPU (all cores) that was busy over the same time. */
  machineBusy: number;
}

const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;

/**
 * Emit→receive latency of `eventStream` at a steady 1,000 events/s with 1 and with 500 subscribers,
 * against PostgreSQL's own INSERT + NOTIFY → LISTEN round trip measured in the same run; the highest
 * rate 100 subscribers keep up with; the server's memory with 1,000 idle subscriptions and over a
 * soak. The emitter (paced-post.ts: emitEvents calls of 10 events at a fixed rate) and the
 * subscribers (graphql-ws clients, one WebSocket each) run in two processes apart from the server.
 */
export const streamLatency: Scenario = {
  id: 'stream',
  title: SCENARIO,
  needsData: false,
  async run(ctx: BenchContext): Promise<ScenarioEntry[]> {
    const organization = ctx.ingestOrganization;
    const key = await ctx.keyFor(organization);
    const inputs = ingestInputs(organization, 2000, 11).map((input) => ({
      ...input,
      metadata: { ...(input.metadata as Record<string, unknown>), sentAt: SENT_AT },
    }));
    const batches = auditlineBatchRequests(inputs, key, BATCH);
    const { repeats, runSeconds, warmupSeconds, soakSeconds } = ctx.settings;
    const server = await ctx.startAuditline('auditline-stream');
    const wsUrl = `${server.url.replace('http', 'ws')}/graphql`;

    const emit = async (rate: number, seconds: number) => {
      const result = await runPacedPost({
        url: server.url,
        rate: rate / BATCH,
        durationSeconds: seconds,
        requests: batches,
        sentAtPlaceholder: SENT_AT,
        failMarker: '"errors"',
        maxInFlight: EMITTERS,
      });
      if (result.succeeded < result.sent) {
        throw new Error(`${result.sent - result.succeeded} emits failed; first: ${result.firstFailure}`);
      }
      return { ...result, events: result.succeeded * BATCH };
    };

    /** Opens subscriptions and waits until each has received a probe event, so each is live. */
    async function subscribe(count: number): Promise<StreamSubscribers> {
      const started = performance.now();
      const subscribers = await StreamSubscribers.open(wsUrl, key, count);
      const connectedMs = performance.now() - started;
      const probe = `probe-${count}-${Date.now()}`;
      const body = JSON.stringify({
        query: EMIT_EVENT,
        variables: { input: { action: 'bench.probe', actor: { id: 'bench' }, metadata: { probe } } },
      });
      const deadline = Date.now() + 60_000;
      for (;;) {
        await postJson(`${server.url}/graphql`, body, bearer(key));
        await sleep(200);
        const live = await subscribers.probed(probe);
        if (live === count) {
          ctx.log(
            `${SCENARIO}: ${count} subscription(s) connected in ${(connectedMs / 1000).toFixed(1)} s, ` +
              `all live after ${((performance.now() - started) / 1000).toFixed(1)} s`,
          );
          return subscribers;
        }
        if (Date.now() > deadline) {
          await subscribers.close();
          throw new Error(`only ${live} of ${count} subscriptions received a probe within 60 s`);
        }
      }
    }

    /** One measured run: emit at `rate` for `seconds`, then wait for every subscriber to have everything. */
    async function measure(
      subscribers: StreamSubscribers,
      count: number,
      rate: number,
      seconds: number,
    ): Promise<StreamRun> {
      await subscribers.reset();
      const cpuBefore = { server: server.cpuSeconds(), subscribers: subscribers.cpuSeconds() };
      const machineBefore = machineCpuSeconds();
      const load = await emit(rate, seconds);
      const expected = load.events * count;
      const deadline = Date.now() + DRAIN_MS;
      let stats = await subscribers.stats();
      while (stats.received < expected && Date.now() < deadline) {
        await sleep(100);
        stats = await subscribers.stats();
      }
      const machineAfter = machineCpuSeconds();
      const perMessage = (seconds: number) => round((seconds * 1e6) / Math.max(1, stats.received), 1);
      const cpuMicrosPerMessage = {
        server: perMessage(server.cpuSeconds() - cpuBefore.server),
        subscribers: perMessage(subscribers.cpuSeconds() - cpuBefore.subscribers),
      };
      const machineBusy = machineBusyShare(machineBefore, machineAfter);
      // Requests cut off by the end of the run may still land; let them pass before the next reset.
      await sleep(300);
      return {
        emitted: load.events,
        late: load.late,
        emitLatencyMs: { p50: load.latencyMs.p50, p99: load.latencyMs.p99 },
        stats,
        complete: stats.fewestPerSubscriber >= load.events,
        cpuMicrosPerMessage,
        machineBusy,
      };
    }

    async function latencyRuns(count: number): Promise<StreamRun[]> {
      const subscribers = await subscribe(count);
      try {
        // Every second at 500 subscribers is half a million messages to deliver (about 10 s on this
        // machine): a quick run skips the warm-up, and emits for half a second to many subscribers.
        const quick = ctx.settings.mode === 'quick';
        if (!quick) await measure(subscribers, count, RATE, warmupSeconds);
        const seconds = quick && count > 1 ? 0.5 : runSeconds;
        const runs: StreamRun[] = [];
        for (let repeat = 1; repeat <= repeats; repeat += 1) {
          const run = await measure(subscribers, count, RATE, seconds);
          runs.push(run);
          ctx.log(
            `${SCENARIO} ${repeat}/${repeats}, ${count} subscriber(s): ${run.emitted} events, ` +
              `p50 ${run.stats.latencyMs.p50.toFixed(1)} ms, p99 ${run.stats.latencyMs.p99.toFixed(1)} ms ` +
              `(the emits themselves: p50 ${run.emitLatencyMs.p50.toFixed(1)} ms, p99 ${run.emitLatencyMs.p99.toFixed(1)} ms), ` +
              `${run.complete ? 'all delivered' : `INCOMPLETE (fewest ${run.stats.fewestPerSubscriber})`}; ` +
              `CPU per message: server ${run.cpuMicrosPerMessage.server} µs, subscribers ${run.cpuMicrosPerMessage.subscribers} µs; ` +
              `machine ${Math.round(run.machineBusy * 100)} % busy`,
          );
        }
        return runs;
      } finally {
        await subscribers.close();
      }
    }

    try {
      const one = await latencyRuns(1);
      const many = await latencyRuns(MANY);

      const rawNotify = async (rate: number) => {
        const results: RawNotifyResult[] = [];
        for (let repeat = 1; repeat <= repeats; repeat += 1) {
          const result = await runRawNotify({
            databaseUrl: ctx.databaseUrl,
            schema: 'bench_raw',
            rate,
            connections: EMITTERS,
            durationSeconds: ctx.settings.mode === 'quick' ? 1 : runSeconds,
            payload: JSON.stringify(inputs[0]),
          });
          results.push(result);
          ctx.log(
            `${SCENARIO} ${repeat}/${repeats}, raw NOTIFY at ${rate}/s: p50 ${result.latencyMs.p50.toFixed(2)} ms, ` +
              `p99 ${result.latencyMs.p99.toFixed(2)} ms (${result.received}/${result.sent} received)`,
          );
        }
        return results;
      };
      const baseline = await rawNotify(BASELINE_RATE);
      const sameRate = await rawNotify(RATE);

      const keepUp = await highestRateKeptUp(ctx, subscribe, measure);
      const idle = await idleMemory(server, subscribe, ctx.settings.mode === 'quick');
      const soak = await streamSoak(server, subscribe, measure, soakSeconds);

      const incomplete = [...one, ...many].filter((run) => !run.complete).length;
      const deliveryNote =
        `emitted as ${RATE / BATCH} emitEvents calls of ${BATCH} events per second; ` +
        (incomplete
          ? `${incomplete} run(s) did not deliver every event to every subscriber within ${DRAIN_MS / 1000} s of the emitter stopping`
          : 'every event reached every subscriber in every run');
      const median = (values: number[]) => percentile(Float64Array.from(values).sort(), 0.5);
      const serverMicros = median(many.map((run) => run.cpuMicrosPerMessage.server));
      const subscriberMicros = median(many.map((run) => run.cpuMicrosPerMessage.subscribers));
      const coresNeeded = ((serverMicros + subscriberMicros) * RATE * MANY) / 1e6;
      const cpuNote =
        `CPU per delivered message with ${MANY} subscribers (median run): server ${serverMicros} µs, subscriber process ` +
        `${subscriberMicros} µs, so ${(RATE * MANY).toLocaleString('en-US')} messages/s need ${round(coresNeeded, 1)} cores ` +
        `for those two alone, PostgreSQL and the emitter aside; the machine was ` +
        `${Math.round(median(many.map((run) => run.machineBusy)) * 100)} % busy`;
      const runDetails = (runs: StreamRun[]) =>
        runs.map((run) => ({
          emitted: run.emitted,
          lateEmits: run.late,
          emitP50: round(run.emitLatencyMs.p50),
          emitP99: round(run.emitLatencyMs.p99),
          complete: run.complete,
          ended: run.stats.ended,
          serverCpuMicrosPerMessage: run.cpuMicrosPerMessage.server,
          subscriberCpuMicrosPerMessage: run.cpuMicrosPerMessage.subscribers,
          machineBusyPercent: Math.round(run.machineBusy * 100),
          ...Object.fromEntries(
            Object.entries(run.stats.latencyMs).map(([name, value]) => [name, round(value)]),
          ),
        }));
      const p = (runs: StreamRun[], which: 'p50' | 'p99') => runs.map((run) => run.stats.latencyMs[which]);
      const raw = (which: 'p50' | 'p99', results = baseline) =>
        results.map((result) => result.latencyMs[which]);
      const details = {
        subscribers1: runDetails(one),
        [`subscribers${MANY}`]: runDetails(many),
        [`rawNotify${BASELINE_RATE}`]: notifyDetails(baseline),
        [`rawNotify${RATE}`]: notifyDetails(sameRate),
      };
      const rawBaseline = (which: 'p50' | 'p99') => ({
        name: `raw INSERT + NOTIFY → LISTEN callback ${which}, ${BASELINE_RATE} transactions/s`,
        figure: { unit: `ms ${which}`, values: raw(which) },
      });

      return [
        measured({
          scenario: SCENARIO,
          name: `live stream: emit→receive p99, ${MANY} subscribers`,
          figure: { unit: 'ms p99', values: p(many, 'p99') },
          baseline: rawBaseline('p99'),
          target: { on: 'value', op: '<', value: 50 },
          note: `${deliveryNote}; ${cpuNote}`,
          details,
        }),
        measured({
          scenario: SCENARIO,
          name: `live stream: emit→receive p50, ${MANY} subscribers`,
          figure: { unit: 'ms p50', values: p(many, 'p50') },
          baseline: rawBaseline('p50'),
        }),
        measured({
          scenario: SCENARIO,
          name: 'live stream: emit→receive p99, 1 subscriber',
          figure: { unit: 'ms p99', values: p(one, 'p99') },
          baseline: rawBaseline('p99'),
        }),
        measured({
          scenario: SCENARIO,
          name: 'live stream: emit→receive p50, 1 subscriber',
          figure: { unit: 'ms p50', values: p(one, 'p50') },
          baseline: rawBaseline('p50'),
        }),
        measured({
          scenario: SCENARIO,
          name: `live stream: emit→receive p99, 1 subscriber, vs one NOTIFY per transaction at ${RATE}/s`,
          figure: { unit: 'ms p99', values: p(one, 'p99') },
          baseline: {
            name: `raw INSERT + NOTIFY per transaction → LISTEN callback p99, ${RATE} transactions/s`,
            figure: { unit: 'ms p99', values: raw('p99', sameRate) },
          },
          note: 'Auditline notifies once per group commit, not once per event',
        }),
        keepUp,
        measured({
          scenario: SCENARIO,
          name: `memory: RSS with ${IDLE_SUBSCRIBERS.toLocaleString('en')} idle subscriptions`,
          figure: { unit: 'MiB', values: idle.with },
          baseline: {
            name: 'the same server before they subscribed',
            figure: { unit: 'MiB', values: idle.without },
          },
          note: `${round(((mean(idle.with) - mean(idle.without)) * 1024) / IDLE_SUBSCRIBERS, 1)} KiB per subscription (WebSocket, graphql-ws and stream state)`,
        }),
        measured({
          scenario: SCENARIO,
          name: `memory: RSS at the end vs early in a ${soakSeconds} s stream soak (${KEEP_UP_SUBSCRIBERS} subscribers, ${RATE} events/s)`,
          figure: { unit: 'MiB', values: [soak.late] },
          baseline: {
            name: 'RSS early in the soak (10-20% of its length)',
            figure: { unit: 'MiB', values: [soak.early] },
          },
          target: { on: 'ratio', op: '<=', value: FLAT },
          note: `flat means ≤ ${FLAT}x; ${soak.run.emitted} events, ${soak.run.complete ? 'all delivered' : 'NOT all delivered'}, p99 ${round(soak.run.stats.latencyMs.p99)} ms`,
          details: { samples: soak.samples },
        }),
      ];
    } finally {
      await server.stop();
    }
  },
};

function notifyDetails(results: RawNotifyResult[]) {
  return results.map((result) => ({
    sent: result.sent,
    received: result.received,
    p50: round(result.latencyMs.p50),
    p99: round(result.latencyMs.p99),
    max: round(result.latencyMs.max),
  }));
}

type Subscribe = (count: number) => Promise<StreamSubscribers>;
type Measure = (
  subscribers: StreamSubscribers,
  count: number,
  rate: number,
  seconds: number,
) => Promise<StreamRun>;

/**
 * Doubles the rate from 125 events/s until 100 subscribers stop keeping up or the emitter cannot reach
 * the rate; the figure is the highest rate kept up with, one run per step.
 */
async function highestRateKeptUp(
  ctx: BenchContext,
  subscribe: Subscribe,
  measure: Measure,
): Promise<ScenarioEntry> {
  const subscribers = await subscribe(KEEP_UP_SUBSCRIBERS);
  const steps: { rate: number; achieved: number; p99: number; complete: boolean }[] = [];
  let best = 0;
  try {
    // A quick run only checks that the search works: one step.
    const highest = ctx.settings.mode === 'quick' ? LOWEST_RATE : 256 * LOWEST_RATE;
    for (let rate = LOWEST_RATE; rate <= highest; rate *= 2) {
      const run = await measure(subscribers, KEEP_UP_SUBSCRIBERS, rate, ctx.settings.runSeconds);
      const achieved = run.emitted / ctx.settings.runSeconds;
      const keptUp = run.complete && run.stats.latencyMs.p99 < KEEP_UP_P99_MS && run.stats.ended === 0;
      steps.push({
        rate,
        achieved: Math.round(achieved),
        p99: round(run.stats.latencyMs.p99),
        complete: run.complete,
      });
      ctx.log(
        `${SCENARIO}: ${KEEP_UP_SUBSCRIBERS} subscribers at ${rate} events/s (emitted ${Math.round(achieved)}/s): ` +
          `p99 ${run.stats.latencyMs.p99.toFixed(1)} ms, ${keptUp ? 'kept up' : 'fell behind'}`,
      );
      if (!keptUp) break;
      best = Math.max(best, achieved);
      if (achieved < rate * 0.9) break; // the emitter is the limit now, not the stream
    }
  } finally {
    await subscribers.close();
  }
  const emitterBound = steps.at(-1)!.complete && steps.at(-1)!.achieved < steps.at(-1)!.rate * 0.9;
  return measured({
    scenario: SCENARIO,
    name: `live stream: highest event rate ${KEEP_UP_SUBSCRIBERS} subscribers keep up with`,
    figure: { unit: 'events/s', values: [best] },
    note:
      `one run per doubling of the rate; keeping up = every event delivered to every subscriber and p99 < ${KEEP_UP_P99_MS} ms` +
      (emitterBound
        ? '; the last step was bound by how fast the emitter could store events, not by the stream'
        : ''),
    details: { steps },
  });
}

/** RSS before and after opening 1,000 idle subscriptions; a quick run takes one sample a side, sooner. */
async function idleMemory(server: ServerProcess, subscribe: Subscribe, quick: boolean) {
  const samplesPerSide = quick ? 1 : 3;
  const samples = async () => {
    const values: number[] = [];
    for (let sample = 0; sample < samplesPerSide; sample += 1) {
      await sleep(1000);
      values.push(server.rssMiB());
    }
    return values;
  };
  const without = await samples();
  const subscribers = await subscribe(IDLE_SUBSCRIBERS);
  try {
    await sleep(quick ? 500 : 2000);
    return { without, with: await samples() };
  } finally {
    await subscribers.close();
  }
}

async function streamSoak(server: ServerProcess, subscribe: Subscribe, measure: Measure, seconds: number) {
  const subscribers = await subscribe(KEEP_UP_SUBSCRIBERS);
  try {
    const { value: run, samples } = await sampleRss(server, 1000, () =>
      measure(subscribers, KEEP_UP_SUBSCRIBERS, RATE, seconds),
    );
    const rss = samples.map((sample) => sample.rssMiB);
    const tenth = Math.max(1, Math.floor(rss.length / 10));
    const every = Math.max(1, Math.floor(samples.length / 60));
    return {
      run,
      early: mean(rss.slice(tenth, 2 * tenth)),
      late: mean(rss.slice(-tenth)),
      samples: samples
        .filter((_, index) => index % every === 0)
        .map((sample) => [sample.atMs, round(sample.rssMiB, 1)]),
    };
  } finally {
    await subscribers.close();
  }
}
