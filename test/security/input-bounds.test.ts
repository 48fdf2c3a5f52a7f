import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, buildApp } from '../../src/app.ts';
import { type DatabaseHandle, openDatabase } from '../../src/db/client.ts';
import { migrateDatabase } from '../../src/db/migrate.ts';
import { rowsOf } from '../../src/db/rows.ts';
import {
  MAX_ACTION_LENGTH,
  MAX_CURSOR_LENGTH,
  MAX_EVENTS_PER_BATCH,
  MAX_FILTER_METADATA_BYTES,
  MAX_FILTER_METADATA_DEPTH,
  MAX_FILTER_SEARCH_LENGTH,
  MAX_FILTER_VALUE_LENGTH,
  MAX_FILTER_VALUES,
  MAX_FUTURE_SKEW_MS,
  MAX_GROUPS,
  MAX_ID_LENGTH,
  MAX_IP_ADDRESS_LENGTH,
  MAX_METADATA_BYTES,
  MAX_METADATA_DEPTH,
  MAX_PAGE_SIZE,
  MAX_SEARCH_QUERY_LENGTH,
  MAX_TARGETS_PER_EVENT,
  MAX_TEXT_LENGTH,
  MAX_USER_AGENT_LENGTH,
} from '../../src/events/input-limits.ts';
import { fromPublicId } from '../../src/ids.ts';
import { createLogger } from '../../src/logger.ts';
import { createApiKey } from '../../src/tenancy/api-keys.ts';
import { createOrganization } from '../../src/tenancy/organizations.ts';
import { SCOPES } from '../../src/tenancy/scopes.ts';
import { backends } from '../support/backends.ts';
import { EMIT, EMIT_MANY, EVENTS, loginEvent, testConfig, uniqueName } from '../support/test-app.ts';
import { openStream, wsUrl } from '../support/ws-client.ts';

type GraphQLError = { message: string; extensions?: { code?: string; path?: string[] } };
// biome-ignore lint/suspicious/noExplicitAny: the tests read a few fields of several operations' answers
type Body = { data?: Record<string, any> | null; errors?: GraphQLError[] };

/** Nested objects `{"a":{"a":…1…}}`, as JSON text: building them as values would overflow the test's own stack. */
const deepObject = (levels: number) => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;
const deepArray = (levels: number) => `${'['.repeat(levels)}${']'.repeat(levels)}`;
/** `levels` nested objects whose innermost holds a number: exactly `levels` deep. */
const nested = (levels: number): Record<string, unknown> => {
  let value: Record<string, unknown> = { leaf: 1 };
  for (let level = 1; level < levels; level++) value = { a: value };
  return value;
};
/** A JSON object of exactly `bytes` bytes once serialized. */
const objectOfBytes = (bytes: number) => ({ k: 'x'.repeat(bytes - '{"k":""}'.length) });

