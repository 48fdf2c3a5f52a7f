import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, buildApp } from '../../src/app.ts';
import type { DatabaseHandle } from '../../src/db/client.ts';
import { createDeliveryWorker } from '../../src/export/delivery-worker.ts';
import { createExportService } from '../../src/export/service.ts';
import { fromPublicId } from '../../src/ids.ts';
import { createLogger } from '../../src/logger.ts';
import { runPurge } from '../../src/retention/purge.ts';
import { type CreatedApiKey, createApiKey, revokeApiKey } from '../../src/tenancy/api-keys.ts';
import { createOrganization, type Organization } from '../../src/tenancy/organizations.ts';
import { SCOPES } from '../../src/tenancy/scopes.ts';
import { CREATE_DESTINATION, FAST_DELIVERY, LOOPBACK_DESTINATIONS } from '../export/support/delivery.ts';
import { type HttpReceiver, startHttpReceiver, waitFor } from '../export/support/receivers.ts';
import { openAsAppRole } from '../support/app-role-database.ts';
import { postgresOnly } from '../support/backends.ts';
import { EMIT, type GraphQLResponse, loginEvent, testConfig } from '../support/test-app.ts';

/** Columns the server never changes: the app role must not be able to either. */
const FROZEN_COLUMNS: Record<string, string[]> = {
  api_keys: ['scopes', 'secret_hash', 'organization_id', 'name', 'id', 'created_at'],
  export_destinations: ['organization_id', 'type', 'id', 'created_at'],
  legal_holds: ['reason', 'from_at', 'to_at', 'organization_id', 'placed_by', 'placed_at', 'id'],
  purge_runs: ['as_of', 'dry_run', 'trigger', 'started_at', 'id'],
  retention_policies: ['organization_id'],
  merkle_logs: ['organization_id'],
  integrity_sealer: ['id'],
};

describe.runIf(postgresOnly().length > 0)('the app role’s UPDATE grants on PostgreSQL', () => {
  let roles: Awaited<ReturnType<typeof openAsAppRole>>;
  let owner: DatabaseHandle;
  let asApp: DatabaseHandle;
  let app: App;
  let organization: Organization;
  let key: CreatedApiKey;
  let receiver: HttpReceiver;

  beforeAll(async () => {
    roles = await openAsAppRole('auditline_grants');
    ({ owner, asApp } = roles);
    organization = await createOrganization(owner.db, 'acme');
    key = await createApiKey(owner.db, { organizationId: organization.id, scopes: [...SCOPES] });
    receiver = await startHttpReceiver();
    app = buildApp({
      config: testConfig({ AUTO_MIGRATE: 'false', DESTINATION_ALLOW_NETWORKS: '127.0.0.0/8' }),
      database: asApp,
      logger: createLogger('silent'),
      runBackgroundWorkers: false,
    });
    await app.start(0, '127.0.0.1');
  });
  afterAll(async () => {
    await app?.stop();
    await receiver?.close();
    await roles?.close();
  });

  const gql = async (query: string, variables: Record<string, unknown> = {}, token = key.secret) => {
    const response = await app.yoga.fetch('http://auditline.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    return (await response.json()) as GraphQLResponse;
  };

  it('refuses every column the server never changes', async () => {
    for (const [table, columns] of Object.entries(FROZEN_COLUMNS)) {
      for (const column of columns) {
        await expect(
          asApp.raw.query(`update ${table} set ${column} = ${column} where false`),
          `${table}.${column}`,
        ).rejects.toThrow(/permission denied/);
      }
    }
    const keyUuid = fromPublicId('key', key.id);
    await expect(
      asApp.raw.query(`update api_keys set scopes = array['admin', 'events:read'] where id = $1`, [keyUuid]),
    ).rejects.toThrow(/permission denied/);
    const [row] = await owner.raw.query<{ scopes: string[] }>('select scopes from api_keys where id = $1', [
      keyUuid,
    ]);
    expect(row!.scopes).toEqual([...SCOPES]);
  });

  it('lets the server touch and revoke keys, and run its flows, as the app role', async () => {
    const keyUuid = fromPublicId('key', key.id);
    // Authentication records last_used_at (a write the request does not wait for).
    expect((await gql('{ viewer { keyId } }')).data!.viewer.keyId).toBe(key.id);
    await expect
      .poll(
        async () => (await owner.raw.query('select last_used_at from api_keys where id = $1', [keyUuid]))[0],
      )
      .toMatchObject({ last_used_at: expect.any(Date) });

    expect((await gql(EMIT, { input: loginEvent() })).errors).toBeUndefined();
    const policy = await gql(
      'mutation($o: ID!) { setRetentionPolicy(organizationId: $o, retentionDays: 30) { retentionDays } }',
      { o: organization.id },
    );
    expect(policy.errors).toBeUndefined();
    expect(
      (
        await gql(
          'mutation($o: ID!) { setRetentionPolicy(organizationId: $o, retentionDays: 40) { retentionDays } }',
          { o: organization.id },
        )
      ).data!.setRetentionPolicy.retentionDays,
    ).toBe(40);
    const hold = await gql(
      'mutation($o: ID!) { placeLegalHold(organizationId: $o, reason: "case 7") { id } }',
      {
        o: organization.id,
      },
    );
    const released = await gql('mutation($id: ID!) { releaseLegalHold(id: $id) { releasedAt } }', {
      id: hold.data!.placeLegalHold.id,
    });
    expect(released.errors).toBeUndefined();
    expect(released.data!.releaseLegalHold.releasedAt).not.toBeNull();

    const created = await gql(CREATE_DESTINATION, {
      input: {
        name: 'hook',
        type: 'WEBHOOK',
        url: `${receiver.url}/hook`,
        format: 'JSONL',
        fromBeginning: true,
        secret: `whsec_${randomBytes(32).toString('base64')}`,
      },
    });
    expect(created.errors).toBeUndefined();
    const id = created.data!.createDestination.id;
    const updated = await gql(
      'mutation($id: ID!) { updateDestination(id: $id, input: { name: "hook 2" }) { name } }',
      {
        id,
      },
    );
    expect(updated.errors).toBeUndefined();
    for (const field of ['pauseDestination', 'resumeDestination']) {
      expect(
        (await gql(`mutation($id: ID!) { ${field}(id: $id) { status } }`, { id })).errors,
      ).toBeUndefined();
    }
    // Delivery moves the cursor and counters under a lease, all as the app role.
    const worker = createDeliveryWorker(
      asApp,
      createExportService(testConfig({ ...FAST_DELIVERY, ...LOOPBACK_DESTINATIONS })),
      createLogger('silent'),
    );
    worker.start();
    try {
      await waitFor(() => receiver.requests.some((request) => request.status === 200), 'a delivery');
      // The emitted event and the four retention and legal-hold audit events.
      await expect
        .poll(async () => (await gql('{ destinations { deliveredCount lagEvents } }')).data!.destinations[0])
        .toEqual({ deliveredCount: 5, lagEvents: 0 });
    } finally {
      await worker.stop();
    }
    expect((await gql('mutation($id: ID!) { removeDestination(id: $id) }', { id })).errors).toBeUndefined();

    const purge = await runPurge(asApp, { defaultRetentionDays: 90 });
    expect(purge).toBeDefined();

    // The CLI's `keys revoke` runs this with the server's credentials.
    await revokeApiKey(asApp.db, key.id);
    await expect
      .poll(async () => (await gql('{ viewer { keyId } }')).errors?.[0]?.extensions?.code, { timeout: 2000 })
      .toBe('UNAUTHENTICATED');
  });
});
