import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { operationCost } from '../../src/graphql/cost.ts';
import { schema } from '../../src/graphql/schema.ts';
import { OnePerOrganization } from '../../src/integrity/one-per-organization.ts';
import { backends } from '../support/backends.ts';
import { createTestApp, EMIT_MANY, loginEvent, type Tenant, type TestApp } from '../support/test-app.ts';

const DEFAULT_LIMIT = loadConfig({}).limits.maxQueryCost;

const TYPICAL_EVENT =
  'id action occurredAt actor { id name } targets { id type } context { ipAddress } metadata';

/** README, "Querying events". */
const README_EVENTS = `query {
  events(
    filter: { actions: ["user.*"], ipAddress: "203.0.113.0/24" }
    query: "created:>=2026-11-01 -actor:svc_backup"
    first: 50
  ) {
    totalCount
    edges { cursor node { ${TYPICAL_EVENT} } }
    pageInfo { hasNextPage endCursor }
  }
}`;

const PAGE = (first: number) => `{
  events(first: ${first}) {
    totalCount
    edges { cursor node { ${TYPICAL_EVENT} } }
    pageInfo { hasNextPage endCursor }
  }
}`;

/** The other queries the README shows: aggregates, retention, export, integrity. */
const README_QUERIES = {
  eventCounts: `query {
    eventCounts(query: "action:user.login_failed created:>=2026-11-28T13:00:00Z", groupBy: IP_ADDRESS, limit: 10) {
      key
      count
    }
  }`,
  retention: `{ organization { retentionDays legalHolds { id reason from to } retentionStatus { oldestEventAt eventCount nextPurgeAt lastPurge { at deletedCount } } } }`,
  exportEvents: `{ exportEvents(query: "action:user.*", format: CEF) { url expiresAt } }`,
  integrity: `{
    checkpoint { treeSize rootHash signedNote createdAt }
    consistencyProof(fromSize: 0, toSize: 0) { fromSize toSize hashes }
    verifyIntegrity { ok checkedCount firstMismatch { leafIndex eventId reason } }
  }`,
};

/** README, "A Node client that resumes", and the SSE example. */
const README_SUBSCRIPTIONS = [
  `subscription Tail($after: String) {
    eventStream(query: "action:user.*", after: $after, from: BEGINNING) {
      cursor
      node { id action occurredAt actor { id } }
    }
  }`,
  `subscription { eventStream(from: BEGINNING, query: "action:user.login") { cursor node { action actor { id } } } }`,
];

const aliased = (count: number, field: string) =>
  `{ ${Array.from({ length: count }, (_, i) => `a${i}: ${field}`).join(' ')} }`;

const costOf = (query: string, variables: Record<string, unknown> = {}) =>
  operationCost(schema, parse(query), undefined, variables)!.cost;

describe('the price of an operation', () => {
  it('multiplies a connection’s edges by its page size, from literals, variables and their defaults', () => {
    const byVariable = `query($n: Int) { events(first: $n) { edges { node { id } } } }`;
    expect(costOf(byVariable, { n: 1000 })).toBe(10 + 1 + 1000 * 2);
    expect(costOf(byVariable, { n: 10 })).toBe(10 + 1 + 10 * 2);
    expect(costOf(`query($n: Int = 400) { events(last: $n) { edges { node { id } } } }`)).toBe(
      10 + 1 + 400 * 2,
    );
    expect(costOf('{ events { edges { node { id } } } }')).toBe(10 + 1 + 50 * 2);
    // Out of range is refused by the resolver (BAD_USER_INPUT on `first`), priced as the maximum.
    expect(costOf('{ events(first: 1000000) { edges { node { id } } } }')).toBe(10 + 1 + 1000 * 2);
  });

  it('prices fragments and inline fragments like the fields they spread', () => {
    const inline = `{ events(first: 100) { edges { node { id actor { id } targets { id } } } } }`;
    const spread = `
      query { events(first: 100) { edges { node { ...E } } } }
      fragment E on Event { id ... on Event { actor { id } } ...T }
      fragment T on Event { targets { id } }`;
    expect(costOf(spread)).toBe(costOf(inline));
    expect(costOf(inline)).toBe(10 + 1 + 100 * 4);
  });

  it('gives the whole-organization fields their own price', () => {
    expect(costOf('{ verifyIntegrity { ok } }')).toBe(4001);
    expect(costOf('{ events(first: 1) { totalCount } }')).toBe(1011);
    expect(costOf('{ eventCounts(groupBy: ACTION, limit: 1000) { key count } }')).toBe(1000 + 1000);
    expect(costOf('{ organization { retentionStatus { eventCount } } }')).toBe(1 + 1001);
    expect(costOf('{ exportEvents(format: CEF) { url } }')).toBe(1001);
    expect(costOf('{ consistencyProof(fromSize: 1, toSize: 2) { hashes } }')).toBe(101);
    expect(costOf('{ events(first: 1000) { edges { node { id proof { leafIndex } } } } }')).toBe(
      10 + 1 + 1000 * (1 + 1 + 5 + 1),
    );
  });

  it('costs what the README says its queries cost', () => {
    expect(costOf(README_EVENTS)).toBe(1262);
    expect(costOf(PAGE(1000))).toBe(6012);
  });

  it('lets the README’s subscriptions through', () => {
    for (const subscription of README_SUBSCRIPTIONS) {
      expect(costOf(subscription, {})).toBeLessThanOrEqual(DEFAULT_LIMIT);
    }
  });
});

