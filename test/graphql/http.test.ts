import { auditServer } from 'graphql-http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from '../support/backends.ts';
import { createTestApp, EMIT, loginEvent, type Tenant, type TestApp } from '../support/test-app.ts';

describe.each(backends())('the HTTP server on $name', (backend) => {
  let t: TestApp;
  let tenant: Tenant;
  let base: string;

  beforeAll(async () => {
    t = await createTestApp(backend);
    tenant = await t.tenant();
    const port = await t.app.start(0, '127.0.0.1');
    base = `http://127.0.0.1:${port}`;
  });
  afterAll(() => t.close());

  const post = (body: string, headers: Record<string, string> = {}) =>
    fetch(`${base}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${tenant.key.secret}`,
        ...headers,
      },
      body,
    });

  it('passes every MUST of the GraphQL-over-HTTP audit with a valid key', async () => {
    const results = await auditServer({
      url: `${base}/graphql`,
      fetchFn: (input: RequestInfo, init: RequestInit = {}) => {
        const headers = new Headers(init.headers);
        headers.set('authorization', `Bearer ${tenant.key.secret}`);
        return fetch(input, { ...init, headers });
      },
    });
    const failedMusts = results.filter((result) => result.name.startsWith('MUST') && result.status !== 'ok');
    expect(failedMusts.map((result) => `${result.name}: ${'reason' in result ? result.reason : ''}`)).toEqual(
      [],
    );
    expect(results.length).toBeGreaterThan(20);
  });

  it('answers liveness and readiness probes', async () => {
    expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ status: 'ok' });
    expect(await (await fetch(`${base}/readyz`)).json()).toEqual({ status: 'ready' });
  });

  it('refuses a body over MAX_BODY_BYTES before reading it', async () => {
    const huge = JSON.stringify({
      query: EMIT,
      variables: { input: loginEvent({ metadata: { x: 'y'.repeat(9 << 20) } }) },
    });
    const response = await post(huge);
    expect(response.status).toBe(413);
    expect((await response.json()).errors[0].extensions.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('refuses a body without a Content-Length, whose size it could only learn by reading it', async () => {
    const body = JSON.stringify({ query: EMIT, variables: { input: loginEvent() } });
    const chunks = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(body));
        controller.close();
      },
    });
    const response = await fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${tenant.key.secret}` },
      body: chunks,
      duplex: 'half',
    } as RequestInit);
    expect(response.status).toBe(413);
    const { errors } = await response.json();
    expect(errors[0].extensions.code).toBe('PAYLOAD_TOO_LARGE');
    expect(errors[0].message).toMatch(/Content-Length/);
  });

  it('refuses queries deeper or costlier than configured, naming the limit', async () => {
    const strict = await createTestApp(backend, { MAX_QUERY_DEPTH: '4', MAX_QUERY_COST: '60' });
    try {
      const key = (await strict.tenant()).key.secret;
      const shallow = await strict.gql('{ events(first: 1) { edges { node { id } } } }', {}, key);
      expect(shallow.errors).toBeUndefined();
      const deep = await strict.gql('{ events { edges { node { organization { id } } } } }', {}, key);
      expect(deep.errors![0]!.message).toMatch(/depth/i);
      const costly = await strict.gql(
        `{ ${Array.from({ length: 12 }, (_, i) => `e${i}: events { edges { node { id action } } }`).join(' ')} }`,
        {},
        key,
      );
      expect(costly.errors![0]!.message).toMatch(/cost/i);
    } finally {
      await strict.close();
    }
  });
});
