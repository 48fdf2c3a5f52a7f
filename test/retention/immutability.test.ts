import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromPublicId } from '../../src/ids.ts';
import { SYSTEM_ACTOR } from '../../src/retention/audit-trail.ts';
import { placeLegalHold } from '../../src/retention/legal-holds.ts';
import { setRetentionPolicy } from '../../src/retention/policies.ts';
import type { Backend } from '../support/backends.ts';
import { backends } from '../support/backends.ts';
import { createTestApp, EMIT, loginEvent, type Tenant, type TestApp } from '../support/test-app.ts';
import { ensureDays, insertBackdated } from './backdated-events.ts';
import { isolatedBackend, openSession, type Session } from './sessions.ts';

const DAY = 86_400_000;

describe.each(backends())('events stay immutable outside the purge on $name', (shared) => {
  let backend: Backend;
  let t: TestApp;
  let drop: () => Promise<void>;
  let tenant: Tenant;
  let organizationUuid: string;
  let partition: string;

  const countMine = async () =>
    Number(
      (
        await t.database.raw.query<{ n: unknown }>(
          'select count(*) as n from events where organization_id = $1',
          [organizationUuid],
        )
      )[0]!.n,
    );

  /** Runs `work` as the app role on a connection of its own, always switching back. */
  async function asApp<T>(work: (session: Session) => Promise<T>): Promise<T> {
    const session = await openSession(backend, t.database, 'auditline_app');
    try {
      return await work(session);
    } finally {
      await session.close();
    }
  }

  async function asOwner<T>(work: (session: Session) => Promise<T>): Promise<T> {
    const session = await openSession(backend, t.database);
    try {
      return await work(session);
    } finally {
      await session.close();
    }
  }

  beforeAll(async () => {
    const own = await isolatedBackend(shared);
    backend = own.backend;
    drop = own.drop;
    t = await createTestApp(backend);
    tenant = await t.tenant();
    organizationUuid = fromPublicId('org', tenant.organization.id)!;
    const emitted = await tenant.gql(EMIT, { input: loginEvent() });
    expect(emitted.errors).toBeUndefined();
    const [row] = await t.database.raw.query<{ name: string }>(
      'select tableoid::regclass::text as name from events where organization_id = $1',
      [organizationUuid],
    );
    partition = row!.name;
  });
  afterAll(async () => {
    await t.close();
    await drop();
  });

  it.each([
    ['DELETE on events', 'delete from events where organization_id = $1', true],
    ['UPDATE on events', "update events set action = 'user.tampered' where organization_id = $1", true],
    ['TRUNCATE on events', 'truncate events', false],
    ['DELETE on a partition', 'delete from {partition} where organization_id = $1', true],
    [
      'UPDATE on a partition',
      "update {partition} set action = 'user.tampered' where organization_id = $1",
      true,
    ],
    ['TRUNCATE on a partition', 'truncate {partition}', false],
    ['DELETE on the default partition', 'delete from events_default', false],
  ])('the app role is refused %s', async (_label, statement, takesOrganization) => {
    const text = statement.replace('{partition}', partition);
    await asApp(async (app) => {
      await expect(app.query(text, takesOrganization ? [organizationUuid] : [])).rejects.toThrow(
        /permission denied/,
      );
    });
    expect(await countMine()).toBe(1);
  });

  it.each([
    ['detach a partition', 'alter table events detach partition {partition}'],
    ['drop a partition', 'drop table {partition}'],
    ['switch the immutability trigger off', 'alter table events disable trigger events_immutable'],
    [
      'replace the trigger function',
      'create or replace function auditline_reject_event_change() returns trigger language plpgsql as $$ begin return old; end $$',
    ],
  ])('the app role cannot %s', async (_label, statement) => {
    await asApp(async (app) => {
      await expect(app.query(statement.replace('{partition}', partition))).rejects.toThrow(
        /must be owner|permission denied/,
      );
    });
    expect(await countMine()).toBe(1);
  });

  it('the app role can neither forge a purge grant nor run the purge with a clock of its own', async () => {
    await asApp(async (app) => {
      await expect(
        app.query('insert into auditline_purge_grants values (pg_current_xact_id())'),
      ).rejects.toThrow(/permission denied/);
      await expect(app.query("select * from auditline_purge_events('2999-01-01', 1, 1000)")).rejects.toThrow(
        /permission denied for function/,
      );
      await expect(
        app.query("select * from auditline_purge_partitions('2999-01-01', 1, 100)"),
      ).rejects.toThrow(/permission denied for function/);
      await expect(app.query('select * from auditline_purge_grants')).rejects.toThrow(/permission denied/);
      // Setting configuration is no way around it either: the trigger reads no setting.
      await app.query("select set_config('auditline.purge', 'on', false)");
      await expect(
        app.query('delete from events where organization_id = $1', [organizationUuid]),
      ).rejects.toThrow(/permission denied/);
    });
    expect(await countMine()).toBe(1);
  });

  it('the app role may run the purge on the database clock: it removes only what the policy expired', async () => {
    const other = await t.tenant();
    await setRetentionPolicy(t.database.db, {
      organizationId: other.organization.id,
      retentionDays: 1,
      actor: SYSTEM_ACTOR,
    });
    const twoDaysAgo = new Date(Date.now() - 2 * DAY);
    await ensureDays(t.database, twoDaysAgo);
    await insertBackdated(t.database.db, [{ organizationId: other.organization.id, receivedAt: twoDaysAgo }]);
    const deleted = await asApp((app) =>
      app.query<{ organization_id: string; event_count: unknown }>(
        'select * from auditline_purge_events_now(3650, 1000)',
      ),
    );
    expect(deleted.map((row) => [row.organization_id, Number(row.event_count)])).toEqual([
      [fromPublicId('org', other.organization.id), 1],
    ]);
    expect(await countMine()).toBe(1);
  });

  it('the app role may detach, drop and tally days on the database clock, never on a clock of its own', async () => {
    await asApp(async (app) => {
      await app.query('select * from auditline_purge_partitions_now(3650, 8)');
      await app.query('select * from auditline_drop_purged_partitions(8)');
      await app.query('select auditline_tally_closed_partitions_now(null)');
      await expect(app.query("select auditline_tally_closed_partitions('2100-01-01', null)")).rejects.toThrow(
        /permission denied for function/,
      );
      await expect(
        app.query("select * from auditline_count_partition('events_default'::regclass)"),
      ).rejects.toThrow(/permission denied for function/);
      await expect(app.query('select * from auditline_partition_tallies')).rejects.toThrow(
        /permission denied/,
      );
    });
    expect(await countMine()).toBe(1);
  });

  it('the owner is refused too: the trigger lets a DELETE through only inside the purge, and never an UPDATE', async () => {
    await asOwner(async (owner) => {
      await expect(
        owner.query('delete from events where organization_id = $1', [organizationUuid]),
      ).rejects.toThrow(/audit events are immutable: DELETE/);
      await expect(
        owner.query("update events set action = 'user.tampered' where organization_id = $1", [
          organizationUuid,
        ]),
      ).rejects.toThrow(/audit events are immutable: UPDATE/);
      await expect(owner.query(`truncate ${partition}`)).rejects.toThrow(
        /audit events are immutable: TRUNCATE/,
      );
      await expect(owner.query('truncate events')).rejects.toThrow(/audit events are immutable: TRUNCATE/);
    });
    expect(await countMine()).toBe(1);
  });

  it('a purge leaves no grant behind: a DELETE after it in the same transaction is refused', async () => {
    await asOwner(async (owner) => {
      await owner.query('begin');
      try {
        await owner.query("select * from auditline_purge_events('2000-01-01', 90, 10)");
        await expect(
          owner.query('delete from events where organization_id = $1', [organizationUuid]),
        ).rejects.toThrow(/audit events are immutable/);
      } finally {
        await owner.query('rollback');
      }
    });
    expect(await countMine()).toBe(1);
  });

  it('legal holds can be released once, never edited or deleted', async () => {
    const hold = await placeLegalHold(t.database.db, {
      organizationId: tenant.organization.id,
      reason: 'audit 2026',
      actor: SYSTEM_ACTOR,
    });
    const uuid = fromPublicId('hold', hold.id)!;
    await asApp(async (app) => {
      // The app role may update only the release columns (migration 0015); the trigger is the owner's wall.
      await expect(
        app.query("update legal_holds set reason = 'nothing' where id = $1", [uuid]),
      ).rejects.toThrow(/permission denied/);
      await expect(
        app.query('update legal_holds set released_at = now(), reason = $2 where id = $1', [uuid, 'x']),
      ).rejects.toThrow(/permission denied/);
      await expect(app.query('delete from legal_holds where id = $1', [uuid])).rejects.toThrow(
        /permission denied/,
      );
    });
    await asOwner(async (owner) => {
      await expect(owner.query('delete from legal_holds where id = $1', [uuid])).rejects.toThrow(
        /legal holds can only be released/,
      );
      await expect(owner.query('update legal_holds set to_at = now() where id = $1', [uuid])).rejects.toThrow(
        /legal holds can only be released/,
      );
    });
  });
});
