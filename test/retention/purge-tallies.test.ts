import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromPublicId } from '../../src/ids.ts';
import { SYSTEM_ACTOR } from '../../src/retention/audit-trail.ts';
import { setRetentionPolicy } from '../../src/retention/policies.ts';
import { runPurge, tallyClosedPartitions } from '../../src/retention/purge.ts';
import { backends } from '../support/backends.ts';
import { createTestApp, type Tenant, type TestApp } from '../support/test-app.ts';
import { ensureDays, insertBackdated } from './backdated-events.ts';
import { isolatedBackend } from './sessions.ts';

const DAY = 86_400_000;
const T0 = Date.UTC(2021, 5, 1); // 2021-06-01, day 0
const at = (days: number, ms = 0) => new Date(T0 + days * DAY + ms);
const partitionOf = (days: number) => `events_p${at(days).toISOString().slice(0, 10).replaceAll('-', '')}`;

/**
 * A day is counted once when it closes, and the purge that drops it months later uses that count
 * only while it is still exact: a row that arrived since, or a row the tail purge deleted, makes
 * the purge count again.
 */
describe.each(backends())('purge tallies on $name', (shared) => {
  let t: TestApp;
  let drop: () => Promise<void>;
  let shortWindow: Tenant; // 30 days
  let longWindow: Tenant; // 60 days

  const backdate = (tenant: Tenant, receivedAt: Date, count = 1) =>
    insertBackdated(
      t.database.db,
      Array.from({ length: count }, (_, i) => ({
        organizationId: tenant.organization.id,
        receivedAt: new Date(receivedAt.getTime() + i),
      })),
    );
  const tally = async (days: number) =>
    (
      await t.database.raw.query<{ counts: Record<string, number> }>(
        'select counts from auditline_partition_tallies where partition_name = $1',
        [partitionOf(days)],
      )
    )[0]?.counts;
  const attached = async () =>
    (
      await t.database.raw.query<{ name: string }>(
        `select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
         where i.inhparent = 'events'::regclass`,
      )
    ).map((row) => row.name);
  const purgedCount = (report: Awaited<ReturnType<typeof runPurge>>, tenant: Tenant) =>
    report.organizations.find((o) => o.organizationId === tenant.organization.id)?.deletedCount ?? 0;

  beforeAll(async () => {
    const own = await isolatedBackend(shared);
    drop = own.drop;
    t = await createTestApp(own.backend);
    [shortWindow, longWindow] = [await t.tenant(), await t.tenant()];
    for (const [tenant, retentionDays] of [
      [shortWindow, 30],
      [longWindow, 60],
    ] as const) {
      await setRetentionPolicy(t.database.db, {
        organizationId: tenant.organization.id,
        retentionDays,
        actor: SYSTEM_ACTOR,
      });
    }
    for (const day of [0, 1, 2, 3]) await ensureDays(t.database, at(day));
  });
  afterAll(async () => {
    await t.close();
    await drop();
  });

  it('counts each closed day once, per organization', async () => {
    await backdate(shortWindow, at(0, 1000), 3);
    await backdate(longWindow, at(0, 2000), 2);
    // Days 0 and 1 ended 24 hours or more before day 3 began; day 1 is empty and tallied as such.
    expect(await tallyClosedPartitions(t.database.db, at(3))).toBe(2);
    expect(await tally(0)).toEqual({
      [fromPublicId('org', shortWindow.organization.id)!]: 3,
      [fromPublicId('org', longWindow.organization.id)!]: 2,
    });
    expect(await tally(1)).toEqual({});
    expect(await tally(2)).toBeUndefined();
    expect(await tallyClosedPartitions(t.database.db, at(3))).toBe(0);
  });

  it('counts a day again once a row arrived after its tally', async () => {
    await backdate(longWindow, at(1, 5000), 4);
    expect(await tallyClosedPartitions(t.database.db, at(3))).toBe(1);
    expect(await tally(1)).toEqual({ [fromPublicId('org', longWindow.organization.id)!]: 4 });
  });

  it('drops a day with the count of what it held, a row arriving after the tally included', async () => {
    await backdate(shortWindow, at(0, 9000), 1);
    // Day 0 is expired for both organizations on day 61; day 1 (longWindow) is not yet.
    const report = await runPurge(t.database, { asOf: at(61, 1000), defaultRetentionDays: 90 });
    expect(report.droppedPartitions).toContain(partitionOf(0));
    expect(report.droppedPartitions).not.toContain(partitionOf(1));
    expect(purgedCount(report, shortWindow)).toBe(4);
    expect(purgedCount(report, longWindow)).toBe(2);
    expect(await tally(0)).toBeUndefined();
    expect(await attached()).not.toContain(partitionOf(0));
  });

  it('counts a day again after the tail purge deleted part of it', async () => {
    // The purge before dropped day 2's partition, empty then.
    await ensureDays(t.database, at(2));
    await backdate(shortWindow, at(2, 1000), 5);
    await backdate(longWindow, at(2, 2000), 1);
    await tallyClosedPartitions(t.database.db, at(4));
    expect(Object.values((await tally(2)) ?? {}).sort()).toEqual([1, 5]);

    // Day 33: shortWindow's five rows of day 2 are expired, longWindow's row is not: deleted row by row.
    const tail = await runPurge(t.database, { asOf: at(33, 1000), defaultRetentionDays: 90 });
    expect(purgedCount(tail, shortWindow)).toBe(5);
    expect(tail.droppedPartitions).not.toContain(partitionOf(2));

    // Day 63: the rest of day 2 goes with its partition, counted as the one row it still held (and
    // longWindow's four rows of day 1 with theirs).
    const whole = await runPurge(t.database, { asOf: at(63, 1000), defaultRetentionDays: 90 });
    expect(whole.droppedPartitions).toEqual(expect.arrayContaining([partitionOf(1), partitionOf(2)]));
    expect(purgedCount(whole, shortWindow)).toBe(0);
    expect(purgedCount(whole, longWindow)).toBe(5);
  });

  it('drops a partition an interrupted purge detached but did not drop', async () => {
    await ensureDays(t.database, at(3));
    await backdate(shortWindow, at(3, 1000));
    const day = partitionOf(3).slice('events_p'.length);
    await t.database.raw.query(`alter table events detach partition ${partitionOf(3)}`);
    await t.database.raw.query(`alter table ${partitionOf(3)} rename to events_purged_${day}`);

    await runPurge(t.database, { asOf: at(64), defaultRetentionDays: 90 });
    const left = await t.database.raw.query(`select to_regclass('events_purged_${day}') as relation`);
    expect(left).toEqual([{ relation: null }]);
  });
});

