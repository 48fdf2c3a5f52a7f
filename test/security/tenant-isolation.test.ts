import { type GraphQLInputType, getNamedType, isInputObjectType } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { schema } from '../../src/graphql/schema.ts';
import { backends } from '../support/backends.ts';
import {
  createTestApp,
  EMIT,
  type GraphQLResponse,
  loginEvent,
  type Tenant,
  type TestApp,
} from '../support/test-app.ts';
import { openStream, wsUrl } from '../support/ws-client.ts';

/** What only organization B holds: none of it may appear in an answer to A. */
const B_SECRETS = { action: 'secret.b_only', destination: 'b-secret-destination', reason: 'b-secret-reason' };

interface Ids {
  organizationId: string;
  eventId: string;
  destinationId: string;
  holdId: string;
  cursor: string;
}

interface Sweep {
  /** `Query.events(filter.organizationId)`: the id-taking argument this entry covers. */
  covers: string[];
  document: string;
  variables: (b: Ids) => Record<string, unknown>;
  subscription?: boolean;
}

const SYSLOG = { type: 'SYSLOG', url: 'tcp://127.0.0.1:9', format: 'CEF' };

const SWEEPS: Sweep[] = [
  {
    covers: ['Query.checkpoint(organizationId)'],
    document: 'query($o: ID) { checkpoint(organizationId: $o) { treeSize } }',
    variables: (b) => ({ o: b.organizationId }),
  },
  {
    covers: ['Query.consistencyProof(organizationId)'],
    document: 'query($o: ID) { consistencyProof(organizationId: $o, fromSize: 0, toSize: 1) { hashes } }',
    variables: (b) => ({ o: b.organizationId }),
  },
  {
    covers: ['Query.destination(id)'],
    document: 'query($id: ID!) { destination(id: $id) { id name } }',
    variables: (b) => ({ id: b.destinationId }),
  },
  {
    covers: ['Query.destinations(organizationId)'],
    document: 'query($o: ID) { destinations(organizationId: $o) { id name } }',
    variables: (b) => ({ o: b.organizationId }),
  },
  {
    covers: ['Query.event(id)'],
    document: 'query($id: ID!) { event(id: $id) { id action } }',
    variables: (b) => ({ id: b.eventId }),
  },
  {
    covers: ['Query.eventCounts(filter.organizationId)'],
    document: 'query($o: ID) { eventCounts(groupBy: ACTION, filter: { organizationId: $o }) { key count } }',
    variables: (b) => ({ o: b.organizationId }),
  },
  {
    covers: ['Query.events(filter.organizationId)'],
    document: 'query($o: ID) { events(filter: { organizationId: $o }) { edges { node { id action } } } }',
    variables: (b) => ({ o: b.organizationId }),
  },
  {
    covers: [],
    // B's cursor gives A a position, never B's rows: A's own wall still applies.
    document: 'query($after: String) { events(after: $after, first: 50) { edges { node { id action } } } }',
    variables: (b) => ({ after: b.cursor }),
  },
  {
    covers: ['Query.exportEvents(filter.organizationId)'],
    document: 'query($o: ID) { exportEvents(format: JSONL, filter: { organizationId: $o }) { path } }',
    variables: (b) => ({ o: b.organizationId }),
  },
  {
    covers: ['Query.integrityStatus(organizationId)'],
    document: 'query($o: ID) { integrityStatus(organizationId: $o) { lagEvents treeSize } }',
    variables: (b) => ({ o: b.organizationId }),
  },
  ...(['eventId', 'organizationId', 'destinationId', 'holdId'] as const).map((which) => ({
    covers: which === 'eventId' ? ['Query.node(id)'] : [],
    document: 'query($id: ID!) { node(id: $id) { id ... on Event { action } ... on Organization { name } } }',
    variables: (b: Ids) => ({ id: b[which] }),
  })),
  {
    covers: ['Query.organization(id)'],
    document: 'query($id: ID) { organization(id: $id) { id name legalHolds { reason } } }',
    variables: (b) => ({ id: b.organizationId }),
  },
  {
    covers: ['Query.verifyIntegrity(organizationId)'],
    document: 'query($o: ID) { verifyIntegrity(organizationId: $o) { ok checkedCount } }',
    variables: (b) => ({ o: b.organizationId }),
  },
  {
    covers: ['Mutation.createDestination(input.organizationId)'],
    document: 'mutation($input: CreateDestinationInput!) { createDestination(input: $input) { id } }',
    variables: (b) => ({
      input: { name: 'a-into-b', organizationId: b.organizationId, fromBeginning: true, ...SYSLOG },
    }),
  },
  {
    covers: ['Mutation.emitEvent(input.organizationId)'],
    document: EMIT,
    variables: (b) => ({ input: loginEvent({ organizationId: b.organizationId }) }),
  },
  {
    covers: ['Mutation.emitEvents(input.organizationId)'],
    document:
      'mutation($input: [EmitEventInput!]!) { emitEvents(input: $input) { acceptedCount results { error { code } } } }',
    variables: (b) => ({ input: [loginEvent({ organizationId: b.organizationId })] }),
  },
  ...(['pauseDestination', 'resumeDestination', 'testDestination', 'removeDestination'] as const).map(
    (field) => ({
      covers: [`Mutation.${field}(id)`],
      document: `mutation($id: ID!) { ${field}(id: $id) ${field === 'removeDestination' ? '' : field === 'testDestination' ? '{ ok }' : '{ status }'} }`,
      variables: (b: Ids) => ({ id: b.destinationId }),
    }),
  ),
  {
    covers: ['Mutation.updateDestination(id)'],
    document:
      'mutation($id: ID!) { updateDestination(id: $id, input: { url: "tcp://127.0.0.1:10" }) { id } }',
    variables: (b) => ({ id: b.destinationId }),
  },
  {
    covers: ['Mutation.placeLegalHold(organizationId)'],
    document: 'mutation($o: ID!) { placeLegalHold(organizationId: $o, reason: "a-into-b") { id } }',
    variables: (b) => ({ o: b.organizationId }),
  },
  {
    covers: ['Mutation.releaseLegalHold(id)'],
    document: 'mutation($id: ID!) { releaseLegalHold(id: $id) { id reason } }',
    variables: (b) => ({ id: b.holdId }),
  },
  {
    covers: ['Mutation.setActionMappings(organizationId)'],
    document: 'mutation($o: ID!) { setActionMappings(organizationId: $o, rules: []) { id } }',
    variables: (b) => ({ o: b.organizationId }),
  },
  {
    covers: ['Mutation.setRetentionPolicy(organizationId)'],
    document: 'mutation($o: ID!) { setRetentionPolicy(organizationId: $o, retentionDays: 1) { id } }',
    variables: (b) => ({ o: b.organizationId }),
  },
  {
    covers: ['Subscription.eventStream(filter.organizationId)'],
    document:
      'subscription($o: ID) { eventStream(from: BEGINNING, filter: { organizationId: $o }) { node { id action } } }',
    variables: (b) => ({ o: b.organizationId }),
    subscription: true,
  },
];

