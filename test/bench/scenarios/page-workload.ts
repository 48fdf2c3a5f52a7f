import { drizzle } from 'drizzle-orm/postgres-js';
import type postgresTypes from 'postgres';
import postgres from 'postgres';
import type { Database } from '../../../src/db/client.ts';
import { schema } from '../../../src/db/tables.ts';

/** The fields a log viewer shows, asked the same way of Auditline and PostGraphile. */
export const AUDITLINE_PAGE = `query Page($filter: EventFilter, $first: Int, $after: String) {
  events(filter: $filter, first: $first, after: $after) {
    edges { cursor node { id action occurredAt receivedAt actor { id type name metadata } targets { id type name metadata }
      context { ipAddress userAgent location requestId sessionId } metadata } }
    pageInfo { hasNextPage endCursor }
  }
}`;

export const POSTGRAPHILE_PAGE = `query Page($org: UUID!, $action: String!, $from: Datetime!, $to: Datetime!) {
  allEvents(first: 50, orderBy: [OCCURRED_AT_DESC, ROW_ID_DESC], filter: {
    organizationId: { equalTo: $org }, action: { equalTo: $action },
    occurredAt: { greaterThanOrEqualTo: $from, lessThan: $to } }) {
    edges { cursor node { rowId action occurredAt receivedAt actorId actorType actorName actorMetadata targets
      ipAddress userAgent location requestId sessionId metadata } }
    pageInfo { hasNextPage endCursor }
  }
}`;

export interface CapturedQuery {
  text: string;
  params: unknown[];
}

/**
 * Runs product code (e.g. `findEventsPage`) on its own drizzle client and returns the SQL and
 * parameters it sent, so a baseline can run exactly the same statements.
 */
export async function captureSql(
  databaseUrl: string,
  work: (db: Database) => Promise<unknown>,
): Promise<CapturedQuery[]> {
  const captured: CapturedQuery[] = [];
  const client = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  try {
    const db = drizzle(client, {
      schema,
      logger: { logQuery: (text, params) => captured.push({ text, params: [...params] }) },
    }) as unknown as Database;
    await work(db);
    return captured;
  } finally {
    await client.end();
  }
}

const literal = (value: unknown) =>
  typeof value === 'number' ? String(value) : `'${String(value).replaceAll("'", "''")}'`;

/**
 * EXPLAIN (ANALYZE, BUFFERS) of a captured statement, run as a prepared statement the way the
 * driver runs it: once with the custom plan PostgreSQL makes for these parameters, once with the
 * generic plan it may switch to after five executions (the trap DESIGN.md describes).
 */
export async function explain(
  sql: postgresTypes.Sql,
  query: CapturedQuery,
): Promise<{ custom: string; generic: string }> {
  await sql.unsafe(`prepare bench_explain as ${query.text}`);
  try {
    const plan = async (mode: string) => {
      await sql.unsafe(`set plan_cache_mode = ${mode}`);
      const rows = await sql.unsafe(
        `explain (analyze, buffers) execute bench_explain(${query.params.map(literal).join(', ')})`,
      );
      return rows.map((row) => row['QUERY PLAN'] as string).join('\n');
    };
    return { custom: await plan('force_custom_plan'), generic: await plan('force_generic_plan') };
  } finally {
    await sql.unsafe('reset plan_cache_mode');
    await sql.unsafe('deallocate bench_explain');
  }
}
