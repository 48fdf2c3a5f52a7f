import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from '../support/backends.ts';
import { createTestApp, EMIT, loginEvent, type TestApp } from '../support/test-app.ts';

describe.each(backends())('events are append-only on $name', (backend) => {
  let t: TestApp;
  let eventUuid: string;
  let partition: string;

  beforeAll(async () => {
    t = await createTestApp(backend);
    const tenant = await t.tenant();
    const id: string = (await tenant.gql(EMIT, { input: loginEvent() })).data!.emitEvent.event.id;
    const hex = id.slice(4);
    eventUuid = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
    const [row] = await t.database.raw.query<{ partition: string }>(
      `select tableoid::regclass::text as partition from events where id = '${eventUuid}'`,
    );
    partition = row!.partition;
    expect(partition).toMatch(/^events_p\d{8}$/);
  });
  afterAll(() => t.close());

  /** Runs statements in one transaction that is always rolled back, so a failed attempt leaves nothing behind. */
  async function attempt(statements: string[]): Promise<string> {
    const rollback = new Error('rollback');
    try {
      await t.database.db.transaction(async (tx) => {
        for (const statement of statements) await tx.execute(sql.raw(statement));
        throw rollback;
      });
      return 'committed';
    } catch (error) {
      if (error === rollback) return 'succeeded';
      return String((error as { cause?: Error }).cause?.message ?? (error as Error).message);
    }
  }

  const changes = () => [
    `update events set action = 'user.logout' where id = '${eventUuid}'`,
    `delete from events where id = '${eventUuid}'`,
    'truncate events',
    `update ${partition} set action = 'user.logout'`,
    `truncate ${partition}`,
  ];

  it.each([0, 1, 2, 3, 4])('rejects change %i even for the table owner, through triggers', async (index) => {
    expect(await attempt([changes()[index]!])).toMatch(/audit events are immutable/);
  });

  it('rejects changes with triggers "disabled" by session_replication_role (ENABLE ALWAYS)', async () => {
    const message = await attempt(['set local session_replication_role = replica', changes()[1]!]);
    expect(message).toMatch(/audit events are immutable/);
  });

  it.each([0, 1, 2])('denies change %i to the app role, which may only insert and read', async (index) => {
    expect(await attempt(['set local role auditline_app', changes()[index]!])).toMatch(/permission denied/);
  });

  it('lets the app role insert and read', async () => {
    const result = await attempt([
      'set local role auditline_app',
      `select count(*) from events where id = '${eventUuid}'`,
    ]);
    expect(result).toBe('succeeded');
  });

  it('left the event untouched', async () => {
    const rows = await t.database.raw.query<{ action: string }>(
      `select action from events where id = '${eventUuid}'`,
    );
    expect(rows).toEqual([{ action: 'user.login_failed' }]);
  });
});
