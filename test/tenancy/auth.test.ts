import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listApiKeys, revokeApiKey } from '../../src/tenancy/api-keys.ts';
import { backends } from '../support/backends.ts';
import { createTestApp, EMIT, EVENTS, loginEvent, type Tenant, type TestApp } from '../support/test-app.ts';

describe.each(backends())('API keys and tenant isolation on $name', (backend) => {
  let t: TestApp;
  let alice: Tenant;
  let bob: Tenant;
  let bobEventId: string;

  beforeAll(async () => {
    t = await createTestApp(backend);
    [alice, bob] = [await t.tenant(), await t.tenant()];
    await alice.gql(EMIT, { input: loginEvent({ actor: { id: 'alice_user' } }) });
    bobEventId = (await bob.gql(EMIT, { input: loginEvent({ actor: { id: 'bob_user' } }) })).data!.emitEvent
      .event.id;
  });
  afterAll(() => t.close());

  it.each([
    ['no key', null, /Missing API key/],
    ['a malformed key', 'not-a-key', /Unknown API key/],
    ['an unknown key', `al_live_${'0'.repeat(32)}_${'A'.repeat(43)}`, /Unknown API key/],
  ])('answers %s with UNAUTHENTICATED and HTTP 401', async (_label, token, message) => {
    const result = await t.gql(EVENTS, {}, token);
    expect(result.status).toBe(401);
    expect(result.errors![0]!.extensions?.code).toBe('UNAUTHENTICATED');
    expect(result.errors![0]!.message).toMatch(message);
  });

  it('refuses a revoked key', async () => {
    const key = await t.keyFor(alice.organization.id, ['events:read']);
    expect((await t.gql(EVENTS, {}, key.secret)).errors).toBeUndefined();
    await revokeApiKey(t.database.db, key.id);
    t.app.services.authenticator.forget(key.id);
    const result = await t.gql(EVENTS, {}, key.secret);
    expect(result.errors![0]).toMatchObject({
      message: 'This API key was revoked',
      extensions: { code: 'UNAUTHENTICATED' },
    });
  });

  it('answers a missing scope with FORBIDDEN', async () => {
    const readOnly = await t.keyFor(alice.organization.id, ['events:read']);
    const writeOnly = await t.keyFor(alice.organization.id, ['events:write']);
    const emit = await t.gql(EMIT, { input: loginEvent() }, readOnly.secret);
    expect(emit.errors![0]!.extensions?.code).toBe('FORBIDDEN');
    expect(emit.errors![0]!.message).toMatch(/events:write/);
    const read = await t.gql(EVENTS, {}, writeOnly.secret);
    expect(read.errors![0]!.extensions?.code).toBe('FORBIDDEN');
  });

  it("never shows another organization's events, whatever the arguments say", async () => {
    const own = await alice.gql(EVENTS, { query: 'actor:bob_user' });
    expect(own.data!.events.totalCount).toBe(0);
    const named = await alice.gql(EVENTS, { filter: { organizationId: bob.organization.id } });
    expect(named.errors![0]!.extensions).toMatchObject({
      code: 'FORBIDDEN',
      path: ['filter', 'organizationId'],
    });
    const direct = await alice.gql(`query($id: ID!) { event(id: $id) { id } node(id: $id) { id } }`, {
      id: bobEventId,
    });
    expect(direct.data).toEqual({ event: null, node: null });
    const org = await alice.gql(`query($id: ID!) { node(id: $id) { id } }`, { id: bob.organization.id });
    expect(org.data!.node).toBeNull();
  });

  it("refuses to write into another organization's log", async () => {
    const result = await alice.gql(EMIT, { input: loginEvent({ organizationId: bob.organization.id }) });
    expect(result.errors![0]!.extensions).toMatchObject({
      code: 'FORBIDDEN',
      path: ['input', 'organizationId'],
    });
    const bobs = await bob.gql(EVENTS, {});
    expect(bobs.data!.events.totalCount).toBe(1);
  });

  it('lets a platform key act on a named organization, and only a named one for writes', async () => {
    const platform = await t.keyFor(null, ['admin', 'events:write', 'events:read']);
    const unnamed = await t.gql(EMIT, { input: loginEvent() }, platform.secret);
    expect(unnamed.errors![0]!.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      path: ['input', 'organizationId'],
    });
    const unknown = await t.gql(
      EMIT,
      { input: loginEvent({ organizationId: `org_${'0'.repeat(32)}` }) },
      platform.secret,
    );
    expect(unknown.errors![0]!.message).toMatch(/No organization/);
    const named = await t.gql(
      EMIT,
      { input: loginEvent({ organizationId: bob.organization.id }) },
      platform.secret,
    );
    expect(named.data!.emitEvent.event.organizationId).toBe(bob.organization.id);
    const read = await t.gql(EVENTS, { filter: { organizationId: bob.organization.id } }, platform.secret);
    expect(read.data!.events.totalCount).toBe(2);
  });

  it('records when a key was last used', async () => {
    const key = await t.keyFor(alice.organization.id, ['events:read']);
    expect(key.lastUsedAt).toBeNull();
    await t.gql(EVENTS, {}, key.secret);
    await expect
      .poll(
        async () =>
          (await listApiKeys(t.database.db, alice.organization.id)).find((k) => k.id === key.id)?.lastUsedAt,
      )
      .toBeInstanceOf(Date);
  });

  it('tells a key who it is', async () => {
    const result = await alice.gql(`{ viewer { keyId organizationId scopes organization { name } } }`);
    expect(result.data!.viewer).toEqual({
      keyId: alice.key.id,
      organizationId: alice.organization.id,
      scopes: ['events:write', 'events:read', 'events:stream', 'admin'],
      organization: { name: alice.organization.name },
    });
  });
});
