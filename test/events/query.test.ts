import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from '../support/backends.ts';
import {
  createTestApp,
  EMIT_MANY,
  EVENTS,
  type GraphQLResponse,
  type Tenant,
  type TestApp,
} from '../support/test-app.ts';

const at = (day: string, time = '12:00:00.000') => `${day}T${time}Z`;

/** A small, varied log: every filter below selects a known subset of it. */
const fixture = [
  {
    action: 'user.login',
    actor: { id: 'usr_ada', type: 'user', name: 'Ada Lovelace' },
    context: { ipAddress: '203.0.113.9' },
    occurredAt: at('2026-11-01', '00:00:00.000'),
    metadata: { plan: 'pro', mfa: true },
  },
  {
    action: 'user.login_failed',
    actor: { id: 'usr_ada', name: 'Ada Lovelace' },
    context: { ipAddress: '203.0.113.10' },
    occurredAt: at('2026-11-02'),
    metadata: { reason: 'Bad Password' },
  },
  {
    action: 'user.login_failed',
    actor: { id: 'usr_bob', name: 'Bob' },
    context: { ipAddress: '198.51.100.7' },
    occurredAt: at('2026-11-03'),
    metadata: { reason: 'unknown user' },
  },
  {
    action: 'billing.plan_changed',
    actor: { id: 'svc_billing', type: 'service' },
    targets: [{ id: 'sub_1', type: 'subscription', name: 'Gold' }],
    occurredAt: at('2026-11-05'),
    metadata: { plan: 'enterprise' },
  },
  {
    action: 'document.read',
    actor: { id: 'usr_bob' },
    targets: [
      { id: 'doc_7', type: 'document', name: 'Payroll 2026' },
      { id: 'fld_1', type: 'folder' },
    ],
    context: { ipAddress: '2001:db8::1' },
    occurredAt: at('2026-11-07', '23:59:59.999'),
  },
  { action: 'user_profile.updated', actor: { id: 'usr_cy', name: 'Cy' }, occurredAt: at('2026-11-08') },
];

