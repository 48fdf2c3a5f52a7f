import { encodePageCursor } from '../../../src/events/cursor.ts';
import { compileEventWhere } from '../../../src/events/filter.ts';
import { findEventsPage } from '../../../src/events/query.ts';
import { compareUnderLoad, fewRequestsNote, latencyDetails, p99, postJson } from '../lib/compare.ts';
import type { BenchContext } from '../lib/context.ts';
import { measured, type ScenarioEntry } from '../lib/results.ts';
import { bearer } from './ingest-workload.ts';
import { AUDITLINE_PAGE, captureSql, explain } from './page-workload.ts';
import type { Scenario } from './scenario.ts';

const CONNECTIONS = 10;
const PAGE_SIZE = 50;
const TARGET_PAGE = 2000;

export const deepPage: Scenario = {
  id: 'deep-page',
  title: 'deep page',
  needsData: true,
  async run(ctx: BenchContext): Promise<ScenarioEntry[]> {
    const organization = ctx.dataset.organizations[0]!;
    // Page 2,000 needs 100,000 events in one tenant; a small (quick) data set goes as deep as it can.
    const page = Math.max(2, Math.min(TARGET_PAGE, Math.floor((organization.events * 0.9) / PAGE_SIZE)));
    const scenario = `deep page (page ${page.toLocaleString('en-US')} by cursor, ${organization.name}: ${organization.events.toLocaleString('en-US')} events), c=${CONNECTIONS}`;
    const [boundary] = await ctx.sql<{ occurred_at: Date; id: string }[]>`
      select occurred_at, id from events where organization_id = ${organization.uuid}
      order by occurred_at desc, id desc offset ${(page - 1) * PAGE_SIZE - 1} limit 1`;
    const after = encodePageCursor({ occurredAt: boundary!.occurred_at, id: boundary!.id });

    const auditline = await ctx.auditline();
    const key = await ctx.keyFor(organization.uuid);
    const request = (cursor: string | null) => ({
      path: '/graphql',
      headers: bearer(key),
      body: JSON.stringify({ query: AUDITLINE_PAGE, variables: { first: PAGE_SIZE, after: cursor } }),
    });
    for (const cursor of [null, after]) {
      const answer = await postJson(
        `${auditline.url}/graphql`,
        request(cursor).body,
        request(cursor).headers,
      );
      if (answer.data?.events?.edges?.length !== PAGE_SIZE) {
        throw new Error(
          `page ${cursor ? page : 1} did not return ${PAGE_SIZE} events: ${JSON.stringify(answer).slice(0, 300)}`,
        );
      }
    }
    const results = await compareUnderLoad(ctx, 'deep page', [
      {
        name: 'page 1',
        server: auditline,
        load: { method: 'POST', connections: CONNECTIONS, requests: [request(null)], failMarker: '"errors"' },
      },
      {
        name: `page ${page}`,
        server: auditline,
        load: {
          method: 'POST',
          connections: CONNECTIONS,
          requests: [request(after)],
          failMarker: '"errors"',
        },
      },
    ]);
    const [deepQuery] = await captureSql(ctx.databaseUrl, (db) =>
      findEventsPage(db, compileEventWhere(organization.uuid, null, null), 'OCCURRED_AT_DESC', {
        first: PAGE_SIZE,
        after,
      }),
    );
    return [
      measured({
        note: fewRequestsNote(results.values()),
        scenario,
        name: `deep page: p99 of page ${page} vs page 1`,
        figure: { unit: 'ms p99', values: p99(results.get(`page ${page}`)!) },
        baseline: {
          name: 'page 1 (same tenant, same query)',
          figure: { unit: 'ms p99', values: p99(results.get('page 1')!) },
        },
        target: { on: 'ratio', op: '<=', value: 1.2 },
        ...(page < TARGET_PAGE
          ? {
              note: [
                `data set too small for page ${TARGET_PAGE}; measured page ${page}`,
                fewRequestsNote(results.values()),
              ]
                .filter(Boolean)
                .join('; '),
            }
          : {}),
        details: {
          page,
          latency: Object.fromEntries([...results].map(([name, result]) => [name, latencyDetails(result)])),
          sql: deepQuery!.text,
          explainDeepPage: await explain(ctx.sql, deepQuery!),
        },
      }),
    ];
  },
};
