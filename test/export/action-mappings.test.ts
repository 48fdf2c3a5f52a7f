import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.ts';
import { DEFAULT_ACTION_RULES } from '../../src/export/action-mapping.ts';
import { createLogger } from '../../src/logger.ts';
import { createApiKey } from '../../src/tenancy/api-keys.ts';
import { createOrganization } from '../../src/tenancy/organizations.ts';
import { SCOPES } from '../../src/tenancy/scopes.ts';
import { openAsAppRole } from '../support/app-role-database.ts';
import { backends, postgresOnly } from '../support/backends.ts';
import { EMIT, type GraphQLResponse, type Tenant, type TestApp, testConfig } from '../support/test-app.ts';
import { CREATE_DESTINATION, isolatedTestApp, startDeliveryWorker } from './support/delivery.ts';
import { emitNumbered } from './support/emit.ts';
import { type HttpReceiver, startHttpReceiver, waitFor } from './support/receivers.ts';

const RULE_FIELDS = 'pattern category type outcome severity ocsf { classUid activityId }';

const SET_MAPPINGS = /* GraphQL */ `
  mutation Set($organizationId: ID!, $rules: [ActionMappingRuleInput!]!) {
    setActionMappings(organizationId: $organizationId, rules: $rules) {
      id actionMappings { ${RULE_FIELDS} }
    }
  }
`;
const MAPPINGS = /* GraphQL */ `
  query Mappings($id: ID) { organization(id: $id) { id actionMappings { ${RULE_FIELDS} } } }
`;
const DEFAULTS = /* GraphQL */ `query { defaultActionMappings { ${RULE_FIELDS} } }`;
const EXPORT = /* GraphQL */ `
  query Export($format: ExportFormat!) { exportEvents(format: $format) { path } }
`;
const TRAIL = /* GraphQL */ `
  query Trail {
    events(filter: { actions: ["auditline.action_mappings_changed"] }, first: 20, orderBy: OCCURRED_AT_ASC) {
      edges { node { action actor { id type } targets { id type } metadata } }
    }
  }
`;

/** emitNumbered writes user.login_failed and document.updated: these rules reclassify the latter. */
const DOCUMENT_RULES = [
  {
    pattern: 'document.{updated,deleted}',
    category: 'FILE',
    type: ['CHANGE', 'ACCESS'],
    outcome: 'FAILURE',
    severity: 9,
    ocsf: { classUid: 3001, activityId: 7 },
  },
  { pattern: 'auditline.*', severity: 7 },
];

