import { type Client, createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { schema } from '../../src/graphql/schema.ts';
import type { Scope } from '../../src/tenancy/scopes.ts';
import { backends } from '../support/backends.ts';
import {
  createTestApp,
  EMIT,
  type GraphQLResponse,
  loginEvent,
  type Tenant,
  type TestApp,
} from '../support/test-app.ts';
import { wsUrl } from '../support/ws-client.ts';

/** Each scope alone, the combination destinations need, and every scope. */
const SCOPE_SETS: Scope[][] = [
  ['events:write'],
  ['events:read'],
  ['events:stream'],
  ['admin'],
  ['admin', 'events:read'],
  ['events:write', 'events:read', 'events:stream', 'admin'],
];

const CASES = SCOPE_SETS.map((scopes) => ({ scopes, label: scopes.join(' + ') }));

interface Fixture {
  organizationId: string;
  eventId: string;
  holdId: string;
  destinationId: string;
  /** A destination no call has touched, for calls that delete. */
  freshDestination(): Promise<string>;
}

interface Operation {
  /** `Query.events`, `Organization.legalHolds`, …: root fields are checked against the schema. */
  field: string;
  /** Any one of these scope sets allows it; `[[]]`: any valid key. */
  needs: Scope[][];
  document: string;
  variables?: (fixture: Fixture) => Promise<Record<string, unknown>> | Record<string, unknown>;
  /** Subscriptions run over WebSocket only. */
  subscription?: boolean;
  /** How a refusal shows when the field answers null instead of FORBIDDEN. */
  refusedAsNull?: string;
}

const READ: Scope[][] = [['events:read']];
const ADMIN: Scope[][] = [['admin']];
const SENDS: Scope[][] = [['admin', 'events:read']];
const ANY: Scope[][] = [[]];
const SYSLOG = { type: 'SYSLOG', url: 'tcp://127.0.0.1:9', format: 'CEF' };
let destinationCount = 0;

const OPERATIONS: Operation[] = [
  { field: 'Query.checkpoint', needs: READ, document: '{ checkpoint { treeSize } }' },
  {
    field: 'Query.consistencyProof',
    needs: READ,
    document: '{ consistencyProof(fromSize: 0, toSize: 0) { fromSize } }',
  },
  { field: 'Query.defaultActionMappings', needs: ANY, document: '{ defaultActionMappings { pattern } }' },
  {
    field: 'Query.destination',
    needs: ADMIN,
    document: 'query($id: ID!) { destination(id: $id) { id } }',
    variables: (f) => ({ id: f.destinationId }),
    refusedAsNull: 'destination',
  },
  { field: 'Query.destinations', needs: ADMIN, document: '{ destinations { id } }' },
  {
    field: 'Query.event',
    needs: READ,
    document: 'query($id: ID!) { event(id: $id) { id } }',
    variables: (f) => ({ id: f.eventId }),
  },
  { field: 'Query.eventCounts', needs: READ, document: '{ eventCounts(groupBy: ACTION) { key count } }' },
  { field: 'Query.events', needs: READ, document: '{ events(first: 1) { edges { node { id } } } }' },
  { field: 'Query.exportEvents', needs: READ, document: '{ exportEvents(format: JSONL) { path } }' },
  { field: 'Query.integrityPublicKey', needs: READ, document: '{ integrityPublicKey }' },
  { field: 'Query.integrityStatus', needs: READ, document: '{ integrityStatus { lagEvents } }' },
  {
    field: 'Query.node',
    needs: READ,
    document: 'query($id: ID!) { node(id: $id) { id } }',
    variables: (f) => ({ id: f.eventId }),
  },
  { field: 'Query.organization', needs: READ, document: '{ organization { id } }' },
  { field: 'Query.verifyIntegrity', needs: READ, document: '{ verifyIntegrity { ok } }' },
  { field: 'Query.viewer', needs: ANY, document: '{ viewer { keyId scopes } }' },
  // Organization fields reachable through `viewer` by any key.
  {
    field: 'Organization.retentionDays',
    needs: READ,
    document: '{ viewer { organization { retentionDays } } }',
  },
  {
    field: 'Organization.legalHolds',
    needs: READ,
    document: '{ viewer { organization { legalHolds { id } } } }',
  },
  {
    field: 'Organization.retentionStatus',
    needs: READ,
    document: '{ viewer { organization { retentionStatus { eventCount } } } }',
  },
  {
    field: 'Organization.actionMappings',
    needs: [['events:read'], ['admin']],
    document: '{ viewer { organization { actionMappings { pattern } } } }',
  },
  {
    field: 'Mutation.createDestination',
    needs: SENDS,
    document: 'mutation($input: CreateDestinationInput!) { createDestination(input: $input) { id } }',
    variables: () => ({ input: { name: `matrix ${destinationCount++}`, fromBeginning: true, ...SYSLOG } }),
  },
  {
    field: 'Mutation.emitEvent',
    needs: [['events:write']],
    document: EMIT,
    variables: () => ({ input: loginEvent() }),
  },
  {
    field: 'Mutation.emitEvents',
    needs: [['events:write']],
    document: 'mutation($input: [EmitEventInput!]!) { emitEvents(input: $input) { acceptedCount } }',
    variables: () => ({ input: [loginEvent()] }),
  },
  {
    field: 'Mutation.pauseDestination',
    needs: ADMIN,
    document: 'mutation($id: ID!) { pauseDestination(id: $id) { status } }',
    variables: (f) => ({ id: f.destinationId }),
  },
  {
    field: 'Mutation.resumeDestination',
    needs: SENDS,
    document: 'mutation($id: ID!) { resumeDestination(id: $id) { status } }',
    variables: (f) => ({ id: f.destinationId }),
  },
  {
    field: 'Mutation.updateDestination',
    needs: SENDS,
    document: 'mutation($id: ID!) { updateDestination(id: $id, input: { query: "action:user.*" }) { id } }',
    variables: (f) => ({ id: f.destinationId }),
  },
  {
    field: 'Mutation.testDestination',
    needs: SENDS,
    document: 'mutation($id: ID!) { testDestination(id: $id) { ok } }',
    variables: (f) => ({ id: f.destinationId }),
  },
  {
    field: 'Mutation.removeDestination',
    needs: ADMIN,
    document: 'mutation($id: ID!) { removeDestination(id: $id) }',
    variables: async (f) => ({ id: await f.freshDestination() }),
  },
  {
    field: 'Mutation.placeLegalHold',
    needs: ADMIN,
    document: 'mutation($o: ID!) { placeLegalHold(organizationId: $o, reason: "matrix") { id } }',
    variables: (f) => ({ o: f.organizationId }),
  },
  {
    field: 'Mutation.releaseLegalHold',
    needs: ADMIN,
    document: 'mutation($id: ID!) { releaseLegalHold(id: $id) { id } }',
    variables: (f) => ({ id: f.holdId }),
  },
  {
    field: 'Mutation.setActionMappings',
    needs: ADMIN,
    document: 'mutation($o: ID!) { setActionMappings(organizationId: $o, rules: []) { id } }',
    variables: (f) => ({ o: f.organizationId }),
  },
  {
    field: 'Mutation.setRetentionPolicy',
    needs: ADMIN,
    document: 'mutation($o: ID!) { setRetentionPolicy(organizationId: $o, retentionDays: 400) { id } }',
    variables: (f) => ({ o: f.organizationId }),
  },
  {
    field: 'Subscription.eventStream',
    needs: [['events:stream']],
    document: 'subscription { eventStream(from: BEGINNING) { node { id } } }',
    subscription: true,
  },
];

const allowed = (operation: Operation, scopes: Scope[]) =>
  operation.needs.some((needed) => needed.every((scope) => scopes.includes(scope)));

/** The first result of an operation over a graphql-ws connection: data, or errors. */
function overWebSocket(client: Client, query: string, variables: Record<string, unknown>) {
  return new Promise<GraphQLResponse>((resolve, reject) => {
    let dispose = () => {};
    dispose = client.subscribe(
      { query, variables },
      {
        next: (result) => {
          resolve({ status: 200, ...(result as object) } as GraphQLResponse);
          dispose();
        },
        error: (error) =>
          Array.isArray(error) ? resolve({ status: 200, errors: error as never }) : reject(error),
        complete: () => {},
      },
    );
  });
}

function expectVerdict(operation: Operation, scopes: Scope[], result: GraphQLResponse, transport: string) {
  const label = `${operation.field} with [${scopes.join(', ')}] over ${transport}`;
  const codes = (result.errors ?? []).map((error) => error.extensions?.code);
  if (allowed(operation, scopes)) {
    expect(codes, `${label}: ${JSON.stringify(result.errors)}`).not.toContain('FORBIDDEN');
    expect(codes, label).not.toContain('UNAUTHENTICATED');
    if (operation.refusedAsNull) expect(result.data?.[operation.refusedAsNull], label).not.toBeNull();
    return;
  }
  if (operation.refusedAsNull) {
    expect(result.data?.[operation.refusedAsNull], label).toBeNull();
    return;
  }
  expect(codes, `${label}: ${JSON.stringify(result)}`).toContain('FORBIDDEN');
  const missing = operation.needs[0]!.filter((scope) => !scopes.includes(scope));
  const message = result.errors!.find((error) => error.extensions?.code === 'FORBIDDEN')!.message;
  for (const scope of missing) expect(message, label).toContain(`"${scope}"`);
  if (operation.needs[0]!.length > 1) {
    for (const scope of operation.needs[0]!) expect(message, `${label} names every scope`).toContain(scope);
  }
}

it('the matrix covers every root field of the schema', () => {
  const rootFields = [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()].flatMap(
    (type) => Object.keys(type!.getFields()).map((field) => `${type!.name}.${field}`),
  );
  const covered = new Set(OPERATIONS.map((operation) => operation.field));
  expect(rootFields.filter((field) => !covered.has(field))).toEqual([]);
});

describe.each(backends())('scope matrix on $name', (backend) => {
  let t: TestApp;
  let port: number;
  let owner: Tenant;
  let fixture: Fixture;
  beforeAll(async () => {
    t = await createTestApp(backend, { DESTINATION_ALLOW_NETWORKS: '127.0.0.0/8' });
    port = await t.app.start(0, '127.0.0.1');
    owner = await t.tenant();
    const emitted = await owner.gql(EMIT, { input: loginEvent() });
    const hold = await owner.gql(
      'mutation($o: ID!) { placeLegalHold(organizationId: $o, reason: "r") { id } }',
      {
        o: owner.organization.id,
      },
    );
    const freshDestination = async () => {
      const created = await owner.gql(
        'mutation($input: CreateDestinationInput!) { createDestination(input: $input) { id } }',
        { input: { name: `fixture ${destinationCount++}`, ...SYSLOG } },
      );
      return created.data!.createDestination.id as string;
    };
    fixture = {
      organizationId: owner.organization.id,
      eventId: emitted.data!.emitEvent.event.id,
      holdId: hold.data!.placeLegalHold.id,
      destinationId: await freshDestination(),
      freshDestination,
    };
  });
  afterAll(() => t.close());

  it.each(CASES)('over HTTP, a key with $label', async ({ scopes }) => {
    const key = await t.keyFor(owner.organization.id, scopes);
    for (const operation of OPERATIONS.filter((candidate) => !candidate.subscription)) {
      const variables = (await operation.variables?.(fixture)) ?? {};
      expectVerdict(operation, scopes, await t.gql(operation.document, variables, key.secret), 'HTTP');
    }
  });

  it.each(CASES)('over WebSocket, a key with $label', async ({ scopes }) => {
    const key = await t.keyFor(owner.organization.id, scopes);
    const client = createClient({
      url: wsUrl(port),
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${key.secret}` },
      retryAttempts: 0,
    });
    try {
      for (const operation of OPERATIONS) {
        const variables = (await operation.variables?.(fixture)) ?? {};
        expectVerdict(
          operation,
          scopes,
          await overWebSocket(client, operation.document, variables),
          'WebSocket',
        );
      }
    } finally {
      await client.dispose();
    }
  });
});
