import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.ts';
import { backends } from '../support/backends.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';
import { siblingApp } from './support/sibling-app.ts';

const LISTED = 'https://app.example.com';
const OTHER_LISTED = 'https://admin.example.com';
const UNLISTED = 'https://evil.example';

describe.each(backends())('CORS on $name', (backend) => {
  let t: TestApp;
  const siblings: App[] = [];
  const bases = { listed: '', star: '', none: '' };

  beforeAll(async () => {
    t = await createTestApp(backend); // CORS_ORIGINS unset: the default
    bases.none = `http://127.0.0.1:${await t.app.start(0, '127.0.0.1')}`;
    const listed = siblingApp(t, { CORS_ORIGINS: `${LISTED}, https://Admin.Example.com:443` });
    const star = siblingApp(t, { CORS_ORIGINS: `${LISTED},*` });
    siblings.push(listed, star);
    bases.listed = `http://127.0.0.1:${await listed.start(0, '127.0.0.1')}`;
    bases.star = `http://127.0.0.1:${await star.start(0, '127.0.0.1')}`;
  });
  afterAll(async () => {
    await Promise.all(siblings.map((app) => app.stop()));
    await t.close();
  });

  const preflight = (base: string, origin: string) =>
    fetch(`${base}/graphql`, {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type',
      },
    });
  const post = (base: string, origin: string) =>
    fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { origin, 'content-type': 'application/json', cookie: 'session=1' },
      body: JSON.stringify({ query: '{ __typename }' }),
    });

  it('gives an unlisted origin no Access-Control-Allow-Origin, on the preflight and on the request', async () => {
    for (const base of [bases.listed, bases.none]) {
      for (const response of [await preflight(base, UNLISTED), await post(base, UNLISTED)]) {
        expect(response.headers.get('access-control-allow-origin')).toBeNull();
        expect(response.headers.get('access-control-allow-credentials')).toBeNull();
        expect(response.headers.get('access-control-allow-headers')).toBeNull();
      }
    }
    // The request itself still runs; it is the browser that keeps the answer from the page.
    expect((await post(bases.listed, UNLISTED)).status).toBe(200);
  });

  it('gives a listed origin exactly its origin, without credentials', async () => {
    for (const origin of [LISTED, OTHER_LISTED]) {
      const answer = await preflight(bases.listed, origin);
      expect(answer.status).toBe(204);
      expect(answer.headers.get('access-control-allow-origin')).toBe(origin);
      expect(answer.headers.get('access-control-allow-methods')).toBe('GET, POST, OPTIONS');
      expect(answer.headers.get('access-control-allow-headers')).toBe('authorization, content-type');
      expect(answer.headers.get('access-control-allow-credentials')).toBeNull();
      expect(answer.headers.get('vary')).toMatch(/Origin/);
      const response = await post(bases.listed, origin);
      expect(response.headers.get('access-control-allow-origin')).toBe(origin);
      expect(response.headers.get('access-control-allow-credentials')).toBeNull();
      expect(response.headers.get('access-control-expose-headers')).toMatch(/Retry-After/);
    }
  });

  it('lets any origin in as `*` without credentials when the list holds `*`', async () => {
    const unlisted = await post(bases.star, UNLISTED);
    expect(unlisted.headers.get('access-control-allow-origin')).toBe('*');
    expect(unlisted.headers.get('access-control-allow-credentials')).toBeNull();
    const listed = await post(bases.star, LISTED);
    expect(listed.headers.get('access-control-allow-origin')).toBe(LISTED);
    const preflighted = await preflight(bases.star, 'null');
    expect(preflighted.headers.get('access-control-allow-origin')).toBe('*');
    expect(preflighted.headers.get('access-control-allow-credentials')).toBeNull();
  });

  it('adds nothing to same-origin requests, which send no Origin', async () => {
    const response = await fetch(`${bases.listed}/graphql?query={__typename}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });
});