describe.each(backends())('per-organization action mappings on $name', (backend) => {
  let t: TestApp;
  let port: number;
  let receiver: HttpReceiver;
  let worker: ReturnType<typeof startDeliveryWorker>;
  beforeAll(async () => {
    t = await isolatedTestApp(backend);
    port = await t.app.start(0, '127.0.0.1');
    worker = startDeliveryWorker(t);
    receiver = await startHttpReceiver();
  });
  afterAll(async () => {
    await worker.stop();
    await receiver.close();
    await t.close();
  });

  const setRules = (tenant: Tenant, rules: unknown[], organizationId = tenant.organization.id) =>
    tenant.gql(SET_MAPPINGS, { organizationId, rules });

  async function download(tenant: Tenant, format: string): Promise<string[]> {
    const link = await tenant.gql(EXPORT, { format });
    expect(link.errors).toBeUndefined();
    const response = await fetch(`http://127.0.0.1:${port}${link.data!.exportEvents.path}`);
    expect(response.status).toBe(200);
    return (await response.text()).trimEnd().split('\n');
  }

  it('shows the defaults, ending with the catch-all, and no rules of an organization’s own', async () => {
    const tenant = await t.tenant(['events:read']);
    const defaults = (await tenant.gql(DEFAULTS)).data!.defaultActionMappings;
    expect(defaults).toHaveLength(DEFAULT_ACTION_RULES.length + 1);
    expect(defaults[0]).toEqual({
      pattern: '*.login_failed',
      category: 'AUTHENTICATION',
      type: ['START'],
      outcome: 'FAILURE',
      severity: 5,
      ocsf: { classUid: 3002, activityId: 1 },
    });
    expect(defaults.at(-1)).toMatchObject({ pattern: '*', category: 'API', outcome: 'UNKNOWN' });
    expect((await tenant.gql(MAPPINGS)).data!.organization.actionMappings).toEqual([]);
    expect((await t.gql(DEFAULTS, {}, null)).errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');
  });

  it('applies an organization’s rules to its CEF, OCSF and ECS exports and to no other organization’s', async () => {
    const acme = await t.tenant();
    const globex = await t.tenant();
    await emitNumbered(acme, 6);
    await emitNumbered(globex, 6);
    const set = await setRules(acme, DOCUMENT_RULES);
    expect(set.errors).toBeUndefined();
    expect(set.data!.setActionMappings.actionMappings).toEqual([
      DOCUMENT_RULES[0],
      { pattern: 'auditline.*', category: null, type: null, outcome: null, severity: 7, ocsf: null },
    ]);

    const [acmeCef, globexCef] = [await download(acme, 'CEF'), await download(globex, 'CEF')];
    // seq 0 and 3 are user.login_failed (defaults), the others document.updated; last comes the
    // change itself (auditline.action_mappings_changed), which the second rule makes 7.
    expect(acmeCef.map((line) => line.split('|')[6])).toEqual(['5', '9', '9', '5', '9', '9', '7']);
    expect(acmeCef[6]).toContain('|auditline.action_mappings_changed|');
    expect(acmeCef[1]).toContain(' outcome=failure ');
    expect(globexCef.map((line) => line.split('|')[6])).toEqual(['5', '2', '2', '5', '2', '2']);
    expect(globexCef[1]).toContain(' outcome=success ');

    const acmeOcsf = (await download(acme, 'OCSF')).map((line) => JSON.parse(line));
    expect(acmeOcsf[1]).toMatchObject({ class_uid: 3001, activity_id: 7, type_uid: 300107, status_id: 2 });
    expect(acmeOcsf[0]).toMatchObject({ class_uid: 3002, activity_id: 1 });
    const globexOcsf = (await download(globex, 'OCSF')).map((line) => JSON.parse(line));
    expect(globexOcsf[1]).toMatchObject({ class_uid: 6003, activity_id: 3, status_id: 1 });

    const acmeEcs = (await download(acme, 'ECS')).map((line) => JSON.parse(line));
    expect(acmeEcs[1].event).toMatchObject({
      category: ['file'],
      type: ['change', 'access'],
      outcome: 'failure',
      severity: 9,
    });
    const globexEcs = (await download(globex, 'ECS')).map((line) => JSON.parse(line));
    expect(globexEcs[1].event).toMatchObject({ category: ['api'], outcome: 'success', severity: 2 });
  });

  it('formats destination deliveries and testDestination with the organization’s rules', async () => {
    const acme = await t.tenant();
    const globex = await t.tenant();
    expect((await setRules(acme, DOCUMENT_RULES)).errors).toBeUndefined();
    const destinations: Record<string, string> = {};
    for (const [name, tenant] of [
      ['acme', acme],
      ['globex', globex],
    ] as const) {
      const created = await tenant.gql(CREATE_DESTINATION, {
        input: {
          name,
          type: 'WEBHOOK',
          url: `${receiver.url}/mappings/${name}`,
          format: 'ECS',
          secret: `whsec_${randomBytes(32).toString('base64')}`,
        },
      });
      expect(created.errors).toBeUndefined();
      destinations[name] = created.data!.createDestination.id;
    }
    await emitNumbered(acme, 3);
    await emitNumbered(globex, 3);
    const received = (name: string) =>
      receiver.requests
        .filter((request) => request.url === `/mappings/${name}` && request.status === 200)
        .flatMap((request) => JSON.parse(request.body).data.events as { event: Record<string, unknown> }[]);
    const delivered = (name: string) =>
      received(name).filter((record) => !String(record.event.action).startsWith('auditline.'));
    await waitFor(() => delivered('acme').length >= 3 && delivered('globex').length >= 3, 'deliveries');
    expect(delivered('acme').map((record) => record.event.severity)).toEqual([5, 9, 9]);
    expect(delivered('acme')[1]!.event).toMatchObject({ category: ['file'], outcome: 'failure' });
    expect(delivered('globex').map((record) => record.event.severity)).toEqual([5, 2, 2]);

    const tested = await acme.gql(`mutation($id: ID!) { testDestination(id: $id) { ok eventId } }`, {
      id: destinations.acme,
    });
    expect(tested.data!.testDestination.ok).toBe(true);
    const sample = received('acme').find(
      (record) => record.event.id === tested.data!.testDestination.eventId,
    );
    expect(sample!.event).toMatchObject({ action: 'auditline.destination_tested', severity: 7 });

    // Rules changed later apply to the next batch.
    expect((await setRules(acme, [{ pattern: 'document.*', severity: 3 }])).errors).toBeUndefined();
    await emitNumbered(acme, 3, 3);
    await waitFor(() => delivered('acme').length >= 6, 'deliveries after the change');
    expect(
      delivered('acme')
        .slice(-3)
        .map((record) => record.event.severity),
    ).toEqual([5, 3, 3]);
    const change = received('acme').find(
      (record) => record.event.action === 'auditline.action_mappings_changed',
    );
    // The new list no longer has auditline.*: the change itself gets the default (*_changed, 2).
    expect(change!.event.severity).toBe(2);
  });

  it.each([
    [{ pattern: '' }, ['rules', '1', 'pattern'], /non-empty action pattern/],
    [{ pattern: 'user.{login,logout' }, ['rules', '1', 'pattern'], /leaves a "\{" unclosed/],
    [{ pattern: 'user.login}' }, ['rules', '1', 'pattern'], /closes a "\}"/],
    [{ pattern: 'user,login' }, ['rules', '1', 'pattern'], /outside \{…\}/],
    [{ pattern: 'User.Login' }, ['rules', '1', 'pattern'], /lower-case letters/],
    [{ pattern: `a.${'b'.repeat(200)}` }, ['rules', '1', 'pattern'], /limit is 200/],
    [{ pattern: 'user.*', severity: 11 }, ['rules', '1', 'severity'], /from 0 .* to 10/],
    [{ pattern: 'user.*', severity: -1 }, ['rules', '1', 'severity'], /from 0 .* to 10/],
    [{ pattern: 'user.*', type: [] }, ['rules', '1', 'type'], /at least one/],
    [
      { pattern: 'user.*', ocsf: { classUid: 4001, activityId: 1 } },
      ['rules', '1', 'ocsf', 'classUid'],
      /3002/,
    ],
    [
      { pattern: 'user.*', ocsf: { classUid: 6003, activityId: 9 } },
      ['rules', '1', 'ocsf', 'activityId'],
      /activity of API Activity/,
    ],
    [{ pattern: 'auditline.*' }, ['rules', '1', 'pattern'], /repeats rules\.0\.pattern/],
  ])('refuses %j naming %j, and keeps the rules it had', async (bad, path, message) => {
    const tenant = await t.tenant();
    const good = [{ pattern: 'auditline.*', severity: 4 }];
    expect((await setRules(tenant, good)).errors).toBeUndefined();
    const refused = await setRules(tenant, [...good, bad]);
    expect(refused.errors).toHaveLength(1);
    expect(refused.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', path });
    expect(refused.errors![0]!.message).toMatch(message);
    expect((await tenant.gql(MAPPINGS)).data!.organization.actionMappings).toEqual([
      { pattern: 'auditline.*', category: null, type: null, outcome: null, severity: 4, ocsf: null },
    ]);
    expect((await tenant.gql(TRAIL)).data!.events.edges).toHaveLength(1);
  });

  it('refuses more than 100 rules and enum values GraphQL does not know', async () => {
    const tenant = await t.tenant();
    const many = Array.from({ length: 101 }, (_, index) => ({ pattern: `app.action_${index}`, severity: 1 }));
    const tooMany = await setRules(tenant, many);
    expect(tooMany.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', path: ['rules'] });
    expect(tooMany.errors![0]!.message).toMatch(/at most 100/);
    expect((await setRules(tenant, many.slice(0, 100))).errors).toBeUndefined();
    const badEnum = await setRules(tenant, [{ pattern: 'user.*', category: 'NETWORK' }]);
    expect(badEnum.errors![0]!.message).toMatch(/ActionCategory/);
    expect((await tenant.gql(MAPPINGS)).data!.organization.actionMappings).toHaveLength(100);
  });

  it('needs admin to change and events:read or admin to read, each key only for its own organization', async () => {
    const acme = await t.tenant();
    const globex = await t.tenant();
    const reader = await t.keyFor(acme.organization.id, ['events:read']);
    const admin = await t.keyFor(acme.organization.id, ['admin']);
    const rules = [{ pattern: 'billing.*', severity: 6 }];

    const byReader = await t.gql(
      SET_MAPPINGS,
      { organizationId: acme.organization.id, rules },
      reader.secret,
    );
    expect(byReader.errors![0]!.extensions!.code).toBe('FORBIDDEN');
    const byAdmin = await t.gql(SET_MAPPINGS, { organizationId: acme.organization.id, rules }, admin.secret);
    expect(byAdmin.errors).toBeUndefined();
    expect((await t.gql(MAPPINGS, {}, reader.secret)).data!.organization.actionMappings).toHaveLength(1);

    const crossTenant = await setRules(acme, [{ pattern: 'evil.*', severity: 0 }], globex.organization.id);
    expect(crossTenant.errors![0]!.extensions).toMatchObject({ code: 'FORBIDDEN', path: ['organizationId'] });
    const peek = await acme.gql(MAPPINGS, { id: globex.organization.id });
    expect(peek.data?.organization?.actionMappings ?? null).toBeNull();
    expect((await globex.gql(MAPPINGS)).data!.organization.actionMappings).toEqual([]);

    const platform = await t.keyFor(null, [...SCOPES]);
    const byPlatform = await t.gql(
      SET_MAPPINGS,
      { organizationId: globex.organization.id, rules: [{ pattern: 'user.*', outcome: 'UNKNOWN' }] },
      platform.secret,
    );
    expect(byPlatform.errors).toBeUndefined();
    expect((await globex.gql(MAPPINGS)).data!.organization.actionMappings).toHaveLength(1);
    expect((await acme.gql(MAPPINGS)).data!.organization.actionMappings).toEqual([
      { pattern: 'billing.*', category: null, type: null, outcome: null, severity: 6, ocsf: null },
    ]);
    const missing = await t.gql(
      SET_MAPPINGS,
      { organizationId: 'org_0000000000000000000000000000000f', rules },
      platform.secret,
    );
    expect(missing.errors![0]!.extensions!.code).toBe('NOT_FOUND');
  });

  it('records each change in the organization’s own log as auditline.action_mappings_changed', async () => {
    const tenant = await t.tenant();
    await tenant.gql(EMIT, { input: { action: 'user.created', actor: { id: 'usr_1' } } });
    expect((await setRules(tenant, DOCUMENT_RULES)).errors).toBeUndefined();
    expect((await setRules(tenant, [])).errors).toBeUndefined();
    const trail = (await tenant.gql(TRAIL)).data!.events.edges.map((edge: { node: unknown }) => edge.node);
    expect(trail).toEqual([
      {
        action: 'auditline.action_mappings_changed',
        actor: { id: tenant.key.id, type: 'api_key' },
        targets: [{ id: tenant.organization.id, type: 'organization' }],
        metadata: {
          ruleCount: 2,
          previousRuleCount: 0,
          rules: [
            {
              pattern: 'document.{updated,deleted}',
              category: 'file',
              type: ['change', 'access'],
              outcome: 'failure',
              severity: 9,
              ocsf: { classUid: 3001, activityId: 7 },
            },
            { pattern: 'auditline.*', severity: 7 },
          ],
        },
      },
      {
        action: 'auditline.action_mappings_changed',
        actor: { id: tenant.key.id, type: 'api_key' },
        targets: [{ id: tenant.organization.id, type: 'organization' }],
        metadata: { ruleCount: 0, previousRuleCount: 2, rules: [] },
      },
    ]);
    expect((await tenant.gql(MAPPINGS)).data!.organization.actionMappings).toEqual([]);
  });
});

describe.runIf(postgresOnly().length > 0)('action mappings as the least-privileged app role', () => {
  it('replaces, reads and records rules with only the app role’s grants', async () => {
    const roles = await openAsAppRole('auditline_mappings_role');
    const organization = await createOrganization(roles.owner.db, 'acme');
    const key = await createApiKey(roles.owner.db, { organizationId: organization.id, scopes: [...SCOPES] });
    const app = buildApp({
      config: testConfig({ AUTO_MIGRATE: 'false' }),
      database: roles.asApp,
      logger: createLogger('silent'),
      runBackgroundWorkers: false,
    });
    try {
      const gql = async (query: string, variables: Record<string, unknown> = {}) => {
        const response = await app.yoga.fetch('http://auditline.test/graphql', {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${key.secret}` },
          body: JSON.stringify({ query, variables }),
        });
        return (await response.json()) as GraphQLResponse;
      };
      for (const rules of [DOCUMENT_RULES, [{ pattern: 'user.*', severity: 8 }]]) {
        const set = await gql(SET_MAPPINGS, { organizationId: organization.id, rules });
        expect(set.errors).toBeUndefined();
        expect(set.data!.setActionMappings.actionMappings).toHaveLength(rules.length);
      }
      expect((await gql(TRAIL)).data!.events.edges).toHaveLength(2);
    } finally {
      await app.stop();
      await roles.close();
    }
  });
});
