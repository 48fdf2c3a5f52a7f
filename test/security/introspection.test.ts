import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.ts';
import { asksForIntrospection } from '../../src/graphql/introspection-policy.ts';
import { backends } from '../support/backends.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';
import { siblingApp } from './support/sibling-app.ts';

const SCHEMA = '{ __schema { queryType { name } } }';
const TYPE = '{ __type(name: "Event") { name } }';
const HIDDEN_IN_FRAGMENT = 'query { ...F } fragment F on Query { __schema { types { name } } }';

describe.each(backends())('introspection on $name', (backend) => {
  let authenticated: TestApp;
  let open: App;
  let key: string;

  beforeAll(async () => {
    authenticated = await createTestApp(backend, { GRAPHQL_INTROSPECTION: 'authenticated' });
    open = siblingApp(authenticated, { GRAPHQL_INTROSPECTION: 'public' });
    key = (await authenticated.tenant(['events:read'])).key.secret;
  });
  afterAll(async () => {
    await open.stop();
    await authenticated.close();
  });

  it('refuses __schema and __type without a valid key when it is authenticated', async () => {
    for (const query of [SCHEMA, TYPE, HIDDEN_IN_FRAGMENT]) {
      for (const token of [null, 'al_live_not_a_real_key']) {
        const answer = await authenticated.gql(query, {}, token);
        expect(answer.status, query).toBe(401);
        expect(answer.data ?? null).toBeNull();
        expect(answer.errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');
        expect(answer.errors![0]!.message).toMatch(/GRAPHQL_INTROSPECTION/);
      }
    }
  });

  it('answers introspection with a valid key, of any scope', async () => {
    const schema = await authenticated.gql(SCHEMA, {}, key);
    expect(schema.errors).toBeUndefined();
    expect(schema.data).toEqual({ __schema: { queryType: { name: 'Query' } } });
    const type = await authenticated.gql(TYPE, {}, key);
    expect(type.data).toEqual({ __type: { name: 'Event' } });
  });

  it('keeps __typename open to everyone', async () => {
    const answer = await authenticated.gql('{ __typename }', {}, null);
    expect(answer.status).toBe(200);
    expect(answer.data).toEqual({ __typename: 'Query' });
  });

  it('answers introspection without a key when it is public', async () => {
    const response = await open.yoga.fetch('http://auditline.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: SCHEMA }),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ data: { __schema: { queryType: { name: 'Query' } } } });
  });
});

describe('asksForIntrospection', () => {
  it('finds __schema and __type anywhere, and not __typename or a look-alike', () => {
    expect(asksForIntrospection(parse(SCHEMA))).toBe(true);
    expect(asksForIntrospection(parse(TYPE))).toBe(true);
    expect(asksForIntrospection(parse(HIDDEN_IN_FRAGMENT))).toBe(true);
    expect(asksForIntrospection(parse('{ a: events { edges { node { id __typename } } } }'))).toBe(false);
    expect(asksForIntrospection(parse('{ schema: __typename }'))).toBe(false);
  });
});