describe.each(backends())('input bounds on $name', (backend) => {
  let database: DatabaseHandle;
  let app: App;
  let base: string;
  let port: number;
  let secret: string;
  let organizationId: string;
  const queries: string[] = [];
  const logLines: string[] = [];

  beforeAll(async () => {
    database = await openDatabase(backend.config, { onQuery: (query) => queries.push(query) });
    await migrateDatabase(database);
    app = buildApp({
      config: testConfig(),
      database,
      logger: createLogger('debug', (line) => logLines.push(line)),
      runBackgroundWorkers: false,
    });
    port = await app.start(0, '127.0.0.1');
    base = `http://127.0.0.1:${port}`;
    const organization = await createOrganization(database.db, uniqueName('bounds'));
    organizationId = organization.id;
    secret = (await createApiKey(database.db, { organizationId, scopes: [...SCOPES] })).secret;
  });
  afterAll(async () => {
    await app.stop();
    await database.close();
  });

  /** A raw JSON body over real HTTP, so deep values never pass through this process's JSON.stringify. */
  async function postRaw(body: string): Promise<Body & { status: number }> {
    const response = await fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${secret}` },
      body,
    });
    return { ...((await response.json()) as Body), status: response.status };
  }
  const post = (query: string, variables: Record<string, unknown>) =>
    postRaw(JSON.stringify({ query, variables }));
  const withVariables = (query: string, variablesJson: string) =>
    postRaw(`{"query":${JSON.stringify(query)},"variables":${variablesJson}}`);

  const storedCount = async () =>
    rowsOf<{ n: number }>(
      await database.db.execute(
        sql`select count(*)::int as n from events where organization_id = ${fromPublicId('org', organizationId)}`,
      ),
    )[0]!.n;

  function expectBadInput(body: Body, path: string[], message: RegExp) {
    expect(body.errors, JSON.stringify(body)).toHaveLength(1);
    const [error] = body.errors!;
    expect(error!.extensions?.code).toBe('BAD_USER_INPUT');
    expect(error!.extensions?.path).toEqual(path);
    expect(error!.message).toMatch(message);
  }

  describe('emits', () => {
    const refused: [string, Record<string, unknown>, string[], RegExp][] = [
      ['NUL in actor.id', { actor: { id: 'a\u0000b' } }, ['input', 'actor', 'id'], /actor\.id .*NUL/],
      [
        'a lone surrogate in actor.id',
        { actor: { id: '\ud800' } },
        ['input', 'actor', 'id'],
        /actor\.id .*surrogate/,
      ],
      [
        'a lone low surrogate in actor.name',
        { actor: { id: 'u', name: 'x\udc00y' } },
        ['input', 'actor', 'name'],
        /actor\.name .*surrogate/,
      ],
      [
        'NUL in a target id',
        { targets: [{ id: 'doc\u0000', type: 'doc' }] },
        ['input', 'targets', '0', 'id'],
        /targets\.0\.id .*NUL/,
      ],
      [
        'a lone surrogate in a target metadata value',
        { targets: [{ id: 'doc', type: 'doc', metadata: { title: '\udbff' } }] },
        ['input', 'targets', '0', 'metadata', 'title'],
        /targets\.0\.metadata: a string value .*surrogate/,
      ],
      [
        'a lone surrogate in a metadata key',
        { metadata: { '\ud800': 1 } },
        ['input', 'metadata'],
        /metadata: a key .*surrogate/,
      ],
      [
        'NUL in a nested metadata value',
        { metadata: { a: { b: ['ok', 'x\u0000'] } } },
        ['input', 'metadata', 'a', 'b', '1'],
        /metadata: a string value .*NUL/,
      ],
      [
        'NUL in an actor metadata key',
        { actor: { id: 'u', metadata: { 'k\u0000': 1 } } },
        ['input', 'actor', 'metadata'],
        /actor\.metadata: a key .*NUL/,
      ],
      [
        'NUL in context.userAgent',
        { context: { userAgent: 'curl\u0000' } },
        ['input', 'context', 'userAgent'],
        /userAgent .*NUL/,
      ],
      [
        'a lone surrogate in idempotencyKey',
        { idempotencyKey: 'k\ud800' },
        ['input', 'idempotencyKey'],
        /idempotencyKey .*surrogate/,
      ],
      [
        'an IPv6 zone id',
        { context: { ipAddress: 'fe80::1%eth0' } },
        ['input', 'context', 'ipAddress'],
        /context\.ipAddress .*zone id/,
      ],
      [
        'occurredAt in the year 1',
        { occurredAt: '0001-01-01T00:00:00Z' },
        ['input', 'occurredAt'],
        /occurredAt .*before 1970-01-01/,
      ],
      [
        'occurredAt a millisecond before 1970',
        { occurredAt: '1969-12-31T23:59:59.999Z' },
        ['input', 'occurredAt'],
        /occurredAt .*before 1970-01-01/,
      ],
      [
        'occurredAt past the future window',
        { occurredAt: new Date(Date.now() + MAX_FUTURE_SKEW_MS + 60_000).toISOString() },
        ['input', 'occurredAt'],
        /occurredAt .*5 minutes in the future/,
      ],
    ];

    it.each(refused)('refuses %s with its path, storing nothing', async (_name, overrides, path, message) => {
      const before = await storedCount();
      expectBadInput(await post(EMIT, { input: loginEvent(overrides) }), path, message);
      expect(await storedCount()).toBe(before);
    });

    it.each([
      ['10,000', 10_000],
      ['1,000,000', 1_000_000],
    ])('refuses metadata nested %s levels deep without overflowing the stack', async (_name, levels) => {
      const before = await storedCount();
      const input = `{"action":"user.login","actor":{"id":"u"},"metadata":${deepObject(levels)}}`;
      expectBadInput(
        await withVariables(EMIT, `{"input":${input}}`),
        ['input', 'metadata'],
        /metadata: nests deeper than 5 levels/,
      );
      const arrays = `{"action":"user.login","actor":{"id":"u","metadata":{"a":${deepArray(levels)}}}}`;
      expectBadInput(
        await withVariables(EMIT, `{"input":${arrays}}`),
        ['input', 'actor', 'metadata'],
        /actor\.metadata: nests deeper than 5 levels/,
      );
      expect(await storedCount()).toBe(before);
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
    });

    it('answers a value literal nested too deep to parse as a parse error, not a crash', async () => {
      const literal = `${'{a:'.repeat(20_000)}1${'}'.repeat(20_000)}`;
      const body = await postRaw(
        JSON.stringify({
          query: `mutation { emitEvent(input: {action: "user.login", actor: {id: "u"}, metadata: ${literal}}) { replayed } }`,
        }),
      );
      expect(body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_PARSE_FAILED');
      expect(body.status).toBeLessThan(500);
    });

    it('stores the valid items of a batch and refuses the one with NUL, with its index', async () => {
      const before = await storedCount();
      const marker = `batch-${Date.now()}`;
      const body = await post(EMIT_MANY, {
        input: [
          loginEvent({ actor: { id: `${marker}-1` } }),
          loginEvent({ actor: { id: `${marker}\u0000` } }),
          loginEvent({ actor: { id: `${marker}-3` } }),
        ],
      });
      expect(body.errors).toBeUndefined();
      const { acceptedCount, rejectedCount, results } = body.data!.emitEvents;
      expect([acceptedCount, rejectedCount]).toEqual([2, 1]);
      expect(results[1].error).toMatchObject({ code: 'BAD_USER_INPUT', path: ['input', '1', 'actor', 'id'] });
      expect(results[0].event).not.toBeNull();
      expect(results[2].event).not.toBeNull();
      expect(await storedCount()).toBe(before + 2);
    });

    it('accepts each bound exactly and refuses one past it', async () => {
      const limitCases: [Record<string, unknown>, Record<string, unknown>, string[]][] = [
        [
          { action: `a.${'b'.repeat(MAX_ACTION_LENGTH - 2)}` },
          { action: `a.${'b'.repeat(MAX_ACTION_LENGTH - 1)}` },
          ['input', 'action'],
        ],
        ...(['id', 'type', 'name'] as const).map(
          (field): [Record<string, unknown>, Record<string, unknown>, string[]] => [
            { actor: { id: 'u', [field]: 'x'.repeat(MAX_TEXT_LENGTH) } },
            { actor: { id: 'u', [field]: 'x'.repeat(MAX_TEXT_LENGTH + 1) } },
            ['input', 'actor', field],
          ],
        ),
        ...(['location', 'requestId', 'sessionId'] as const).map(
          (field): [Record<string, unknown>, Record<string, unknown>, string[]] => [
            { context: { [field]: 'x'.repeat(MAX_TEXT_LENGTH) } },
            { context: { [field]: 'x'.repeat(MAX_TEXT_LENGTH + 1) } },
            ['input', 'context', field],
          ],
        ),
        [
          { context: { userAgent: 'x'.repeat(MAX_USER_AGENT_LENGTH) } },
          { context: { userAgent: 'x'.repeat(MAX_USER_AGENT_LENGTH + 1) } },
          ['input', 'context', 'userAgent'],
        ],
        [
          { targets: [{ id: 'x'.repeat(MAX_TEXT_LENGTH), type: 'y'.repeat(MAX_TEXT_LENGTH) }] },
          { targets: [{ id: 'x', type: 'y'.repeat(MAX_TEXT_LENGTH + 1) }] },
          ['input', 'targets', '0', 'type'],
        ],
        [
          {
            targets: Array.from({ length: MAX_TARGETS_PER_EVENT }, (_, i) => ({ id: `t${i}`, type: 'doc' })),
          },
          {
            targets: Array.from({ length: MAX_TARGETS_PER_EVENT + 1 }, (_, i) => ({
              id: `t${i}`,
              type: 'doc',
            })),
          },
          ['input', 'targets'],
        ],
        [
          { metadata: objectOfBytes(MAX_METADATA_BYTES) },
          { metadata: objectOfBytes(MAX_METADATA_BYTES + 1) },
          ['input', 'metadata'],
        ],
        [
          { metadata: nested(MAX_METADATA_DEPTH) },
          { metadata: nested(MAX_METADATA_DEPTH + 1) },
          ['input', 'metadata'],
        ],
        [
          { idempotencyKey: `k${Date.now()}`.padEnd(MAX_TEXT_LENGTH, 'k') },
          { idempotencyKey: 'k'.repeat(MAX_TEXT_LENGTH + 1) },
          ['input', 'idempotencyKey'],
        ],
        [
          { occurredAt: '1970-01-01T00:00:00Z' },
          { occurredAt: '1969-12-31T23:59:59Z' },
          ['input', 'occurredAt'],
        ],
        [
          { occurredAt: new Date(Date.now() + MAX_FUTURE_SKEW_MS - 30_000).toISOString() },
          { occurredAt: new Date(Date.now() + MAX_FUTURE_SKEW_MS + 30_000).toISOString() },
          ['input', 'occurredAt'],
        ],
      ];
      for (const [accepted, refusedInput, path] of limitCases) {
        const ok = await post(EMIT, { input: loginEvent(accepted) });
        expect(ok.errors, JSON.stringify(path)).toBeUndefined();
        const before = await storedCount();
        const refusedBody = await post(EMIT, { input: loginEvent(refusedInput) });
        expect(refusedBody.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', path });
        expect(await storedCount()).toBe(before);
      }
    });

    it('bounds ipAddress and organizationId by length before parsing them', async () => {
      const longIp = await post(EMIT, {
        input: loginEvent({ context: { ipAddress: '1'.repeat(MAX_IP_ADDRESS_LENGTH + 1) } }),
      });
      expectBadInput(longIp, ['input', 'context', 'ipAddress'], /limit is 64/);
      const ipAtLimit = await post(EMIT, {
        input: loginEvent({ context: { ipAddress: '1'.repeat(MAX_IP_ADDRESS_LENGTH) } }),
      });
      expectBadInput(ipAtLimit, ['input', 'context', 'ipAddress'], /not an IPv4 or IPv6 address/);
      const longOrganization = await post(EMIT, {
        input: loginEvent({ organizationId: 'o'.repeat(MAX_ID_LENGTH + 1) }),
      });
      expectBadInput(longOrganization, ['input', 'organizationId'], /limit is 64/);
    });

    it(`takes ${MAX_EVENTS_PER_BATCH} events in one call and refuses ${MAX_EVENTS_PER_BATCH + 1}`, async () => {
      const batch = (size: number) =>
        Array.from({ length: size }, () => ({ action: 'user.login', actor: { id: 'u' } }));
      const full = await post(EMIT_MANY, { input: batch(MAX_EVENTS_PER_BATCH) });
      expect(full.data?.emitEvents.acceptedCount).toBe(MAX_EVENTS_PER_BATCH);
      const before = await storedCount();
      expectBadInput(
        await post(EMIT_MANY, { input: batch(MAX_EVENTS_PER_BATCH + 1) }),
        ['input'],
        /at most 1000/,
      );
      expect(await storedCount()).toBe(before);
    });
  });

  describe('filters and queries', () => {
    const COUNTS = /* GraphQL */ `
      query Counts($filter: EventFilter, $query: String, $limit: Int) {
        eventCounts(filter: $filter, query: $query, groupBy: ACTION, limit: $limit) { key count }
      }
    `;
    const EXPORT = /* GraphQL */ `
      query Export($filter: EventFilter, $query: String) {
        exportEvents(filter: $filter, query: $query, format: JSONL) { path }
      }
    `;
    const refused: [string, Record<string, unknown>, string[], RegExp][] = [
      [
        'NUL in filter.search',
        { filter: { search: 'a\u0000b' } },
        ['filter', 'search'],
        /filter\.search .*NUL/,
      ],
      [
        'a lone surrogate in filter.search',
        { filter: { search: '\ud800' } },
        ['filter', 'search'],
        /filter\.search .*surrogate/,
      ],
      [
        'NUL in filter.actorIds',
        { filter: { actorIds: ['ok', 'a\u0000b'] } },
        ['filter', 'actorIds', '1'],
        /filter\.actorIds\.1 .*NUL/,
      ],
      [
        'a lone surrogate in filter.targetIds',
        { filter: { targetIds: ['\udfff'] } },
        ['filter', 'targetIds', '0'],
        /surrogate/,
      ],
      [
        'NUL in filter.actorTypes',
        { filter: { actorTypes: ['\u0000'] } },
        ['filter', 'actorTypes', '0'],
        /NUL/,
      ],
      [
        'NUL in filter.targetTypes',
        { filter: { targetTypes: ['t\u0000'] } },
        ['filter', 'targetTypes', '0'],
        /NUL/,
      ],
      [
        'NUL in a filter.metadata value',
        { filter: { metadata: { reason: 'a\u0000b' } } },
        ['filter', 'metadata', 'reason'],
        /filter\.metadata: a string value .*NUL/,
      ],
      [
        'NUL in a filter.metadata key',
        { filter: { metadata: { 'r\u0000': 'x' } } },
        ['filter', 'metadata'],
        /filter\.metadata: a key .*NUL/,
      ],
      ['a lone surrogate in query', { query: 'actor:\ud800' }, ['query'], /query .*surrogate/],
      ['NUL in query', { query: 'a\u0000' }, ['query'], /NUL/],
      [
        `filter.search over ${MAX_FILTER_SEARCH_LENGTH} characters`,
        { filter: { search: 'x'.repeat(MAX_FILTER_SEARCH_LENGTH + 1) } },
        ['filter', 'search'],
        /filter\.search is 1001 characters long; the limit is 1000/,
      ],
      [
        'a 7 MiB filter.search',
        { filter: { search: 'x'.repeat(7 << 20) } },
        ['filter', 'search'],
        /the limit is 1000/,
      ],
    ];

    it.each(refused)(
      'refuses %s in events, eventCounts and exportEvents, before any SQL',
      async (_name, variables, path, message) => {
        for (const query of [EVENTS, COUNTS, EXPORT]) {
          queries.length = 0;
          expectBadInput(await post(query, variables), path, message);
          expect(queries.filter((statement) => /from "?events"?/.test(statement))).toEqual([]);
        }
      },
    );

    it('refuses filter.metadata nested 1,000,000 levels deep', async () => {
      expectBadInput(
        await withVariables(EVENTS, `{"filter":{"metadata":${deepObject(1_000_000)}}}`),
        ['filter', 'metadata'],
        /filter\.metadata: nests deeper than 5 levels/,
      );
    });

    it('accepts each filter bound exactly and refuses one past it', async () => {
      const lists = {
        actions: (i: number) => `user.action_${i}`,
        actorIds: (i: number) => `usr_${i}`,
        actorTypes: (i: number) => `type_${i}`,
        targetIds: (i: number) => `doc_${i}`,
        targetTypes: (i: number) => `kind_${i}`,
      };
      const cases: [Record<string, unknown>, Record<string, unknown>, string[]][] = [];
      for (const [field, value] of Object.entries(lists)) {
        const values = (n: number) => Array.from({ length: n }, (_, i) => value(i));
        cases.push([
          { filter: { [field]: values(MAX_FILTER_VALUES) } },
          { filter: { [field]: values(MAX_FILTER_VALUES + 1) } },
          ['filter', field],
        ]);
        if (field !== 'actions') {
          cases.push([
            { filter: { [field]: ['x'.repeat(MAX_FILTER_VALUE_LENGTH)] } },
            { filter: { [field]: ['x'.repeat(MAX_FILTER_VALUE_LENGTH + 1)] } },
            ['filter', field, '0'],
          ]);
        }
      }
      cases.push(
        [
          { filter: { actions: [`a.${'b'.repeat(MAX_FILTER_VALUE_LENGTH - 2)}`] } },
          { filter: { actions: [`a.${'b'.repeat(MAX_FILTER_VALUE_LENGTH - 1)}`] } },
          ['filter', 'actions', '0'],
        ],
        [
          { filter: { search: 'x'.repeat(MAX_FILTER_SEARCH_LENGTH) } },
          { filter: { search: 'x'.repeat(MAX_FILTER_SEARCH_LENGTH + 1) } },
          ['filter', 'search'],
        ],
        [
          { filter: { metadata: objectOfBytes(MAX_FILTER_METADATA_BYTES) } },
          { filter: { metadata: objectOfBytes(MAX_FILTER_METADATA_BYTES + 1) } },
          ['filter', 'metadata'],
        ],
        [
          { filter: { metadata: nested(MAX_FILTER_METADATA_DEPTH) } },
          { filter: { metadata: nested(MAX_FILTER_METADATA_DEPTH + 1) } },
          ['filter', 'metadata'],
        ],
        [
          { query: `"${'x'.repeat(MAX_SEARCH_QUERY_LENGTH - 2)}"` },
          { query: `"${'x'.repeat(MAX_SEARCH_QUERY_LENGTH - 1)}"` },
          ['query'],
        ],
        [{ first: MAX_PAGE_SIZE }, { first: MAX_PAGE_SIZE + 1 }, ['first']],
        [{ last: MAX_PAGE_SIZE }, { last: MAX_PAGE_SIZE + 1 }, ['last']],
      );
      for (const [accepted, refusedVariables, path] of cases) {
        const ok = await post(EVENTS, accepted);
        expect(ok.errors, JSON.stringify(path)).toBeUndefined();
        const refusedBody = await post(EVENTS, refusedVariables);
        expect(refusedBody.errors?.[0]?.extensions, JSON.stringify(path)).toMatchObject({
          code: 'BAD_USER_INPUT',
          path,
        });
      }
      expect((await post(COUNTS, { limit: MAX_GROUPS })).errors).toBeUndefined();
      expect((await post(COUNTS, { limit: MAX_GROUPS + 1 })).errors?.[0]?.extensions?.path).toEqual([
        'limit',
      ]);
    });

    it('bounds cursors, filter.ipAddress and filter.organizationId by length', async () => {
      const cursorAtLimit = await post(EVENTS, { after: 'x'.repeat(MAX_CURSOR_LENGTH) });
      expectBadInput(cursorAtLimit, ['after'], /not a cursor returned by this API/);
      const longCursor = await post(EVENTS, { before: 'x'.repeat(MAX_CURSOR_LENGTH + 1) });
      expectBadInput(longCursor, ['before'], /at most 256/);
      const ipAtLimit = await post(EVENTS, { filter: { ipAddress: '1'.repeat(MAX_IP_ADDRESS_LENGTH) } });
      expectBadInput(ipAtLimit, ['filter', 'ipAddress'], /not an IP address/);
      const longIp = await post(EVENTS, { filter: { ipAddress: '1'.repeat(MAX_IP_ADDRESS_LENGTH + 1) } });
      expectBadInput(longIp, ['filter', 'ipAddress'], /limit is 64/);
      const zone = await post(EVENTS, { filter: { ipAddress: 'fe80::1%eth0' } });
      expectBadInput(zone, ['filter', 'ipAddress'], /not an IP address/);
      const longOrganization = await post(EVENTS, {
        filter: { organizationId: 'o'.repeat(MAX_ID_LENGTH + 1) },
      });
      expectBadInput(longOrganization, ['filter', 'organizationId'], /limit is 64/);
    });
  });

  describe('stream arguments over graphql-ws', () => {
    const refused: [string, Record<string, unknown>, string[]][] = [
      ['NUL in filter.search', { filter: { search: 'a\u0000b' } }, ['filter', 'search']],
      ['NUL in filter.actorIds', { filter: { actorIds: ['a\u0000b'] } }, ['filter', 'actorIds', '0']],
      ['NUL in filter.metadata', { filter: { metadata: { k: '\u0000' } } }, ['filter', 'metadata', 'k']],
      [
        'a lone surrogate in filter.targetIds',
        { filter: { targetIds: ['\ud800'] } },
        ['filter', 'targetIds', '0'],
      ],
      ['a lone surrogate in query', { query: '\udc00' }, ['query']],
      [
        'filter.search over its limit',
        { filter: { search: 'x'.repeat(MAX_FILTER_SEARCH_LENGTH + 1) } },
        ['filter', 'search'],
      ],
      [
        'too many filter.actions',
        { filter: { actions: Array.from({ length: MAX_FILTER_VALUES + 1 }, () => 'user.login') } },
        ['filter', 'actions'],
      ],
      [
        'filter.metadata over its depth',
        { filter: { metadata: nested(MAX_FILTER_METADATA_DEPTH + 1) } },
        ['filter', 'metadata'],
      ],
      ['a cursor over its length', { after: 'x'.repeat(MAX_CURSOR_LENGTH + 1) }, ['after']],
    ];

    it.each(refused)('refuses %s as an error for that subscription', async (_name, variables, path) => {
      const stream = openStream(wsUrl(port), secret, variables);
      try {
        const outcome = await Promise.race([
          stream.outcome,
          new Promise<'pending'>((resolve) => setTimeout(() => resolve('pending'), 5000)),
        ]);
        expect(outcome).toMatchObject({ kind: 'errors' });
        const [error] = (outcome as { errors: GraphQLError[] }).errors;
        expect(error!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', path });
      } finally {
        await stream.dispose();
      }
    });

    // The WebSocket server takes messages up to 1 MiB: 400,000 nested arrays are just under it.
    it('refuses filter.metadata nested 400,000 levels deep in a subscribe message', async () => {
      const { default: WebSocket } = await import('ws');
      const socket = new WebSocket(wsUrl(port), 'graphql-transport-ws');
      const messages: { id?: string; type: string; payload?: unknown }[] = [];
      await new Promise((resolve) => socket.once('open', resolve));
      socket.on('message', (data) => messages.push(JSON.parse(String(data))));
      socket.send(
        JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${secret}` } }),
      );
      await expect.poll(() => messages.some((message) => message.type === 'connection_ack')).toBe(true);
      const query = JSON.stringify(
        'subscription($filter: EventFilter) { eventStream(filter: $filter) { cursor } }',
      );
      socket.send(
        `{"id":"deep","type":"subscribe","payload":{"query":${query},"variables":{"filter":{"metadata":{"a":${deepArray(400_000)}}}}}}`,
      );
      await expect
        .poll(() => messages.find((message) => message.id === 'deep'), { timeout: 15_000 })
        .toBeDefined();
      const answer = messages.find((message) => message.id === 'deep')!;
      const errors = (
        answer.type === 'error' ? answer.payload : (answer.payload as { errors: unknown }).errors
      ) as GraphQLError[];
      expect(errors[0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', path: ['filter', 'metadata'] });
      expect(socket.readyState).toBe(WebSocket.OPEN);
      socket.close();
    });
  });

  describe('logs', () => {
    const secretContent = () => `s3cret-${Date.now()}-${Math.random().toString(36).slice(2)}`;

    it('never prints the event content of an emit that fails inside SQL', async () => {
      // Validation refuses every known bad value, so a constraint stands in for a value it lets through.
      const marker = secretContent();
      await database.db.execute(
        sql.raw(
          `alter table events add constraint refuse_marker check (actor_name is distinct from '${marker}')`,
        ),
      );
      try {
        logLines.length = 0;
        const metadataSecret = secretContent();
        const body = await post(EMIT, {
          input: loginEvent({
            actor: { id: 'usr_logged', name: marker },
            metadata: { card: metadataSecret },
          }),
        });
        expect(body.errors?.[0]?.extensions?.code).toBe('INTERNAL_SERVER_ERROR');
        const errorLines = logLines.filter((line) => / error /.test(line));
        expect(errorLines.length).toBeGreaterThan(0);
        const log = logLines.join('');
        expect(log).toMatch(/"code":"23514"/);
        expect(log).not.toContain(metadataSecret);
        expect(log).not.toContain('usr_logged');
        expect(log).not.toContain('bad password');
        expect(log).not.toMatch(/params: \[(?!redacted)/);
      } finally {
        await database.db.execute(sql.raw('alter table events drop constraint refuse_marker'));
      }
    });

    it('never prints query parameters, whether an error is logged as itself or as String(error)', async () => {
      const value = secretContent();
      const failure = await database.db.execute(sql`select ${value}::int`).then(
        () => null,
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(Error);
      expect(String(failure)).toContain(value);
      const lines: string[] = [];
      const logger = createLogger('debug', (line) => lines.push(line));
      logger.error('failed', { error: failure });
      logger.warn('failed', { error: String(failure) });
      logger.error(String(failure));
      expect(lines).toHaveLength(3);
      expect(lines.join('')).not.toContain(value);
      expect(lines[0]).toMatch(/"code":"22P02"/);
      expect(lines[0]).toMatch(/"stack":\["at /);
    });
  });
});
