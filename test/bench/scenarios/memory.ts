import { setTimeout as sleep } from 'node:timers/promises';
import { postJson, round, sampleRss } from '../lib/compare.ts';
import type { BenchContext } from '../lib/context.ts';
import { measured, type ScenarioEntry } from '../lib/results.ts';
import { auditlineEmitRequests, emitLoad, ingestInputs } from './ingest-workload.ts';
import { AUDITLINE_PAGE } from './page-workload.ts';
import type { Scenario } from './scenario.ts';

const SCENARIO = 'memory (server RSS)';
const CONNECTIONS = 50;
/** RSS at the end of the soak may exceed RSS early in the soak by at most this factor. */
const FLAT = 1.1;

const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;

export const memory: Scenario = {
  id: 'memory',
  title: SCENARIO,
  needsData: false,
  async run(ctx: BenchContext): Promise<ScenarioEntry[]> {
    const organization = ctx.ingestOrganization;
    const key = await ctx.keyFor(organization);
    const requests = auditlineEmitRequests(ingestInputs(organization, 2000, 7), key);
    const server = await ctx.startAuditline('auditline-memory');
    try {
      // Idle: a fresh process that has served one write and one read, then rests.
      await postJson(`${server.url}/graphql`, requests[0]!.body!, requests[0]!.headers);
      await postJson(
        `${server.url}/graphql`,
        JSON.stringify({ query: AUDITLINE_PAGE, variables: { first: 50 } }),
        requests[0]!.headers,
      );
      // A quick run rests and samples for half as long.
      const restMs = ctx.settings.mode === 'quick' ? 1000 : 2000;
      await sleep(restMs);
      const idle: number[] = [];
      for (let sample = 0; sample < 3; sample += 1) {
        idle.push(server.rssMiB());
        await sleep(restMs / 2);
      }
      const { warmupSeconds, runSeconds, repeats, soakSeconds } = ctx.settings;
      const load = emitLoad(server, requests, CONNECTIONS);
      await load(warmupSeconds);
      const underLoad: number[] = [];
      for (let repeat = 1; repeat <= repeats; repeat += 1) {
        const { samples } = await sampleRss(server, 250, () => load(runSeconds));
        underLoad.push(Math.max(...samples.map((sample) => sample.rssMiB)));
      }
      ctx.log(
        `${SCENARIO}: idle ${idle.map((value) => round(value, 1)).join('/')} MiB, under load ${underLoad.map((value) => round(value, 1)).join('/')} MiB; soaking ${soakSeconds} s`,
      );
      const soak = await sampleRss(server, 1000, () => load(soakSeconds));
      const rss = soak.samples.map((sample) => sample.rssMiB);
      const tenth = Math.max(1, Math.floor(rss.length / 10));
      const early = mean(rss.slice(tenth, 2 * tenth));
      const late = mean(rss.slice(-tenth));
      const every = Math.max(1, Math.floor(soak.samples.length / 60));
      return [
        measured({
          scenario: SCENARIO,
          name: 'memory: RSS idle',
          figure: { unit: 'MiB', values: idle },
          note: `three samples ${restMs / 2000} s apart, after one write and one read`,
        }),
        measured({
          scenario: SCENARIO,
          name: `memory: RSS under single-event ingest, c=${CONNECTIONS}`,
          figure: { unit: 'MiB', values: underLoad },
          note: 'peak RSS of each run',
        }),
        measured({
          scenario: SCENARIO,
          name: `memory: RSS at the end vs early in a ${soakSeconds} s ingest soak`,
          figure: { unit: 'MiB', values: [late] },
          baseline: {
            name: 'RSS early in the soak (10-20% of its length)',
            figure: { unit: 'MiB', values: [early] },
          },
          target: { on: 'ratio', op: '<=', value: FLAT },
          note: `flat means ≤ ${FLAT}x; ${soak.value.requests} events written during the soak`,
          details: {
            samples: soak.samples
              .filter((_, index) => index % every === 0)
              .map((sample) => [sample.atMs, round(sample.rssMiB, 1)]),
          },
        }),
      ];
    } finally {
      await server.stop();
    }
  },
};