/**
 * A row written into a day while the purge is between counting it and detaching it (nothing the
 * server writes, as its day ended over a day before: a backdated import) must not be dropped
 * uncounted. PostgreSQL only: it takes a second connection.
 */
describe.each(backends().filter((backend) => backend.name === 'postgres'))(
  'purge racing a late write on $name',
  (shared) => {
    let t: TestApp;
    let drop: () => Promise<void>;
    let url: string;

    beforeAll(async () => {
      const own = await isolatedBackend(shared);
      drop = own.drop;
      url = (own.backend.config as { url: string }).url;
      t = await createTestApp(own.backend);
    });
    afterAll(async () => {
      await t.close();
      await drop();
    });

    it('puts back a day that took a row after it was counted, and drops it, counted, next time', async () => {
      const tenant = await t.tenant();
      await ensureDays(t.database, at(10));
      await insertBackdated(t.database.db, [
        { organizationId: tenant.organization.id, receivedAt: at(10, 1) },
      ]);
      await tallyClosedPartitions(t.database.db, at(12));

      // The late writer commits only once the purge, having counted the day, waits to detach it.
      const writer = postgres(url, { max: 1, onnotice: () => {} });
      const observer = postgres(url, { max: 1, onnotice: () => {} });
      let purgeWaited = false;
      const late = writer.begin(async (tx) => {
        await tx.unsafe(
          `insert into events (id, organization_id, action, actor_id, actor_type, targets, target_ids,
             target_types, metadata, search_text, occurred_at, received_at)
           values (gen_random_uuid(), $1, 'document.viewed', 'usr_late', 'user', '[]', '{}', '{}', '{}',
             'document.viewed', $2, $2)`,
          [fromPublicId('org', tenant.organization.id), at(10, 2).toISOString()],
        );
        for (let tries = 0; tries < 500 && !purgeWaited; tries += 1) {
          const waiting = await observer`
            select 1 from pg_stat_activity
            where wait_event_type = 'Lock' and query like '%auditline_purge_partitions%'`;
          purgeWaited = waiting.length > 0;
          if (!purgeWaited) await new Promise((resolve) => setTimeout(resolve, 10));
        }
      });
      const raced = await runPurge(t.database, { asOf: at(120), defaultRetentionDays: 90 });
      await late;
      await Promise.all([writer.end(), observer.end()]);

      expect(purgeWaited).toBe(true);
      // Put back, so not dropped: its two rows went through the tail purge instead, counted one by one.
      expect(raced.droppedPartitions).not.toContain(partitionOf(10));
      expect(raced.organizations).toEqual([
        expect.objectContaining({ organizationId: tenant.organization.id, deletedCount: 2, deletedRows: 2 }),
      ]);

      const next = await runPurge(t.database, { asOf: at(120), defaultRetentionDays: 90 });
      expect(next.droppedPartitions).toContain(partitionOf(10));
      expect(next.emptyPartitions).toContain(partitionOf(10));
      expect(next.organizations).toEqual([]);
    });
  },
);