/** Paths of every ID-typed argument, looking inside input objects and lists. */
function idPaths(type: GraphQLInputType, path: string, seen = new Set<string>()): string[] {
  const named = getNamedType(type);
  if (named.name === 'ID') return [path];
  if (!isInputObjectType(named) || seen.has(named.name)) return [];
  const inner = new Set([...seen, named.name]);
  return Object.values(named.getFields()).flatMap((field) =>
    idPaths(field.type, `${path}.${field.name}`, inner),
  );
}

it('the sweep covers every id-taking argument of every root field', () => {
  const needed = [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()].flatMap(
    (root) =>
      Object.values(root!.getFields()).flatMap((field) =>
        field.args.flatMap((arg) =>
          idPaths(arg.type, arg.name).map((path) => `${root!.name}.${field.name}(${path})`),
        ),
      ),
  );
  const covered = new Set(SWEEPS.flatMap((sweep) => sweep.covers));
  expect(needed.length).toBeGreaterThan(20);
  expect(needed.filter((path) => !covered.has(path))).toEqual([]);
});

describe.each(backends())('cross-tenant sweep on $name', (backend) => {
  let t: TestApp;
  let port: number;
  let a: Tenant;
  let b: Tenant;
  let ids: Ids;

  /** Everything B can see of its own organization: the sweep must leave it as it was. */
  const stateOfB = async () =>
    (
      await b.gql(/* GraphQL */ `{
        events(first: 100) { edges { node { id action } } }
        destinations { id name url status }
        organization { retentionDays legalHolds { id reason releasedAt } actionMappings { pattern } }
      }`)
    ).data;

  beforeAll(async () => {
    t = await createTestApp(backend, { DESTINATION_ALLOW_NETWORKS: '127.0.0.0/8' });
    port = await t.app.start(0, '127.0.0.1');
    [a, b] = await Promise.all([t.tenant(), t.tenant()]);
    await a.gql(EMIT, { input: loginEvent() });
    const event = (await b.gql(EMIT, { input: loginEvent({ action: B_SECRETS.action }) })).data!.emitEvent
      .event;
    const destination = await b.gql(
      'mutation($input: CreateDestinationInput!) { createDestination(input: $input) { id } }',
      { input: { name: B_SECRETS.destination, ...SYSLOG } },
    );
    const hold = await b.gql(
      'mutation($o: ID!, $r: String!) { placeLegalHold(organizationId: $o, reason: $r) { id } }',
      { o: b.organization.id, r: B_SECRETS.reason },
    );
    const page = await b.gql('{ events(first: 1) { edges { cursor } } }');
    ids = {
      organizationId: b.organization.id,
      eventId: event.id,
      destinationId: destination.data!.createDestination.id,
      holdId: hold.data!.placeLegalHold.id,
      cursor: page.data!.events.edges[0].cursor,
    };
  });
  afterAll(() => t.close());

  function expectNothingOfB(label: string, answer: unknown) {
    const text = JSON.stringify(answer);
    for (const secret of [...Object.values(B_SECRETS), b.organization.name])
      expect(text, label).not.toContain(secret);
  }

  function expectRefusedOrEmpty(label: string, result: GraphQLResponse) {
    const codes = (result.errors ?? []).map((error) => error.extensions?.code);
    const field = Object.keys(result.data ?? {})[0];
    const value = field ? result.data![field] : null;
    const empty =
      value === null ||
      (Array.isArray(value) && value.length === 0) ||
      value?.edges?.every((edge: { node: { id: string } }) => edge.node.id !== ids.eventId) ||
      value?.results?.every((r: { error: { code: string } | null }) => r.error?.code === 'FORBIDDEN');
    if (codes.length > 0)
      expect(
        codes.every((code) => code === 'NOT_FOUND' || code === 'FORBIDDEN'),
        `${label}: ${JSON.stringify(result.errors)}`,
      ).toBe(true);
    else expect(empty, `${label}: ${JSON.stringify(result.data)}`).toBe(true);
  }

  it('answers NOT_FOUND, FORBIDDEN or nothing to a key of A naming B’s ids, and changes nothing of B', async () => {
    const before = await stateOfB();
    for (const sweep of SWEEPS.filter((candidate) => !candidate.subscription)) {
      const label = sweep.covers[0] ?? sweep.document;
      const result = await a.gql(sweep.document, sweep.variables(ids));
      expectRefusedOrEmpty(label, result);
      expectNothingOfB(label, result);
    }
    expect(await stateOfB()).toEqual(before);
  });

  it('refuses a stream of B’s events to a key of A', async () => {
    for (const sweep of SWEEPS.filter((candidate) => candidate.subscription)) {
      const stream = openStream(wsUrl(port), a.key.secret, sweep.variables(ids), { query: sweep.document });
      const outcome = await stream.outcome;
      expect(outcome).toMatchObject({ kind: 'errors', errors: [{ extensions: { code: 'FORBIDDEN' } }] });
      expect(stream.edges).toEqual([]);
      expectNothingOfB(sweep.covers[0]!, outcome);
      await stream.dispose();
    }
  });
});
