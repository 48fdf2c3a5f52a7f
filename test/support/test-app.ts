import { type App, buildApp } from '../../src/app.ts';
import { type Config, loadConfig } from '../../src/config.ts';
import { type DatabaseHandle, openDatabase } from '../../src/db/client.ts';
import { migrateDatabase } from '../../src/db/migrate.ts';
import { createLogger } from '../../src/logger.ts';
import { type CreatedApiKey, createApiKey } from '../../src/tenancy/api-keys.ts';
import { createOrganization, type Organization } from '../../src/tenancy/organizations.ts';
import { SCOPES, type Scope } from '../../src/tenancy/scopes.ts';
import type { Backend } from './backends.ts';

/** The server's configuration as tests run it; `overrides` are environment variables. */
export function testConfig(overrides: Record<string, string> = {}): Config {
  return { ...loadConfig({ NODE_ENV: 'test', GRAPHIQL: 'false', MAX_WS_CONNECTIONS: '100', ...overrides }) };
}

export interface GraphQLResponse<Data = Record<string, any>> {
  status: number;
  data?: Data | null;
  errors?: { message: string; path?: string[]; extensions?: { code?: string; path?: string[] } }[];
}

export interface Tenant {
  organization: Organization;
  key: CreatedApiKey;
  /** Runs an operation over HTTP (through yoga.fetch) with this tenant's key. */
  gql<Data = Record<string, any>>(
    query: string,
    variables?: Record<string, unknown>,
  ): Promise<GraphQLResponse<Data>>;
}

export interface TestApp {
  app: App;
  database: DatabaseHandle;
  /** Statements drizzle sent since the last `queries.length = 0`. */
  queries: string[];
  gql<Data = Record<string, any>>(
    query: string,
    variables?: Record<string, unknown>,
    token?: string | null,
  ): Promise<GraphQLResponse<Data>>;
  /** A fresh organization with a key carrying `scopes` (all by default). */
  tenant(scopes?: Scope[]): Promise<Tenant>;
  keyFor(organizationId: string | null, scopes: Scope[]): Promise<CreatedApiKey>;
  close(): Promise<void>;
}

let counter = 0;
export const uniqueName = (prefix = 'org') =>
  `${prefix}-${process.pid}-${Date.now().toString(36)}-${(counter++).toString(36)}`;

export async function createTestApp(
  backend: Backend,
  environment: Record<string, string> = {},
): Promise<TestApp> {
  const queries: string[] = [];
  const database = await openDatabase(backend.config, { onQuery: (query) => queries.push(query) });
  await migrateDatabase(database);
  const app = buildApp({
    config: testConfig(environment),
    database,
    logger: createLogger('silent'),
    runBackgroundWorkers: false,
  });

  async function gql<Data>(query: string, variables?: Record<string, unknown>, token?: string | null) {
    const response = await app.yoga.fetch('http://auditline.test/graphql', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as GraphQLResponse<Data>;
    return { ...body, status: response.status };
  }

  const keyFor = (organizationId: string | null, scopes: Scope[]) =>
    createApiKey(database.db, { organizationId, scopes });

  return {
    app,
    database,
    queries,
    gql,
    keyFor,
    async tenant(scopes = [...SCOPES]) {
      const organization = await createOrganization(database.db, uniqueName());
      const key = await keyFor(organization.id, scopes);
      return {
        organization,
        key,
        gql: <Data>(query: string, variables?: Record<string, unknown>) =>
          gql<Data>(query, variables, key.secret),
      };
    },
    async close() {
      await app.stop();
      await database.close();
    },
  };
}

export const EMIT = /* GraphQL */ `
  mutation Emit($input: EmitEventInput!) {
    emitEvent(input: $input) {
      replayed
      event { id organizationId action occurredAt receivedAt idempotencyKey metadata
        actor { id type name } targets { id type name } context { ipAddress userAgent } }
    }
  }
`;

export const EMIT_MANY = /* GraphQL */ `
  mutation EmitMany($input: [EmitEventInput!]!) {
    emitEvents(input: $input) {
      acceptedCount
      rejectedCount
      results { index replayed event { id action } error { code message path } }
    }
  }
`;

export const EVENTS = /* GraphQL */ `
  query Events($filter: EventFilter, $query: String, $orderBy: EventOrder, $first: Int, $after: String,
               $last: Int, $before: String) {
    events(filter: $filter, query: $query, orderBy: $orderBy, first: $first, after: $after, last: $last,
           before: $before) {
      totalCount
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      edges { cursor node { id action occurredAt actor { id type } targets { id type } context { ipAddress } } }
    }
  }
`;

export function loginEvent(overrides: Record<string, unknown> = {}) {
  return {
    action: 'user.login_failed',
    actor: { id: 'usr_1', name: 'Ada Lovelace' },
    context: { ipAddress: '203.0.113.9', userAgent: 'curl/8' },
    metadata: { reason: 'bad password' },
    ...overrides,
  };
}