describe.each(backends())('querying events on $name', (backend) => {
  let t: TestApp;
  let tenant: Tenant;
  let ids: string[];

  beforeAll(async () => {
    t = await createTestApp(backend);
    tenant = await t.tenant();
    const result = await tenant.gql(EMIT_MANY, { input: fixture });
    expect(result.data!.emitEvents.acceptedCount).toBe(fixture.length);
    ids = result.data!.emitEvents.results.map((r: { event: { id: string } }) => r.event.id);
  });
  afterAll(() => t.close());

  /** Fixture indexes of what a filter/query returns, newest first. */
  async function select(variables: Record<string, unknown>) {
    const result = await tenant.gql(EVENTS, { first: 100, ...variables });
    expect(result.errors).toBeUndefined();
    const found = result.data!.events.edges.map((edge: { node: { id: string } }) =>
      ids.indexOf(edge.node.id),
    );
    expect(result.data!.events.totalCount).toBe(found.length);
    return found;
  }

  it.each([
    ['no filter', {}, [5, 4, 3, 2, 1, 0]],
    ['exact actions', { filter: { actions: ['user.login', 'document.read'] } }, [4, 0]],
    ['an action prefix', { filter: { actions: ['user.*'] } }, [2, 1, 0]],
    ['a prefix that must not match user_profile', { filter: { actions: ['user.login*'] } }, [2, 1, 0]],
    ['actor ids', { filter: { actorIds: ['usr_bob'] } }, [4, 2]],
    ['actor types', { filter: { actorTypes: ['service'] } }, [3]],
    ['target ids', { filter: { targetIds: ['fld_1'] } }, [4]],
    ['target types', { filter: { targetTypes: ['subscription', 'document'] } }, [4, 3]],
    ['occurredAfter (inclusive)', { filter: { occurredAfter: at('2026-11-05') } }, [5, 4, 3]],
    ['occurredBefore (exclusive)', { filter: { occurredBefore: at('2026-11-05') } }, [2, 1, 0]],
    ['an IPv4 CIDR range', { filter: { ipAddress: '203.0.113.0/24' } }, [1, 0]],
    ['one IPv6 address', { filter: { ipAddress: '2001:db8::1' } }, [4]],
    ['free text, case-insensitive, in metadata values', { filter: { search: 'bad password' } }, [1]],
    ['free text in target names', { filter: { search: 'PAYROLL' } }, [4]],
    ['metadata containment', { filter: { metadata: { plan: 'pro' } } }, [0]],
    ['filters combined', { filter: { actions: ['user.*'], actorIds: ['usr_ada'] } }, [1, 0]],
  ])('filters by %s', async (_label, variables, expected) => {
    expect(await select(variables)).toEqual(expected);
  });

  it.each([
    ['action:user.login_failed', [2, 1]],
    ['action:user.*', [2, 1, 0]],
    ['-action:user.*', [5, 4, 3]],
    ['actor:usr_ada', [1, 0]],
    ['actor_type:service', [3]],
    ['target:doc_7', [4]],
    ['target_type:folder', [4]],
    ['ip:198.51.100.0/24', [2]],
    ['-ip:203.0.113.0/24', [5, 4, 3, 2]],
    ['created:2026-11-01..2026-11-07', [4, 3, 2, 1, 0]],
    ['created:>=2026-11-05', [5, 4, 3]],
    ['created:<2026-11-02', [0]],
    ['created:2026-11-07', [4]],
    ['"unknown user"', [2]],
    ['login -bob', [1, 0]],
    ['action:user.login_failed created:>2026-11-02', [2]],
  ])('searches with %s', async (query, expected) => {
    expect(await select({ query })).toEqual(expected);
  });

  it('ANDs the query with the filter', async () => {
    expect(await select({ query: 'action:user.*', filter: { actorIds: ['usr_bob'] } })).toEqual([2]);
  });

  it('points at the offending term of a malformed query', async () => {
    const result = await tenant.gql(EVENTS, { query: 'action:user.* created:2026-13-01' });
    expect(result.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', path: ['query'] });
    expect(result.errors![0]!.message).toMatch(/created:2026-13-01.*position 14/);
  });

  it.each([
    [{ filter: { ipAddress: 'not-an-ip' } }, ['filter', 'ipAddress']],
    [{ filter: { actions: ['Bad Action'] } }, ['filter', 'actions', '0']],
    [{ filter: { metadata: [1] } }, ['filter', 'metadata']],
    [{ first: 1001 }, ['first']],
    [{ first: 1, last: 1 }, ['last']],
    [{ after: 'garbage' }, ['after']],
  ])('names the field of bad arguments %j', async (variables, path) => {
    const result = await tenant.gql(EVENTS, variables);
    expect(result.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', path });
  });

  it('pages forward and backward through every event exactly once', async () => {
    const forward: string[] = [];
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      const result: GraphQLResponse = await tenant.gql(EVENTS, { first: 2, after });
      const connection = result.data!.events;
      forward.push(...connection.edges.map((edge: { node: { id: string } }) => edge.node.id));
      pages += 1;
      if (!connection.pageInfo.hasNextPage) break;
      after = connection.pageInfo.endCursor;
    }
    expect(pages).toBe(3);
    expect(forward).toEqual([...ids].reverse());

    const backward: string[] = [];
    let before: string | null = null;
    for (;;) {
      const result: GraphQLResponse = await tenant.gql(EVENTS, { last: 4, before });
      const connection = result.data!.events;
      backward.unshift(...connection.edges.map((edge: { node: { id: string } }) => edge.node.id));
      if (!connection.pageInfo.hasPreviousPage) break;
      before = connection.pageInfo.startCursor;
    }
    expect(backward).toEqual(forward);
  });

  it('orders oldest first on request and pages the same way', async () => {
    const first = await tenant.gql(EVENTS, { orderBy: 'OCCURRED_AT_ASC', first: 4 });
    const rest = await tenant.gql(EVENTS, {
      orderBy: 'OCCURRED_AT_ASC',
      first: 4,
      after: first.data!.events.pageInfo.endCursor,
    });
    const order = [...first.data!.events.edges, ...rest.data!.events.edges].map(
      (edge: { node: { id: string } }) => edge.node.id,
    );
    expect(order).toEqual(ids);
    expect(first.data!.events.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    expect(rest.data!.events.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });
  });

  it('defaults to 50 per page', async () => {
    const busy = await t.tenant();
    const input = Array.from({ length: 60 }, (_, n) => ({ action: 'user.login', actor: { id: `u${n}` } }));
    await busy.gql(EMIT_MANY, { input });
    const page = await busy.gql(EVENTS, {});
    expect(page.data!.events.edges).toHaveLength(50);
    expect(page.data!.events.totalCount).toBe(60);
    expect(page.data!.events.pageInfo.hasNextPage).toBe(true);
  });

  it.each([
    [
      'ACTION',
      {},
      [
        { key: 'user.login_failed', count: 2 },
        { key: 'billing.plan_changed', count: 1 },
      ],
    ],
    [
      'ACTOR',
      { query: 'action:user.*' },
      [
        { key: 'usr_ada', count: 2 },
        { key: 'usr_bob', count: 1 },
      ],
    ],
    [
      'IP_ADDRESS',
      { filter: { actions: ['user.login_failed'] } },
      [
        { key: '198.51.100.7', count: 1 },
        { key: '203.0.113.10', count: 1 },
      ],
    ],
    [
      'DAY',
      { query: 'created:2026-11-01..2026-11-02' },
      [
        { key: '2026-11-01', count: 1 },
        { key: '2026-11-02', count: 1 },
      ],
    ],
    ['HOUR', { query: 'created:2026-11-07' }, [{ key: '2026-11-07T23:00:00Z', count: 1 }]],
  ])('counts events grouped by %s', async (groupBy, variables, expected) => {
    const result = await tenant.gql(
      `query($groupBy: EventGrouping!, $filter: EventFilter, $query: String) {
        eventCounts(groupBy: $groupBy, filter: $filter, query: $query, limit: 2) { key count }
      }`,
      { groupBy, ...variables },
    );
    expect(result.errors).toBeUndefined();
    expect(result.data!.eventCounts).toEqual(expected);
  });

  it('loads Event.organization and node() lookups in one query per request', async () => {
    const many = await tenant.gql(
      `query { events(first: 6) { edges { node { organization { id name } } } } }`,
    );
    expect(
      many.data!.events.edges.every((edge: any) => edge.node.organization.id === tenant.organization.id),
    ).toBe(true);
    t.queries.length = 0;
    const result = await tenant.gql(
      `query($a: ID!, $b: ID!, $c: ID!) {
        a: node(id: $a) { id ... on Event { organization { name } } }
        b: node(id: $b) { id ... on Event { organization { name } } }
        c: node(id: $c) { id ... on Event { action } }
        events(first: 6) { edges { node { organization { name } } } }
      }`,
      { a: ids[0], b: ids[1], c: ids[2] },
    );
    expect(result.errors).toBeUndefined();
    expect(result.data!.a.organization.name).toBe(tenant.organization.name);
    const eventLookups = t.queries.filter((q) => /from "events" where \("events"\."id" in \(/.test(q));
    const organizationLookups = t.queries.filter((q) => /from "organizations"/.test(q));
    expect(eventLookups).toHaveLength(1);
    expect(organizationLookups).toHaveLength(1);
  });
});
