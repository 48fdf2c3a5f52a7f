import {
  type Contender,
  compareUnderLoad,
  fewRequestsNote,
  latencyDetails,
  postJson,
  rps,
} from '../lib/compare.ts';
import type { BenchContext } from '../lib/context.ts';
import { measured, type ScenarioEntry, unmeasured } from '../lib/results.ts';
import {
  auditlineEmitRequests,
  ingestInputs,
  postgraphileCreateRequests,
  rawEmitRequests,
} from './ingest-workload.ts';
import type { Scenario } from './scenario.ts';

const SCENARIO = 'single-event ingest, c=50';
const CONNECTIONS = 50;

export const singleEventIngest: Scenario = {
  id: 'ingest',
  title: SCENARIO,
  needsData: false,
  usesPostgraphile: true,
  async run(ctx: BenchContext): Promise<ScenarioEntry[]> {
    const organization = ctx.ingestOrganization;
    const inputs = ingestInputs(organization, 2000);
    const [auditline, raw, postgraphile] = await Promise.all([
      ctx.auditline(),
      ctx.raw(),
      ctx.postgraphile(),
    ]);
    const key = await ctx.keyFor(organization);

    const contenders: Contender[] = [
      {
        name: 'Auditline',
        server: auditline,
        load: {
          method: 'POST',
          connections: CONNECTIONS,
          requests: auditlineEmitRequests(inputs, key),
          failMarker: '"errors"',
        },
      },
      {
        name: 'raw',
        server: raw,
        load: { method: 'POST', connections: CONNECTIONS, requests: rawEmitRequests(inputs, organization) },
      },
    ];
    if (!('unavailable' in postgraphile)) {
      contenders.push({
        name: 'PostGraphile 5',
        server: postgraphile,
        load: {
          method: 'POST',
          connections: CONNECTIONS,
          requests: postgraphileCreateRequests(inputs, organization),
          failMarker: '"errors"',
        },
      });
    }
    for (const contender of contenders) {
      const [first] = contender.load.requests;
      const answer = await postJson(`${contender.server.url}${first!.path}`, first!.body!, first!.headers);
      if (
        answer.errors ||
        !(answer.data?.emitEvent?.event?.id || answer.data?.createEvent?.event?.rowId || answer.id)
      ) {
        throw new Error(`${contender.name} did not store the smoke-test event: ${JSON.stringify(answer)}`);
      }
    }

    const results = await compareUnderLoad(ctx, SCENARIO, contenders);
    const ours = results.get('Auditline')!;
    const figure = { unit: 'events/s', values: rps(ours) };
    const details = Object.fromEntries([...results].map(([name, result]) => [name, latencyDetails(result)]));
    const entries: ScenarioEntry[] = [];
    const pgl = results.get('PostGraphile 5');
    entries.push(
      pgl
        ? measured({
            note: fewRequestsNote(results.values()),
            scenario: SCENARIO,
            name: `${SCENARIO}: Auditline emitEvent vs PostGraphile 5 createEvent`,
            figure,
            baseline: { name: 'PostGraphile 5 createEvent', figure: { unit: 'events/s', values: rps(pgl) } },
            target: { on: 'ratio', op: '>=', value: 1.2 },
            details,
          })
        : unmeasured({
            scenario: SCENARIO,
            name: `${SCENARIO}: Auditline emitEvent vs PostGraphile 5 createEvent`,
            status: 'not measured',
            unit: 'events/s',
            baselineName: 'PostGraphile 5 createEvent',
            target: { on: 'ratio', op: '>=', value: 1.2 },
            note: (postgraphile as { unavailable: string }).unavailable,
          }),
    );
    entries.push(
      measured({
        note: fewRequestsNote(results.values()),
        scenario: SCENARIO,
        name: `${SCENARIO}: Auditline emitEvent vs raw node:http + postgres.js INSERT`,
        figure,
        baseline: {
          name: 'raw node:http + postgres.js, one INSERT per request',
          figure: { unit: 'events/s', values: rps(results.get('raw')!) },
        },
        target: { on: 'ratio', op: '>=', value: 0.6 },
        details,
      }),
    );
    return entries;
  },
};
