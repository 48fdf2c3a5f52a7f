import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signExportGrant } from '../../src/export/export-link.ts';
import { fromPublicId } from '../../src/ids.ts';
import { revokeApiKey } from '../../src/tenancy/api-keys.ts';
import { untilSubscribed } from '../stream/support.ts';
import { backends, postgresOnly } from '../support/backends.ts';
import { createTestApp, EMIT, loginEvent, type TestApp } from '../support/test-app.ts';
import { openStream, wsUrl } from '../support/ws-client.ts';

const VIEWER = /* GraphQL */ `{ viewer { keyId } }`;
const EXPORT = /* GraphQL */ `query { exportEvents(format: JSONL) { path } }`;
/** The periodic re-check is the fallback; these tests set it out of reach to see the notification work. */
const SLOW_RECHECK = { STREAM_KEY_RECHECK_MS: '60000' };

function get(port: number, path: string, method = 'GET') {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    request({ host: '127.0.0.1', port, path, method }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    })
      .on('error', reject)
      .end();
  });
}

/** Asks until the key is refused; resolves with how long that took after `since`, or fails after `limitMs`. */
async function untilRefused(t: TestApp, token: string, since: number, limitMs: number): Promise<number> {
  for (;;) {
    const result = await t.gql(VIEWER, {}, token);
    if (result.errors?.[0]?.extensions?.code === 'UNAUTHENTICATED') return Date.now() - since;
    if (Date.now() - since > limitMs) throw new Error(`key still accepted after ${limitMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe.each(backends())('revoked keys on $name', (backend) => {
  let t: TestApp;
  let port: number;
  beforeAll(async () => {
    t = await createTestApp(backend, SLOW_RECHECK);
    port = await t.app.start(0, '127.0.0.1');
  });
  afterAll(() => t.close());

  it('are refused at once, although their verdict was just cached', async () => {
    const tenant = await t.tenant();
    expect((await tenant.gql(VIEWER)).data?.viewer.keyId).toBe(tenant.key.id);
    const revokedAt = Date.now();
    await revokeApiKey(t.database.db, tenant.key.id);
    expect(await untilRefused(t, tenant.key.secret, revokedAt, 2000)).toBeLessThan(2000);
    expect((await tenant.gql(VIEWER)).errors?.[0]?.message).toMatch(/revoked/);
  });

  it('lose their export links: 403 with a clear message, for GET and HEAD', async () => {
    const tenant = await t.tenant();
    await tenant.gql(EMIT, { input: loginEvent() });
    const { path } = (await tenant.gql(EXPORT)).data!.exportEvents;
    expect((await get(port, path)).status).toBe(200);
    await revokeApiKey(t.database.db, tenant.key.id);
    const refused = await get(port, path);
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.body).errors[0].message).toMatch(
      /API key that made this export link was revoked/,
    );
    expect(refused.body).not.toMatch(/user\.login_failed/);
    expect((await get(port, path, 'HEAD')).status).toBe(403);
  });

  it('cannot be named by a link signed before links carried their key: such links fail closed', async () => {
    const tenant = await t.tenant();
    const organizationUuid = fromPublicId('org', tenant.organization.id);
    const claims = {
      o: organizationUuid,
      f: null,
      q: null,
      t: 'jsonl',
      e: Math.floor(Date.now() / 1000) + 600,
    };
    const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
    // Sign the old claims the way the old code did: the current signer with the key id left out.
    const current = signExportGrant(t.app.services.exports.linkKey, {
      keyId: tenant.key.id,
      organizationUuid,
      filter: null,
      query: null,
      format: 'jsonl',
      expiresAt: new Date(claims.e * 1000),
    });
    const { createHmac } = await import('node:crypto');
    const signature = createHmac('sha256', t.app.services.exports.linkKey).update(body).digest('base64url');
    expect((await get(port, `/exports/${current}`)).status).toBe(200);
    const old = await get(port, `/exports/${body}.${signature}`);
    expect(old.status).toBe(403);
    expect(JSON.parse(old.body).errors[0].message).toMatch(/not valid/);
  });

  it('links of a key that lacks events:read do not download', async () => {
    const tenant = await t.tenant();
    const writer = await t.keyFor(tenant.organization.id, ['events:write', 'admin']);
    const forged = signExportGrant(t.app.services.exports.linkKey, {
      keyId: writer.id,
      organizationUuid: fromPublicId('org', tenant.organization.id),
      filter: null,
      query: null,
      format: 'jsonl',
      expiresAt: new Date(Date.now() + 60_000),
    });
    const refused = await get(port, `/exports/${forged}`);
    expect(refused.status).toBe(403);
    expect(refused.body).toMatch(/events:read/);
  });
});

describe.each(postgresOnly())('revocation across instances on $name', (backend) => {
  let first: TestApp;
  let second: TestApp;
  let secondPort: number;
  beforeAll(async () => {
    [first, second] = await Promise.all([
      createTestApp(backend, SLOW_RECHECK),
      createTestApp(backend, SLOW_RECHECK),
    ]);
    await first.app.start(0, '127.0.0.1');
    secondPort = await second.app.start(0, '127.0.0.1');
  });
  afterAll(async () => {
    await first?.close();
    await second?.close();
  });

  it('another instance refuses the key within 2 s and closes its streams with 4410', async () => {
    const tenant = await first.tenant();
    const bystander = await first.keyFor(tenant.organization.id, ['events:read', 'events:stream']);
    // Warm the second instance's verdict cache, and open streams there.
    expect((await second.gql(VIEWER, {}, tenant.key.secret)).data?.viewer.keyId).toBe(tenant.key.id);
    const doomed = openStream(wsUrl(secondPort), tenant.key.secret);
    const kept = openStream(wsUrl(secondPort), bystander.secret);
    await untilSubscribed(second.app.services.stream, 2);
    const writer = await first.keyFor(tenant.organization.id, ['events:write']);
    await first.gql(EMIT, { input: loginEvent() }, writer.secret);
    await Promise.all([doomed.waitFor(1), kept.waitFor(1)]);

    const revokedAt = Date.now();
    await revokeApiKey(first.database.db, tenant.key.id);
    expect(await untilRefused(second, tenant.key.secret, revokedAt, 2000)).toBeLessThan(2000);
    const closed = await Promise.race([
      doomed.outcome,
      new Promise((resolve) => setTimeout(() => resolve('still open'), 2000 - (Date.now() - revokedAt))),
    ]);
    expect(closed).toMatchObject({ kind: 'closed', code: 4410 });
    expect(Date.now() - revokedAt).toBeLessThan(2000);

    // The other key's stream is untouched and still delivers.
    await first.gql(EMIT, { input: loginEvent({ action: 'user.logout' }) }, writer.secret);
    expect((await kept.waitFor(2)).map((edge) => edge.node.action)).toEqual([
      'user.login_failed',
      'user.logout',
    ]);
    await Promise.all([doomed.dispose(), kept.dispose()]);
  });
});
