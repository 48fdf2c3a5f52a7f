import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.ts';
import { fromPublicId } from '../../src/ids.ts';
import type { Logger } from '../../src/logger.ts';
import { CREATE_DESTINATION } from '../export/support/delivery.ts';
import { backends } from '../support/backends.ts';
import { createTestApp, type TestApp, testConfig } from '../support/test-app.ts';

const SECRETS_KEY = randomBytes(32).toString('hex');
const LOOPBACK = { DESTINATION_ALLOW_NETWORKS: '127.0.0.0/8' };
const webhook = (name: string) => ({
  name,
  type: 'WEBHOOK',
  url: 'http://127.0.0.1:9/hook',
  format: 'JSONL',
  secret: `whsec_${randomBytes(32).toString('base64')}`,
});
const UPDATE = /* GraphQL */ `
  mutation($id: ID!, $input: UpdateDestinationInput!) { updateDestination(id: $id, input: $input) { id hasSecret } }
`;

async function storedSecrets(t: TestApp, organizationId: string) {
  const rows = await t.database.raw.query<{ sealed_secret: string | null }>(
    'select sealed_secret from export_destinations where organization_id = $1',
    [fromPublicId('org', organizationId)],
  );
  return rows.map((row) => row.sealed_secret);
}

describe.each(backends())('destination secrets on $name', (backend) => {
  let production: TestApp;
  let sealed: TestApp;
  beforeAll(async () => {
    production = await createTestApp(backend, { NODE_ENV: 'production', ...LOOPBACK });
    sealed = await createTestApp(backend, {
      NODE_ENV: 'production',
      DESTINATION_SECRETS_KEY: SECRETS_KEY,
      ...LOOPBACK,
    });
  });
  afterAll(async () => {
    await production?.close();
    await sealed?.close();
  });

  it('a production server without DESTINATION_SECRETS_KEY refuses to store one, on create and update', async () => {
    const tenant = await production.tenant();
    const refused = await tenant.gql(CREATE_DESTINATION, { input: webhook('hook') });
    expect(refused.errors?.[0]).toMatchObject({
      message: expect.stringMatching(/DESTINATION_SECRETS_KEY/),
      extensions: { code: 'FORBIDDEN', path: ['input', 'secret'] },
    });
    expect(await storedSecrets(production, tenant.organization.id)).toEqual([]);

    // A destination without a secret can be made, but not given one.
    const created = await tenant.gql(CREATE_DESTINATION, {
      input: { name: 'siem', type: 'SYSLOG', url: 'tcp://127.0.0.1:9', format: 'CEF' },
    });
    expect(created.errors).toBeUndefined();
    const id = created.data!.createDestination.id;
    const before = await storedSecrets(production, tenant.organization.id);
    const update = await tenant.gql(UPDATE, { id, input: { secret: webhook('x').secret } });
    expect(update.errors?.[0]).toMatchObject({
      message: expect.stringMatching(/DESTINATION_SECRETS_KEY/),
      extensions: { code: 'FORBIDDEN', path: ['input', 'secret'] },
    });
    expect(await storedSecrets(production, tenant.organization.id)).toEqual(before);
    // Changes without a secret still work.
    expect((await tenant.gql(UPDATE, { id, input: { name: 'renamed' } })).errors).toBeUndefined();
  });

  it('with the key, stores secrets encrypted, never as plain text', async () => {
    const tenant = await sealed.tenant();
    const input = webhook('hook');
    expect((await tenant.gql(CREATE_DESTINATION, { input })).errors).toBeUndefined();
    const [stored] = await storedSecrets(sealed, tenant.organization.id);
    expect(stored).toMatch(/^v1\./);
    expect(stored).not.toContain(Buffer.from(input.secret).toString('base64url'));
  });
});

describe('destination secrets at start', () => {
  function warningsOf(environment: Record<string, string>) {
    const warnings: string[] = [];
    const logger: Logger = {
      debug() {},
      info() {},
      error() {},
      warn: (message) => void warnings.push(message),
    };
    buildApp({
      config: testConfig(environment),
      // The warning comes from the configuration alone; no database is touched.
      database: { kind: 'pglite' } as never,
      logger,
      runBackgroundWorkers: false,
    });
    return warnings.filter((message) => message.includes('DESTINATION_SECRETS_KEY'));
  }

  it('a development server without the key warns loudly, once', () => {
    const warnings = warningsOf({ NODE_ENV: 'development' });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/unencrypted/);
  });

  it('does not warn when the key is set', () => {
    expect(warningsOf({ NODE_ENV: 'development', DESTINATION_SECRETS_KEY: SECRETS_KEY })).toEqual([]);
  });
});
