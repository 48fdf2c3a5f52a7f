import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from '../support/backends.ts';
import { createTestApp, EMIT, loginEvent, type Tenant, type TestApp } from '../support/test-app.ts';

const SET_POLICY = /* GraphQL */ `
  mutation Set($organizationId: ID!, $retentionDays: Int!) {
    setRetentionPolicy(organizationId: $organizationId, retentionDays: $retentionDays) { id retentionDays }
  }
`;
const PLACE_HOLD = /* GraphQL */ `
  mutation Place($organizationId: ID!, $reason: String!, $from: DateTime, $to: DateTime) {
    placeLegalHold(organizationId: $organizationId, reason: $reason, from: $from, to: $to) {
      id organizationId reason from to placedAt placedBy releasedAt releasedBy
    }
  }
`;
const RELEASE_HOLD = /* GraphQL */ `
  mutation Release($id: ID!) { releaseLegalHold(id: $id) { id releasedAt releasedBy } }
`;
const RETENTION = /* GraphQL */ `
  query Retention($id: ID) {
    organization(id: $id) {
      id retentionDays
      legalHolds { id reason from to placedAt releasedAt }
      retentionStatus { oldestEventAt eventCount nextPurgeAt lastPurge { at deletedCount } }
    }
  }
`;
const AUDIT_TRAIL = /* GraphQL */ `
  query Trail($actions: [String!]) {
    events(filter: { actions: $actions }, first: 20, orderBy: OCCURRED_AT_ASC) {
      edges { node { action actor { id type } targets { id type } metadata } }
    }
  }
`;

