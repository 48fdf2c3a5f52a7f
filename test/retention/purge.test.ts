import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromPublicId, toPublicId } from '../../src/ids.ts';
import { SYSTEM_ACTOR } from '../../src/retention/audit-trail.ts';
import { placeLegalHold, releaseLegalHold } from '../../src/retention/legal-holds.ts';
import { setRetentionPolicy } from '../../src/retention/policies.ts';
import { type PurgeReport, runPurge } from '../../src/retention/purge.ts';
import { backends } from '../support/backends.ts';
import { createTestApp, EMIT, type Tenant, type TestApp } from '../support/test-app.ts';
import { ensureDays, insertBackdated } from './backdated-events.ts';
import { isolatedBackend } from './sessions.ts';

const DAY = 86_400_000;
const T0 = Date.UTC(2020, 2, 1); // 2020-03-01T00:00:00Z, day 0 of the scenario
const at = (days: number, ms = 0) => new Date(T0 + days * DAY + ms);
const partitionOf = (days: number) => `events_p${at(days).toISOString().slice(0, 10).replaceAll('-', '')}`;
// "100 days later", at noon: every window ends mid-day, so the edge lies inside a partition.
const AS_OF = at(100, 12 * 3600_000);

describe.each(backends())('retention purge on $name', (shared) => {
  let t: TestApp;
  let drop: () => Promise<void>;
  let a: Tenant; // server default window: 90 days
  let b: Tenant; // 30 days
  let c: Tenant; // 365 days
  let d: Tenant; // 30 days, with a legal hold on what occurred in [day 20, day 40)
  let holdId: string;
  const ids: Record<string, string[]> = {};

  const partitions = async () =>
    (
      await t.database.raw.query<{ name: string }>(
        `select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
         where i.inhparent = 'events'::regclass order by 1`,
      )
    ).map((row) => row.name);

  const eventIds = async (tenant: Tenant) =>
    (
      await t.database.raw.query<{ id: string }>(
        `select id from events where organization_id = $1 and action = 'document.viewed' order by id`,
        [fromPublicId('org', tenant.organization.id)],
      )
    ).map((row) => toPublicId('evt', row.id));

  const backdate = async (name: string, tenant: Tenant, receivedAt: Date, occurredAt?: Date) => {
    const [id] = await insertBackdated(t.database.db, [
      { organizationId: tenant.organization.id, receivedAt, occurredAt },
    ]);
    ids[name] = [...(ids[name] ?? []), id!];
  };

  beforeAll(async () => {
    const own = await isolatedBackend(shared);
    drop = own.drop;
    t = await createTestApp(own.backend);
    [a, b, c, d] = [await t.tenant(), await t.tenant(), await t.tenant(), await t.tenant()];
    await setRetentionPolicy(t.database.db, {
      organizationId: b.organization.id,
      retentionDays: 30,
      actor: SYSTEM_ACTOR,
    });
    await setRetentionPolicy(t.database.db, {
      organizationId: c.organization.id,
      retentionDays: 365,
      actor: SYSTEM_ACTOR,
    });
    await setRetentionPolicy(t.database.db, {
      organizationId: d.organization.id,
      retentionDays: 30,
      actor: SYSTEM_ACTOR,
    });
    holdId = (
      await placeLegalHold(t.database.db, {
        organizationId: d.organization.id,
        reason: 'Litigation 2020-17',
        from: at(20),
        to: at(40),
        actor: SYSTEM_ACTOR,
      })
    ).id;

    for (const day of [0, 1, 2, 5, 10, 25, 45, 50, 80]) await ensureDays(t.database, at(day));
    // Day 1: only a and b, both expired -> the whole partition goes.
    await backdate('aGone', a, at(1, 1000));
    await backdate('bGone', b, at(1, 2000));
    // Day 2: a expired, c not -> a's row is deleted, c's stays, the partition stays.
    await backdate('aGone', a, at(2, 1000));
    await backdate('cKept', c, at(2, 2000));
    // Day 5 stays empty -> dropped. Day 10 holds a's window edge (cutoff = day 10, 12:00).
    await backdate('aGone', a, at(10, 12 * 3600_000 - 1));
    await backdate('aKept', a, at(10, 12 * 3600_000));
    await backdate('aKept', a, at(10, 12 * 3600_000 + 1));
    // d is expired up to day 70 but its hold keeps what occurred in [day 20, day 40), wherever it was received.
    await backdate('dHeld', d, at(25, 1000));
    await backdate('dGone', d, at(25, 2000), at(19, 23 * 3600_000));
    await backdate('dHeld', d, at(45, 1000), at(39, 23 * 3600_000));
    // Day 50: d (outside the hold) and b, both expired -> dropped.
    await backdate('dGone', d, at(50, 1000));
    await backdate('bGone', b, at(50, 2000));
    // Day 80: b is within 30 days -> kept.
    await backdate('bKept', b, at(80, 1000));
  });
  afterAll(async () => {
    await t.close();
    await drop();
  });

  let dryRun: PurgeReport;
  let report: PurgeReport;

  it('a dry run reports per organization what would go and changes nothing', async () => {
    const before = await partitions();
    dryRun = await runPurge(t.database, { asOf: AS_OF, dryRun: true, defaultRetentionDays: 90 });
    const counts = Object.fromEntries(dryRun.organizations.map((o) => [o.organizationId, o.deletedCount]));
    expect(counts).toEqual({ [a.organization.id]: 3, [b.organization.id]: 2, [d.organization.id]: 2 });
    expect(dryRun.droppedPartitions).toEqual(
      expect.arrayContaining([partitionOf(1), partitionOf(5), partitionOf(50)]),
    );
    expect(dryRun.droppedPartitions).not.toContain(partitionOf(2));
    expect(dryRun.droppedPartitions).not.toContain(partitionOf(25));
    expect(dryRun.droppedPartitions).not.toContain(partitionOf(45));
    expect(await partitions()).toEqual(before);
    expect((await eventIds(a)).length).toBe(5);
  });

  it('100 days later removes exactly the expired, unheld events and nothing else', async () => {
    report = await runPurge(t.database, { asOf: AS_OF, defaultRetentionDays: 90, batchSize: 1 });
    expect(await eventIds(a)).toEqual([...ids.aKept!].sort());
    expect(await eventIds(b)).toEqual([...ids.bKept!].sort());
    expect(await eventIds(c)).toEqual([...ids.cKept!].sort());
    expect(await eventIds(d)).toEqual([...ids.dHeld!].sort());
    const byOrg = Object.fromEntries(report.organizations.map((o) => [o.organizationId, o]));
    expect(byOrg[a.organization.id]).toMatchObject({
      deletedCount: 3,
      droppedWithPartitions: 1,
      deletedRows: 2,
    });
    expect(byOrg[b.organization.id]).toMatchObject({
      deletedCount: 2,
      droppedWithPartitions: 2,
      deletedRows: 0,
    });
    expect(byOrg[d.organization.id]).toMatchObject({
      deletedCount: 2,
      droppedWithPartitions: 1,
      deletedRows: 1,
    });
    expect(byOrg[c.organization.id]).toBeUndefined();
    expect(byOrg[a.organization.id]!.cutoff).toEqual(at(10, 12 * 3600_000));
    expect(report.deletedCount).toBe(7);
    // The dry run predicted it.
    expect(dryRun.organizations.map((o) => [o.organizationId, o.deletedCount])).toEqual(
      report.organizations.map((o) => [o.organizationId, o.deletedCount]),
    );
  });

  it('drops wholly expired day partitions and keeps partly expired or held ones', async () => {
    const now = await partitions();
    for (const day of [0, 1, 5, 50]) expect(now).not.toContain(partitionOf(day));
    for (const day of [2, 10, 25, 45, 80]) expect(now).toContain(partitionOf(day));
    expect(report.droppedPartitions).toEqual(
      expect.arrayContaining([partitionOf(0), partitionOf(1), partitionOf(5), partitionOf(50)]),
    );
    expect(now).toContain('events_default');
  });

  it('creates partitions ahead of the clock it ran with', async () => {
    const now = await partitions();
    for (const day of [99, 100, 101, 107]) expect(now).toContain(partitionOf(day));
  });

  it('records each purge as an event in the organization’s log and in retentionStatus', async () => {
    const purged = await a.gql(
      `{ events(filter: { actions: ["auditline.events_purged"] }, first: 5) {
           edges { node { action actor { id type } metadata targets { id type } } } } }`,
    );
    expect(purged.errors).toBeUndefined();
    const edges = purged.data!.events.edges;
    expect(edges).toHaveLength(1);
    expect(edges[0].node).toMatchObject({
      action: 'auditline.events_purged',
      actor: { id: 'system', type: 'system' },
      targets: [{ id: a.organization.id, type: 'organization' }],
      metadata: { deletedCount: 3, retentionDays: 90, purgeRunId: report.runId },
    });
    const none = await c.gql(`{ events(filter: { actions: ["auditline.events_purged"] }) { totalCount } }`);
    expect(none.data!.events.totalCount).toBe(0);

    const status = await d.gql(
      `{ organization { retentionDays retentionStatus { oldestEventAt eventCount nextPurgeAt lastPurge { at deletedCount } } } }`,
    );
    expect(status.errors).toBeUndefined();
    const organization = status.data!.organization;
    expect(organization.retentionDays).toBe(30);
    expect(organization.retentionStatus.lastPurge).toEqual({
      at: report.finishedAt.toISOString(),
      deletedCount: 2,
    });
    expect(organization.retentionStatus.oldestEventAt).toBe(at(25, 1000).toISOString());
    // Two held events plus the records of the policy, the hold and the purge.
    expect(organization.retentionStatus.eventCount).toBe(5);
  });

  it('purges nothing more when run again', async () => {
    const again = await runPurge(t.database, { asOf: AS_OF, defaultRetentionDays: 90 });
    expect(again.deletedCount).toBe(0);
    expect(again.droppedPartitions).toEqual([]);
  });

  it('purges held events once the hold is released', async () => {
    await releaseLegalHold(t.database.db, { id: holdId, organizationScope: null, actor: SYSTEM_ACTOR });
    // A hold released after a purge's clock still counted for it; this purge's clock is after the release.
    const after = await runPurge(t.database, { asOf: new Date(Date.now() + 1000), defaultRetentionDays: 90 });
    expect(after.organizations.find((o) => o.organizationId === d.organization.id)?.deletedCount).toBe(2);
    expect(await eventIds(d)).toEqual([]);
    expect(await partitions()).not.toContain(partitionOf(25));
    expect(await partitions()).not.toContain(partitionOf(45));
  });

  it('forgets the idempotency keys of purged events, so a retry is stored anew', async () => {
    const tenant = await t.tenant();
    await setRetentionPolicy(t.database.db, {
      organizationId: tenant.organization.id,
      retentionDays: 1,
      actor: SYSTEM_ACTOR,
    });
    const receivedAt = new Date(AS_OF.getTime() - 3 * DAY);
    await ensureDays(t.database, receivedAt);
    await insertBackdated(t.database.db, [
      {
        organizationId: tenant.organization.id,
        receivedAt,
        idempotencyKey: 'order-42',
        action: 'user.login_failed',
      },
    ]);
    const purged = await runPurge(t.database, { asOf: AS_OF, defaultRetentionDays: 90 });
    expect(purged.organizations).toEqual([
      expect.objectContaining({ organizationId: tenant.organization.id, deletedCount: 1 }),
    ]);
    expect(purged.idempotencyKeysDeleted).toBe(1);
    const retry = await tenant.gql(EMIT, {
      input: { action: 'user.login_failed', actor: { id: 'usr_1' }, idempotencyKey: 'order-42' },
    });
    expect(retry.errors).toBeUndefined();
    expect(retry.data!.emitEvent.replayed).toBe(false);
  });
});
