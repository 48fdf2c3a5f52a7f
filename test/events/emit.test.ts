import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../../src/db/rows.ts';
import { backends } from '../support/backends.ts';
import { createTestApp, EMIT, EMIT_MANY, EVENTS, loginEvent, type TestApp } from '../support/test-app.ts';

describe.each(backends())('emitting events on $name', (backend) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(backend);
  });
  afterAll(() => t.close());

  const countFor = async (tenant: Awaited<ReturnType<TestApp['tenant']>>) =>
    (await tenant.gql(EVENTS, { first: 0 })).data!.events.totalCount as number;

  it('stores an event and returns it with server-made id and times', async () => {
    const tenant = await t.tenant();
    const before = Date.now();
    const result = await tenant.gql(EMIT, {
      input: loginEvent({ targets: [{ id: 'acct_9', type: 'account', name: 'Billing' }] }),
    });
    expect(result.errors).toBeUndefined();
    const { event, replayed } = result.data!.emitEvent;
    expect(replayed).toBe(false);
    expect(event.id).toMatch(/^evt_[0-9a-f]{32}$/);
    expect(event.organizationId).toBe(tenant.organization.id);
    expect(event.actor).toEqual({ id: 'usr_1', type: 'user', name: 'Ada Lovelace' });
    expect(event.targets).toEqual([{ id: 'acct_9', type: 'account', name: 'Billing' }]);
    expect(event.context.ipAddress).toBe('203.0.113.9');
    expect(event.metadata).toEqual({ reason: 'bad password' });
    expect(new Date(event.receivedAt).getTime()).toBeGreaterThanOrEqual(before);
    const read = await tenant.gql(`query($id: ID!) { event(id: $id) { id action actor { name } } }`, {
      id: event.id,
    });
    expect(read.data!.event).toEqual({
      id: event.id,
      action: 'user.login_failed',
      actor: { name: 'Ada Lovelace' },
    });
  });

  const invalid: [string, Record<string, unknown>, string[], RegExp][] = [
    ['an action that is not noun.verb', { action: 'Login' }, ['input', 'action'], /noun\.verb/],
    [
      'an action over 128 characters',
      { action: `a.${'b'.repeat(127)}` },
      ['input', 'action'],
      /limit is 128/,
    ],
    ['an empty actor id', { actor: { id: ' ' } }, ['input', 'actor', 'id'], /must not be empty/],
    [
      'an actor name over 256 characters',
      { actor: { id: 'u', name: 'x'.repeat(257) } },
      ['input', 'actor', 'name'],
      /limit is 256/,
    ],
    [
      'a target without id',
      { targets: [{ id: '', type: 'doc' }] },
      ['input', 'targets', '0', 'id'],
      /must not be empty/,
    ],
    [
      'a bad IP address',
      { context: { ipAddress: '300.1.1.1' } },
      ['input', 'context', 'ipAddress'],
      /IPv4 or IPv6/,
    ],
    ['metadata that is not an object', { metadata: [1, 2] }, ['input', 'metadata'], /JSON object/],
    [
      'metadata over 32 KiB',
      { metadata: { blob: 'x'.repeat(33 * 1024) } },
      ['input', 'metadata'],
      /limit is 32768/,
    ],
    [
      'metadata nested too deep',
      { metadata: { a: { b: { c: { d: { e: { f: 1 } } } } } } },
      ['input', 'metadata'],
      /deeper than 5/,
    ],
    [
      'an occurredAt in the future',
      { occurredAt: new Date(Date.now() + 10 * 60_000).toISOString() },
      ['input', 'occurredAt'],
      /future/,
    ],
  ];

  it.each(invalid)(
    'refuses %s, naming the field, and stores nothing',
    async (_label, change, path, message) => {
      const tenant = await t.tenant();
      const result = await tenant.gql(EMIT, { input: loginEvent(change) });
      expect(result.data).toBeNull();
      expect(result.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', path });
      expect(result.errors![0]!.message).toMatch(message);
      expect(await countFor(tenant)).toBe(0);
    },
  );

  it('refuses a DateTime that is not RFC 3339 at variable coercion', async () => {
    const tenant = await t.tenant();
    const result = await tenant.gql(EMIT, { input: loginEvent({ occurredAt: 'yesterday' }) });
    expect(result.errors![0]!.message).toMatch(/occurredAt.*RFC 3339/s);
    expect(await countFor(tenant)).toBe(0);
  });

  it('stores the valid items of a batch and reports the others by index', async () => {
    const tenant = await t.tenant();
    const result = await tenant.gql(EMIT_MANY, {
      input: [loginEvent(), loginEvent({ action: 'bad' }), loginEvent({ action: 'user.logout' })],
    });
    const payload = result.data!.emitEvents;
    expect(payload.acceptedCount).toBe(2);
    expect(payload.rejectedCount).toBe(1);
    expect(payload.results[1]).toMatchObject({
      index: 1,
      event: null,
      error: { code: 'BAD_USER_INPUT', path: ['input', '1', 'action'] },
    });
    expect(payload.results[2].event.action).toBe('user.logout');
    expect(await countFor(tenant)).toBe(2);
  });

  it('refuses a batch over 1000 events as a whole', async () => {
    const tenant = await t.tenant();
    const result = await tenant.gql(EMIT_MANY, { input: Array.from({ length: 1001 }, () => loginEvent()) });
    expect(result.errors![0]!.extensions?.code).toBe('BAD_USER_INPUT');
    expect(result.errors![0]!.message).toMatch(/at most 1000/);
    expect(await countFor(tenant)).toBe(0);
  });

  it('replays an idempotent retry forever and refuses the same key with another payload', async () => {
    const tenant = await t.tenant();
    const first = await tenant.gql(EMIT, { input: loginEvent({ idempotencyKey: 'req-1' }) });
    const retry = await tenant.gql(EMIT, { input: loginEvent({ idempotencyKey: 'req-1' }) });
    expect(retry.data!.emitEvent.replayed).toBe(true);
    expect(retry.data!.emitEvent.event.id).toBe(first.data!.emitEvent.event.id);
    const conflict = await tenant.gql(EMIT, {
      input: loginEvent({ idempotencyKey: 'req-1', action: 'user.logout' }),
    });
    expect(conflict.errors![0]!.extensions).toMatchObject({
      code: 'IDEMPOTENCY_CONFLICT',
      path: ['input', 'idempotencyKey'],
    });
    expect(await countFor(tenant)).toBe(1);
  });

  it('keeps idempotency keys per organization', async () => {
    const [a, b] = [await t.tenant(), await t.tenant()];
    const fromA = await a.gql(EMIT, { input: loginEvent({ idempotencyKey: 'shared' }) });
    const fromB = await b.gql(EMIT, { input: loginEvent({ idempotencyKey: 'shared' }) });
    expect(fromB.data!.emitEvent.replayed).toBe(false);
    expect(fromB.data!.emitEvent.event.id).not.toBe(fromA.data!.emitEvent.event.id);
  });

  it('stores exactly one event for concurrent duplicates, in one batch and across batches', async () => {
    const tenant = await t.tenant();
    const calls = await Promise.all([
      ...Array.from({ length: 20 }, () => tenant.gql(EMIT, { input: loginEvent({ idempotencyKey: 'dup' }) })),
      tenant.gql(EMIT_MANY, {
        input: Array.from({ length: 5 }, () => loginEvent({ idempotencyKey: 'dup' })),
      }),
    ]);
    const ids = new Set(calls.slice(0, 20).map((call) => call.data!.emitEvent.event.id));
    for (const result of calls[20]!.data!.emitEvents.results) ids.add(result.event.id);
    expect(ids.size).toBe(1);
    const replayedFlags = [
      ...calls.slice(0, 20).map((call) => call.data!.emitEvent.replayed as boolean),
      ...calls[20]!.data!.emitEvents.results.map((result: { replayed: boolean }) => result.replayed),
    ];
    expect(replayedFlags.filter((replayed) => !replayed)).toHaveLength(1);
    expect(await countFor(tenant)).toBe(1);
  });

  it('lands 200 concurrent emits exactly once each, in fewer transactions than requests', async () => {
    const tenant = await t.tenant();
    t.queries.length = 0;
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => tenant.gql(EMIT, { input: loginEvent({ metadata: { n: i } }) })),
    );
    const inserts = t.queries.filter((query) => /\binsert into events\b/.test(query)).length;
    expect(results.every((result) => result.data?.emitEvent.event.id)).toBe(true);
    expect(new Set(results.map((result) => result.data!.emitEvent.event.id)).size).toBe(200);
    expect(inserts).toBeGreaterThan(0);
    expect(inserts).toBeLessThan(200);
    const stored = rowsOf<{ n: number; distinct_n: number }>(
      await t.database.db.execute(
        sql`select count(*)::int as n, count(distinct metadata->>'n')::int as distinct_n from events
            where organization_id = ${tenant.organization.id.slice(4).replace(/^(.{8})(.{4})(.{4})(.{4})/, '$1-$2-$3-$4-')}::uuid`,
      ),
    );
    expect(stored[0]).toEqual({ n: 200, distinct_n: 200 });
  });
});
