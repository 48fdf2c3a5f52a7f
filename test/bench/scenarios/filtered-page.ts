import { compileEventWhere } from '../../../src/events/filter.ts';
import { findEventsPage } from '../../../src/events/query.ts';
import { toPublicId } from '../../../src/ids.ts';
import {
  type Contender,
  compareUnderLoad,
  fewRequestsNote,
  latencyDetails,
  p99,
  postJson,
  rps,
} from '../lib/compare.ts';
import type { BenchContext } from '../lib/context.ts';
import { measured, type ScenarioEntry, unmeasured } from '../lib/results.ts';
import type { LoadRequest } from '../load/load-types.ts';
import { bearer } from './ingest-workload.ts';
import {
  AUDITLINE_PAGE,
  type CapturedQuery,
  captureSql,
  explain,
  POSTGRAPHILE_PAGE,
} from './page-workload.ts';
import type { Scenario } from './scenario.ts';

const CONNECTIONS = 10;
const PAGE_SIZE = 50;
const RANKS = [0, 1, 2, 3, 5, 9];
const ACTIONS = ['user.login', 'document.viewed', 'user.login_failed'];
const DAY_MS = 86_400_000;

interface Combination {
  organization: string;
  action: string;
}

export const filteredPage: Scenario = {
  id: 'filtered-page',
  title: 'filtered page',
  needsData: true,
  usesPostgraphile: true,
  async run(ctx: BenchContext): Promise<ScenarioEntry[]> {
    const dataset = ctx.dataset;
    const scenario = `filtered page (org + action + 30-day range, first ${PAGE_SIZE}) on ${dataset.events.toLocaleString('en-US')} events / ${dataset.organizations.length} orgs, c=${CONNECTIONS}`;
    const to = new Date(dataset.to.getTime() + DAY_MS);
    const from = new Date(to.getTime() - 30 * DAY_MS);
    const combinations: Combination[] = RANKS.filter((rank) => rank < dataset.organizations.length).flatMap(
      (rank) => ACTIONS.map((action) => ({ organization: dataset.organizations[rank]!.uuid, action })),
    );
    const filterOf = (combination: Combination) => ({
      actions: [combination.action],
      occurredAfter: from,
      occurredBefore: to,
    });

    // The raw baseline runs exactly the statements Auditline's page function sends.
    const queries: CapturedQuery[] = [];
    for (const combination of combinations) {
      const [query] = await captureSql(ctx.databaseUrl, (db) =>
        findEventsPage(
          db,
          compileEventWhere(combination.organization, filterOf(combination), null),
          'OCCURRED_AT_DESC',
          {
            first: PAGE_SIZE,
          },
        ),
      );
      queries.push(query!);
    }

    const auditline = await ctx.auditline();
    const raw = await ctx.raw();
    await postJson(`${raw.url}/queries`, JSON.stringify(queries), {}, 'PUT');
    const postgraphile = await ctx.postgraphile();
    const auditlineRequests: LoadRequest[] = [];
    for (const combination of combinations) {
      const filter = {
        actions: [combination.action],
        occurredAfter: from.toISOString(),
        occurredBefore: to.toISOString(),
      };
      auditlineRequests.push({
        path: '/graphql',
        headers: bearer(await ctx.keyFor(combination.organization)),
        body: JSON.stringify({ query: AUDITLINE_PAGE, variables: { filter, first: PAGE_SIZE } }),
      });
    }
    const contenders: Contender[] = [
      {
        name: 'Auditline',
        server: auditline,
        load: {
          method: 'POST',
          connections: CONNECTIONS,
          requests: auditlineRequests,
          failMarker: '"errors"',
        },
      },
      {
        name: 'raw',
        server: raw,
        load: {
          method: 'GET',
          connections: CONNECTIONS,
          requests: queries.map((_, index) => ({ path: `/page?i=${index}` })),
        },
      },
    ];
    if (!('unavailable' in postgraphile)) {
      contenders.push({
        name: 'PostGraphile 5',
        server: postgraphile,
        load: {
          method: 'POST',
          connections: CONNECTIONS,
          failMarker: '"errors"',
          requests: combinations.map((combination) => ({
            path: '/graphql',
            body: JSON.stringify({
              query: POSTGRAPHILE_PAGE,
              variables: {
                org: combination.organization,
                action: combination.action,
                from: from.toISOString(),
                to: to.toISOString(),
              },
            }),
          })),
        },
      });
    }

    // Before timing anything: every contender returns the same 50 events for the first combination.
    const expected = (
      await fetch(`${raw.url}/page?i=0`).then(
        (response) => response.json() as Promise<{ data: { id: string }[] }>,
      )
    ).data
      .slice(0, PAGE_SIZE)
      .map((row) => row.id);
    if (expected.length !== PAGE_SIZE)
      throw new Error(`the first combination has only ${expected.length} events`);
    const first = auditlineRequests[0]!;
    const ours = await postJson(`${auditline.url}/graphql`, first.body!, first.headers);
    const ourIds = (ours.data?.events?.edges ?? []).map((edge: { node: { id: string } }) => edge.node.id);
    if (JSON.stringify(ourIds) !== JSON.stringify(expected.map((id) => toPublicId('evt', id)))) {
      throw new Error(`Auditline's page differs from the raw SQL's: ${JSON.stringify(ours).slice(0, 300)}`);
    }
    const pgl = contenders.find((contender) => contender.name === 'PostGraphile 5');
    if (pgl) {
      const theirs = await postJson(`${pgl.server.url}/graphql`, pgl.load.requests[0]!.body!);
      const theirIds = (theirs.data?.allEvents?.edges ?? []).map(
        (edge: { node: { rowId: string } }) => edge.node.rowId,
      );
      if (JSON.stringify(theirIds) !== JSON.stringify(expected)) {
        throw new Error(
          `PostGraphile's page differs from the raw SQL's: ${JSON.stringify(theirs).slice(0, 300)}`,
        );
      }
    }

    const results = await compareUnderLoad(ctx, 'filtered page', contenders);
    const plan = await explain(ctx.sql, queries[0]!);
    const details = {
      combinations: combinations.length,
      latency: Object.fromEntries([...results].map(([name, result]) => [name, latencyDetails(result)])),
      sql: queries[0]!.text,
      explainFirstCombination: plan,
    };
    const ourResults = results.get('Auditline')!;
    const pglResults = results.get('PostGraphile 5');
    const entries: ScenarioEntry[] = [];
    const pglMissing = (
      name: string,
      unit: string,
      target: { on: 'ratio'; op: '>=' | '<='; value: number },
    ) =>
      unmeasured({
        scenario,
        name,
        status: 'not measured',
        unit,
        baselineName: 'PostGraphile 5 + connection-filter',
        target,
        note: (postgraphile as { unavailable: string }).unavailable,
      });
    const reqName = `filtered page: Auditline req/s vs PostGraphile 5`;
    const p99Name = `filtered page: Auditline p99 vs PostGraphile 5`;
    entries.push(
      pglResults
        ? measured({
            note: fewRequestsNote(results.values()),
            scenario,
            name: reqName,
            figure: { unit: 'req/s', values: rps(ourResults) },
            baseline: {
              name: 'PostGraphile 5 + connection-filter',
              figure: { unit: 'req/s', values: rps(pglResults) },
            },
            target: { on: 'ratio', op: '>=', value: 1.2 },
            details,
          })
        : pglMissing(reqName, 'req/s', { on: 'ratio', op: '>=', value: 1.2 }),
      pglResults
        ? measured({
            note: fewRequestsNote(results.values()),
            scenario,
            name: p99Name,
            figure: { unit: 'ms p99', values: p99(ourResults) },
            baseline: {
              name: 'PostGraphile 5 + connection-filter',
              figure: { unit: 'ms p99', values: p99(pglResults) },
            },
            target: { on: 'ratio', op: '<=', value: 1 },
          })
        : pglMissing(p99Name, 'ms p99', { on: 'ratio', op: '<=', value: 1 }),
      measured({
        note: fewRequestsNote(results.values()),
        scenario,
        name: 'filtered page: Auditline p99 vs the same SQL run raw + JSON',
        figure: { unit: 'ms p99', values: p99(ourResults) },
        baseline: {
          name: 'same SQL via postgres.js + JSON.stringify on node:http',
          figure: { unit: 'ms p99', values: p99(results.get('raw')!) },
        },
        target: { on: 'ratio', op: '<=', value: 1.5 },
        ...(pglResults ? {} : { details }),
      }),
    );
    return entries;
  },
};
