import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresOnly } from '../support/backends.ts';
import { createTestApp, EMIT_MANY, loginEvent, type Tenant, type TestApp } from '../support/test-app.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A statement made slow on purpose: another session holds an ACCESS EXCLUSIVE lock on the table it
 * reads, so it waits, as a running statement, until cancelled or the lock goes.
 */
describe.each(postgresOnly())('statement limits on $name', (backend) => {
  const url = (backend.config as { url: string }).url;
  const side = postgres(url, {
    max: 3,
    onnotice: () => {},
    connection: { application_name: 'auditline-test' },
  });
  let t: TestApp;
  let tenant: Tenant;

  beforeAll(async () => {
    t = await createTestApp(backend, { STATEMENT_TIMEOUT_MS: '400' });
    tenant = await t.tenant();
    expect((await tenant.gql(EMIT_MANY, { input: [loginEvent(), loginEvent()] })).errors).toBeUndefined();
  });
  afterAll(async () => {
    await t.close();
    await side.end({ timeout: 5 });
  });

  /** The app's statements that mention `table` and wait on a lock. */
  const waitingStatements = async (table: string) =>
    (await side`
      select pid, query from pg_stat_activity
      where datname = current_database() and application_name = 'auditline' and state = 'active'
        and wait_event_type = 'Lock' and query like ${`%${table}%`}`) as {
      pid: number;
      query: string;
    }[];

  async function until<T>(probe: () => Promise<T>, done: (value: T) => boolean, withinMs: number) {
    const deadline = Date.now() + withinMs;
    for (;;) {
      const value = await probe();
      if (done(value) || Date.now() > deadline) return value;
      await sleep(25);
    }
  }

  async function whileLocked(table: string, during: () => Promise<void>) {
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let locked!: () => void;
    const isLocked = new Promise<void>((resolve) => {
      locked = resolve;
    });
    const holder = side.begin(async (sql) => {
      await sql.unsafe(`lock table ${table} in access exclusive mode`);
      locked();
      await released;
    });
    await isLocked;
    try {
      await during();
    } finally {
      release();
      await holder;
    }
  }

  it('cancels a statement that runs past STATEMENT_TIMEOUT_MS and answers QUERY_TIMEOUT', async () => {
    await whileLocked('events', async () => {
      const started = Date.now();
      const response = await Promise.race([
        tenant.gql('{ events(first: 10) { edges { node { id } } } }'),
        sleep(5_000).then(() => null),
      ]);
      expect(response, 'the query was still running after 5 s').not.toBeNull();
      expect(Date.now() - started).toBeLessThan(3_000);
      expect(response!.errors).toEqual([
        expect.objectContaining({
          message:
            'The query ran longer than STATEMENT_TIMEOUT_MS (400 ms) and was cancelled; narrow the filter or ask for less',
          path: ['events'],
          extensions: { code: 'QUERY_TIMEOUT' },
        }),
      ]);
      // Cancelled on the server too, not merely abandoned by the client.
      expect(
        await until(
          () => waitingStatements('events'),
          (rows) => rows.length === 0,
          2_000,
        ),
      ).toEqual([]);
    });
    const after = await tenant.gql('{ events(first: 10) { edges { node { id } } } }');
    expect(after.errors).toBeUndefined();
  });

  it('leaves statements outside GraphQL requests (background work) without a time limit', async () => {
    let background!: Promise<unknown>;
    await whileLocked('events', async () => {
      // drizzle sends a statement only once it is awaited.
      background = Promise.resolve(t.database.db.execute(sql`select count(*) from events`));
      await sleep(1_000);
      expect(await waitingStatements('events')).toHaveLength(1);
    });
    await expect(background).resolves.toBeDefined();
  });

  it('cancels the SQL of a request whose client disconnects', async () => {
    const patient = await createTestApp(backend, { STATEMENT_TIMEOUT_MS: '60000' });
    try {
      const patientBase = `http://127.0.0.1:${await patient.app.start(0, '127.0.0.1')}`;
      const key = (await patient.tenant()).key.secret;
      await whileLocked('events', async () => {
        const client = new AbortController();
        const request = fetch(`${patientBase}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
          body: JSON.stringify({ query: '{ eventCounts(groupBy: ACTION) { key count } }' }),
          signal: client.signal,
        }).catch((error: Error) => error);
        const waiting = await until(
          () => waitingStatements('events'),
          (rows) => rows.length > 0,
          5_000,
        );
        expect(waiting).toHaveLength(1);
        client.abort();
        expect(await request).toBeInstanceOf(Error);
        const left = await until(
          () => waitingStatements('events'),
          (rows) => rows.length === 0,
          2_000,
        );
        expect(left, 'the statement still ran 2 s after its client left').toEqual([]);
      });
    } finally {
      await patient.close();
    }
  });

  it('answers BUSY to a second verifyIntegrity while one runs for the organization', async () => {
    const patient = await createTestApp(backend, { STATEMENT_TIMEOUT_MS: '60000' });
    try {
      const owner = await patient.tenant();
      const other = await patient.tenant();
      const running: Promise<unknown>[] = [];
      await whileLocked('merkle_logs', async () => {
        running.push(owner.gql('{ verifyIntegrity { ok } }'));
        expect(
          await until(
            () => waitingStatements('merkle_logs'),
            (rows) => rows.length === 1,
            5_000,
          ),
        ).toHaveLength(1);
        const second = await owner.gql('{ verifyIntegrity { ok } }');
        expect(second.errors).toEqual([
          expect.objectContaining({
            message: 'verifyIntegrity is already running for this organization; retry once it has finished',
            extensions: { code: 'BUSY' },
          }),
        ]);
        // Another organization's check is not refused: it runs (and waits on the lock like the first).
        running.push(other.gql('{ verifyIntegrity { ok } }'));
        expect(
          await until(
            () => waitingStatements('merkle_logs'),
            (rows) => rows.length === 2,
            5_000,
          ),
        ).toHaveLength(2);
      });
      const ok = { data: { verifyIntegrity: { ok: true } } };
      expect(await Promise.all(running)).toEqual([expect.objectContaining(ok), expect.objectContaining(ok)]);
      const again = await owner.gql('{ verifyIntegrity { ok } }');
      expect(again).toMatchObject(ok);
    } finally {
      await patient.close();
    }
  });
});