describe('one verifyIntegrity per organization at a time', () => {
  it('answers BUSY while one runs for the organization, and lets other organizations run', async () => {
    const gate = new OnePerOrganization('verifyIntegrity');
    let finish!: () => void;
    const first = gate.run('org-a', () => new Promise<string>((resolve) => (finish = () => resolve('done'))));
    await expect(gate.run('org-a', async () => 'second')).rejects.toMatchObject({
      extensions: { code: 'BUSY' },
      message: expect.stringMatching(/verifyIntegrity is already running/),
    });
    await expect(gate.run('org-b', async () => 'other')).resolves.toBe('other');
    finish();
    await expect(first).resolves.toBe('done');
    await expect(gate.run('org-a', async () => 'after')).resolves.toBe('after');
  });
});

describe.each(backends())('the query cost limit on $name', (backend) => {
  let t: TestApp;
  let tenant: Tenant;

  beforeAll(async () => {
    t = await createTestApp(backend);
    tenant = await t.tenant();
    const emitted = await tenant.gql(EMIT_MANY, {
      input: Array.from({ length: 5 }, (_, i) =>
        loginEvent({ targets: [{ id: `doc_${i}`, type: 'document' }] }),
      ),
    });
    expect(emitted.errors).toBeUndefined();
  });
  afterAll(() => t.close());

  it('accepts the README’s own queries', async () => {
    const events = await tenant.gql(README_EVENTS);
    expect(events.errors).toBeUndefined();
    for (const [name, query] of Object.entries(README_QUERIES)) {
      const response = await tenant.gql(query);
      expect({ name, errors: response.errors }).toEqual({ name, errors: undefined });
    }
  });

  it('accepts a page of 1,000 events with a typical selection, pageInfo and totalCount', async () => {
    expect(costOf(PAGE(1000))).toBeLessThanOrEqual(DEFAULT_LIMIT);
    const response = await tenant.gql<{ events: { totalCount: number; edges: unknown[] } }>(PAGE(1000));
    expect(response.errors).toBeUndefined();
    expect(response.data!.events.totalCount).toBe(5);
    const byVariable = await tenant.gql(
      `query($first: Int) { events(first: $first) { totalCount edges { cursor node { ${TYPICAL_EVENT} } } pageInfo { hasNextPage } } }`,
      { first: 1000 },
    );
    expect(byVariable.errors).toBeUndefined();
  });

  it('refuses 30 aliased verifyIntegrity before running any, naming the cost and the limit', async () => {
    const response = await tenant.gql(aliased(30, 'verifyIntegrity { ok checkedCount }'));
    expect(response.status).toBe(400);
    expect(response.data ?? null).toBeNull();
    const error = response.errors![0]!;
    expect(error.extensions).toMatchObject({
      code: 'QUERY_TOO_COSTLY',
      cost: 120_030,
      maxCost: DEFAULT_LIMIT,
    });
    expect(error.message).toBe(
      'Query cost 120030 exceeds the limit of 10000 (MAX_QUERY_COST): ask for smaller pages (first/last), fewer aliases or fewer expensive fields, or split the request',
    );
  });

  it('refuses 20 aliased pages of 1,000 events, also when the page size comes in a variable', async () => {
    const literal = await tenant.gql(aliased(20, 'events(first: 1000) { edges { node { id } } }'));
    expect(literal.errors![0]!.extensions).toMatchObject({ code: 'QUERY_TOO_COSTLY', cost: 20 * 2011 });
    const pages = Array.from({ length: 20 }, (_, i) => `p${i}: events(first: $n) { edges { node { id } } }`);
    const query = `query($n: Int) { ${pages.join(' ')} }`;
    const byVariable = await tenant.gql(query, { n: 1000 });
    expect(byVariable.errors![0]!.extensions).toMatchObject({ code: 'QUERY_TOO_COSTLY', cost: 20 * 2011 });
    // The same document with small pages is cheap: the price follows the variables, not a cache.
    const small = await tenant.gql(query, { n: 5 });
    expect(small.errors).toBeUndefined();
  });

  it('refuses a second verifyIntegrity in one operation, however it is spelled, though under the cost limit', async () => {
    for (const query of [
      '{ a: verifyIntegrity { ok } b: verifyIntegrity { ok } }',
      'query { ...V verifyIntegrity { checkedCount } } fragment V on Query { verifyIntegrity { ok } }',
    ]) {
      expect(costOf(query)).toBeLessThanOrEqual(DEFAULT_LIMIT);
      const response = await tenant.gql(query);
      expect(response.status).toBe(400);
      expect(response.data ?? null).toBeNull();
      expect(response.errors![0]).toMatchObject({
        message: 'verifyIntegrity may be asked once per request; this operation asks for it 2 times',
        extensions: { code: 'QUERY_TOO_COSTLY' },
      });
    }
    const once = await tenant.gql('{ verifyIntegrity { ok } }');
    expect(once.errors).toBeUndefined();
  });
});
