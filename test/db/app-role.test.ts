import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.ts';
import type { DatabaseHandle } from '../../src/db/client.ts';
import { ensurePartitions } from '../../src/db/migrate.ts';
import { createLogger } from '../../src/logger.ts';
import { createApiKey } from '../../src/tenancy/api-keys.ts';
import { createOrganization } from '../../src/tenancy/organizations.ts';
import { SCOPES } from '../../src/tenancy/scopes.ts';
import { openAsAppRole } from '../support/app-role-database.ts';
import { postgresOnly } from '../support/backends.ts';
import { EMIT, EVENTS, loginEvent, testConfig } from '../support/test-app.ts';

describe.runIf(postgresOnly().length > 0)('running as the least-privileged app role on PostgreSQL', () => {
  let roles: Awaited<ReturnType<typeof openAsAppRole>>;
  let owner: DatabaseHandle;
  let asApp: DatabaseHandle;

  beforeAll(async () => {
    roles = await openAsAppRole('auditline_role');
    ({ owner, asApp } = roles);
  });
  afterAll(() => roles?.close());

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