describe.each(backends())('retention over GraphQL on $name', (backend) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(backend);
  });
  afterAll(() => t.close());

  const trail = async (tenant: Tenant, action: string) =>
    (await tenant.gql(AUDIT_TRAIL, { actions: [action] })).data!.events.edges.map(
      (edge: { node: unknown }) => edge.node,
    );

  it('starts at the server default and records every policy change in the organization’s log', async () => {
    const tenant = await t.tenant();
    const initial = await tenant.gql(RETENTION);
    expect(initial.errors).toBeUndefined();
    expect(initial.data!.organization.retentionDays).toBe(90);

    const sevenYears = await tenant.gql(SET_POLICY, {
      organizationId: tenant.organization.id,
      retentionDays: 2555,
    });
    expect(sevenYears.errors).toBeUndefined();
    expect(sevenYears.data!.setRetentionPolicy).toEqual({ id: tenant.organization.id, retentionDays: 2555 });
    await tenant.gql(SET_POLICY, { organizationId: tenant.organization.id, retentionDays: 365 });
    expect((await tenant.gql(RETENTION)).data!.organization.retentionDays).toBe(365);

    expect(await trail(tenant, 'auditline.retention_policy_changed')).toEqual([
      {
        action: 'auditline.retention_policy_changed',
        actor: { id: tenant.key.id, type: 'api_key' },
        targets: [{ id: tenant.organization.id, type: 'organization' }],
        metadata: { retentionDays: 2555, previousRetentionDays: null },
      },
      expect.objectContaining({ metadata: { retentionDays: 365, previousRetentionDays: 2555 } }),
    ]);
  });

  it.each([0, 3651, -5])('refuses retentionDays %i, naming the field, and changes nothing', async (days) => {
    const tenant = await t.tenant();
    const result = await tenant.gql(SET_POLICY, {
      organizationId: tenant.organization.id,
      retentionDays: days,
    });
    expect(result.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', path: ['retentionDays'] });
    expect(result.errors![0]!.message).toMatch(/retentionDays must be .* 1 to 3650/);
    expect((await tenant.gql(RETENTION)).data!.organization.retentionDays).toBe(90);
    expect(await trail(tenant, 'auditline.retention_policy_changed')).toEqual([]);
  });

  it('places and releases legal holds, each recorded, with public hold ids', async () => {
    const tenant = await t.tenant();
    const placed = await tenant.gql(PLACE_HOLD, {
      organizationId: tenant.organization.id,
      reason: 'Smith v. Acme',
      from: '2026-01-01T00:00:00Z',
      to: '2026-07-01T00:00:00Z',
    });
    expect(placed.errors).toBeUndefined();
    const hold = placed.data!.placeLegalHold;
    expect(hold).toMatchObject({
      organizationId: tenant.organization.id,
      reason: 'Smith v. Acme',
      from: '2026-01-01T00:00:00.000Z',
      to: '2026-07-01T00:00:00.000Z',
      placedBy: tenant.key.id,
      releasedAt: null,
    });
    expect(hold.id).toMatch(/^hold_[0-9a-f]{32}$/);
    const open = await tenant.gql(PLACE_HOLD, {
      organizationId: tenant.organization.id,
      reason: 'Everything',
    });
    expect(open.data!.placeLegalHold).toMatchObject({ from: null, to: null });

    const listed = (await tenant.gql(RETENTION)).data!.organization.legalHolds;
    expect(listed.map((h: { id: string }) => h.id)).toEqual([open.data!.placeLegalHold.id, hold.id]);

    const released = await tenant.gql(RELEASE_HOLD, { id: hold.id });
    expect(released.errors).toBeUndefined();
    expect(released.data!.releaseLegalHold).toMatchObject({ id: hold.id, releasedBy: tenant.key.id });
    const again = await tenant.gql(RELEASE_HOLD, { id: hold.id });
    expect(again.data!.releaseLegalHold.releasedAt).toBe(released.data!.releaseLegalHold.releasedAt);
    const active = await tenant.gql(`{ organization { legalHolds(activeOnly: true) { id } } }`);
    expect(active.data!.organization.legalHolds).toEqual([{ id: open.data!.placeLegalHold.id }]);

    expect(await trail(tenant, 'auditline.legal_hold_placed')).toHaveLength(2);
    const releases = await trail(tenant, 'auditline.legal_hold_released');
    expect(releases).toEqual([
      expect.objectContaining({
        actor: { id: tenant.key.id, type: 'api_key' },
        targets: [{ id: hold.id, type: 'legal_hold' }],
        metadata: expect.objectContaining({ holdId: hold.id, reason: 'Smith v. Acme' }),
      }),
    ]);
  });

  it.each([
    [
      'from equal to to',
      { from: '2026-03-01T00:00:00Z', to: '2026-03-01T00:00:00Z' },
      ['to'],
      /to .* must be later than from/,
    ],
    ['from after to', { from: '2026-03-02T00:00:00Z', to: '2026-03-01T00:00:00Z' }, ['to'], /must be later/],
    ['an empty reason', { reason: '  ' }, ['reason'], /reason must not be empty/],
    ['a reason over 1000 characters', { reason: 'x'.repeat(1001) }, ['reason'], /limit is 1000/],
  ])('refuses a hold with %s, naming the field', async (_label, change, path, message) => {
    const tenant = await t.tenant();
    const result = await tenant.gql(PLACE_HOLD, {
      organizationId: tenant.organization.id,
      reason: 'case',
      ...change,
    });
    expect(result.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', path });
    expect(result.errors![0]!.message).toMatch(message);
    expect((await tenant.gql(RETENTION)).data!.organization.legalHolds).toEqual([]);
  });

  it('reading needs events:read, changing needs admin', async () => {
    const tenant = await t.tenant();
    const reader = await t.keyFor(tenant.organization.id, ['events:read']);
    const writer = await t.keyFor(tenant.organization.id, ['events:write']);
    expect((await t.gql(RETENTION, {}, reader.secret)).data!.organization.retentionDays).toBe(90);
    const refused = await t.gql(
      SET_POLICY,
      { organizationId: tenant.organization.id, retentionDays: 7 },
      reader.secret,
    );
    expect(refused.errors![0]!.extensions!.code).toBe('FORBIDDEN');
    const hold = await t.gql(
      PLACE_HOLD,
      { organizationId: tenant.organization.id, reason: 'x' },
      reader.secret,
    );
    expect(hold.errors![0]!.extensions!.code).toBe('FORBIDDEN');
    // The Viewer's organization needs no scope, but its retention fields do.
    const sneaky = await t.gql(`{ viewer { organization { retentionDays } } }`, {}, writer.secret);
    expect(sneaky.errors![0]!.extensions!.code).toBe('FORBIDDEN');
  });

  it('an organization key acts only on its own organization; a platform key on any', async () => {
    const mine = await t.tenant();
    const theirs = await t.tenant();
    const crossed = await mine.gql(SET_POLICY, { organizationId: theirs.organization.id, retentionDays: 1 });
    expect(crossed.errors![0]!.extensions).toMatchObject({ code: 'FORBIDDEN', path: ['organizationId'] });
    const crossHold = await mine.gql(PLACE_HOLD, { organizationId: theirs.organization.id, reason: 'x' });
    expect(crossHold.errors![0]!.extensions).toMatchObject({ code: 'FORBIDDEN', path: ['organizationId'] });
    const peek = await mine.gql(RETENTION, { id: theirs.organization.id });
    expect(peek.errors![0]!.extensions!.code).toBe('FORBIDDEN');

    const theirHold = (
      await theirs.gql(PLACE_HOLD, { organizationId: theirs.organization.id, reason: 'theirs' })
    ).data!.placeLegalHold;
    const stolen = await mine.gql(RELEASE_HOLD, { id: theirHold.id });
    expect(stolen.errors![0]!.extensions).toMatchObject({ code: 'NOT_FOUND', path: ['id'] });
    const bogus = await mine.gql(RELEASE_HOLD, { id: 'hold_nope' });
    expect(bogus.errors![0]!.extensions).toMatchObject({ code: 'NOT_FOUND', path: ['id'] });

    const platform = await t.keyFor(null, ['admin', 'events:read']);
    const set = await t.gql(
      SET_POLICY,
      { organizationId: theirs.organization.id, retentionDays: 3650 },
      platform.secret,
    );
    expect(set.data!.setRetentionPolicy.retentionDays).toBe(3650);
    const release = await t.gql(RELEASE_HOLD, { id: theirHold.id }, platform.secret);
    expect(release.data!.releaseLegalHold.releasedBy).toBe(platform.id);
    const unknown = await t.gql(
      SET_POLICY,
      { organizationId: 'org_00000000000070008000000000000000', retentionDays: 30 },
      platform.secret,
    );
    expect(unknown.errors![0]!.extensions).toMatchObject({ code: 'NOT_FOUND', path: ['organizationId'] });
  });

  it('reports what is stored and when the next purge is due', async () => {
    const tenant = await t.tenant();
    const before = Date.now();
    await tenant.gql(EMIT, { input: loginEvent() });
    await tenant.gql(EMIT, { input: loginEvent() });
    const status = (await tenant.gql(RETENTION)).data!.organization.retentionStatus;
    expect(status.eventCount).toBe(2);
    expect(new Date(status.oldestEventAt).getTime()).toBeGreaterThanOrEqual(before - 1);
    expect(new Date(status.nextPurgeAt).getTime()).toBeGreaterThanOrEqual(before);
    expect(new Date(status.nextPurgeAt).getTime()).toBeLessThanOrEqual(Date.now() + 3600_000);
    const empty = (await (await t.tenant()).gql(RETENTION)).data!.organization.retentionStatus;
    expect(empty).toMatchObject({ oldestEventAt: null, eventCount: 0 });
  });
});
