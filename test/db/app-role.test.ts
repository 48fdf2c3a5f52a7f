import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.ts';
import { type DatabaseHandle, openDatabase } from '../../src/db/client.ts';
import { ensurePartitions, migrateDatabase } from '../../src/db/migrate.ts';
import { createLogger } from '../../src/logger.ts';
import { createApiKey } from '../../src/tenancy/api-keys.ts';
import { createOrganization } from '../../src/tenancy/organizations.ts';
import { SCOPES } from '../../src/tenancy/scopes.ts';
import { postgresOnly } from '../support/backends.ts';
import { createFreshDatabase } from '../support/fresh-database.ts';
import { EMIT, EVENTS, loginEvent, testConfig } from '../support/test-app.ts';

describe.runIf(postgresOnly().length > 0)('running as the least-privileged app role on PostgreSQL', () => {
  let fresh: Awaited<ReturnType<typeof createFreshDatabase>>;
  let owner: DatabaseHandle;
  let asApp: DatabaseHandle;
  const login = `auditline_it_${process.pid}_${Date.now().toString(36)}`;

  beforeAll(async () => {
    fresh = await createFreshDatabase('auditline_role');
    owner = await openDatabase({ kind: 'postgres', url: fresh.url, poolSize: 2 });
    await migrateDatabase(owner);
    await owner.raw.query(`create role ${login} login in role auditline_app`);
    const url = new URL(fresh.url);
    url.username = login;
    asApp = await openDatabase({ kind: 'postgres', url: url.toString(), poolSize: 2 });
  });
  afterAll(async () => {
    await asApp?.close();
    await owner?.raw.query(`drop owned by ${login}`).catch(() => {});
    await owner?.close();
    await fresh?.drop();
    const admin = postgres(process.env.DATABASE_URL!, { max: 1, onnotice: () => {} });
    await admin.unsafe(`drop role if exists ${login}`);
    await admin.end();
  });

  it('keeps partitions ahead, emits and queries, but cannot change events', async () => {
    expect(await ensurePartitions(asApp, new Date(Date.now() + 30 * 86_400_000))).toBeGreaterThan(0);
    const organization = await createOrganization(owner.db, 'acme');
    const key = await createApiKey(owner.db, { organizationId: organization.id, scopes: [...SCOPES] });
    const app = buildApp({
      config: testConfig({ AUTO_MIGRATE: 'false' }),
      database: asApp,
      logger: createLogger('silent'),
      runBackgroundWorkers: false,
    });
    try {
      const gql = async (query: string, variables: Record<string, unknown>) => {
        const response = await app.yoga.fetch('http://auditline.test/graphql', {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${key.secret}` },
          body: JSON.stringify({ query, variables }),
        });
        return (await response.json()) as { data?: any; errors?: unknown[] };
      };
      const emitted = await gql(EMIT, { input: loginEvent({ idempotencyKey: 'once' }) });
      expect(emitted.errors).toBeUndefined();
      expect(
        (await gql(EMIT, { input: loginEvent({ idempotencyKey: 'once' }) })).data.emitEvent.replayed,
      ).toBe(true);
      expect((await gql(EVENTS, {})).data.events.totalCount).toBe(1);
      await expect(asApp.raw.query(`update events set action = 'user.logout'`)).rejects.toThrow(
        /permission denied/,
      );
      await expect(asApp.raw.query('delete from events')).rejects.toThrow(/permission denied/);
      await expect(asApp.raw.query('truncate events')).rejects.toThrow(/permission denied/);
    } finally {
      await app.stop();
    }
  });
});
