import { describe, expect, it } from 'vitest';
import { type EmitEventInput, LIMITS, prepareEvent } from '../../src/events/emit-input.ts';

// Every limit and rejection of prepareEvent, each with its exact message and path, and the value just
// inside each limit accepted: mutation testing found most of these unexercised behind the emit tests.

const IDS = { id: 'evt_1', organizationId: 'org_1' };
const NOW = new Date('2024-05-06T07:08:09.123Z');

function input(overrides: Partial<EmitEventInput> = {}): EmitEventInput {
  return { action: 'user.login', actor: { id: 'usr_ada' }, ...overrides };
}

function prepared(overrides: Partial<EmitEventInput> = {}) {
  const result = prepareEvent(input(overrides), IDS, NOW);
  if (!result.ok) throw new Error(`expected a prepared event, got ${JSON.stringify(result.error)}`);
  return result.event;
}

function rejection(overrides: Partial<EmitEventInput>) {
  const result = prepareEvent(input(overrides), IDS, NOW);
  if (result.ok) throw new Error('expected a rejection');
  expect(result.error.code).toBe('BAD_USER_INPUT');
  return { message: result.error.message, path: result.error.path };
}

const text = (length: number) => 'x'.repeat(length);

describe('a minimal event', () => {
  it('gets defaults for everything it leaves out', () => {
    expect(prepared()).toEqual({
      id: 'evt_1',
      organizationId: 'org_1',
      action: 'user.login',
      actorId: 'usr_ada',
      actorType: 'user',
      actorName: null,
      actorMetadata: null,
      targets: [],
      ipAddress: null,
      userAgent: null,
      location: null,
      requestId: null,
      sessionId: null,
      metadata: {},
      occurredAt: NOW,
      version: null,
      idempotencyKey: null,
      payloadHash: '',
      searchText: 'user.login\nusr_ada',
    });
  });

  it('treats explicit nulls like absent fields', () => {
    const event = prepared({
      actor: { id: 'usr_ada', type: null, name: null, metadata: null },
      targets: null,
      context: null,
      metadata: null,
      occurredAt: null,
      version: null,
      idempotencyKey: null,
    });
    expect(event).toEqual(prepared());
    const withNullContext = prepared({
      context: { ipAddress: null, userAgent: null, location: null, requestId: null, sessionId: null },
      targets: [{ id: 'doc_1', type: 'document', name: null, metadata: null }],
    });
    expect(withNullContext).toMatchObject({ ipAddress: null, userAgent: null, location: null });
    expect(withNullContext.targets).toEqual([{ id: 'doc_1', type: 'document', name: null, metadata: null }]);
  });

  it('keeps every field it was given', () => {
    const occurredAt = new Date(NOW.getTime() - 1000);
    const event = prepared({
      action: 'document.share_link.create',
      actor: { id: 'usr_ada', type: 'service', name: 'Ada', metadata: { plan: 'pro' } },
      targets: [{ id: 'doc_1', type: 'document', name: 'Plans', metadata: { size: 3 } }],
      context: {
        ipAddress: '2001:db8::1',
        userAgent: 'curl/8',
        location: 'London',
        requestId: 'req_1',
        sessionId: 'ses_1',
      },
      metadata: { reason: 'Sharing' },
      occurredAt,
      version: 0,
      idempotencyKey: 'k1',
    });
    expect(event).toMatchObject({
      action: 'document.share_link.create',
      actorType: 'service',
      actorName: 'Ada',
      actorMetadata: { plan: 'pro' },
      targets: [{ id: 'doc_1', type: 'document', name: 'Plans', metadata: { size: 3 } }],
      ipAddress: '2001:db8::1',
      userAgent: 'curl/8',
      location: 'London',
      requestId: 'req_1',
      sessionId: 'ses_1',
      metadata: { reason: 'Sharing' },
      occurredAt,
      version: 0,
      idempotencyKey: 'k1',
    });
  });

  it('uses the default actor type for an empty one', () => {
    expect(prepared({ actor: { id: 'usr_ada', type: '' } }).actorType).toBe('user');
  });
});

describe('action', () => {
  it.each(['user.login', 'document.share_link.create', 'a.b.c.d', 'user2.log_in9', 'u._'])(
    'accepts %s',
    (action) => {
      expect(prepared({ action }).action).toBe(action);
    },
  );

  it.each([
    'user',
    'User.login',
    'user.Login',
    '1user.login',
    '_user.login',
    'user..login',
    'user.login.',
    '.user.login',
    'user.log-in',
    'x user.login',
    'user.login x',
    'user.login\n',
    'user login',
  ])('refuses %j with the pattern it must follow', (action) => {
    expect(rejection({ action })).toEqual({
      path: ['action'],
      message: `action "${action}" must look like noun.verb: lower-case letters, digits and "_", dot-separated`,
    });
  });

  it('refuses an empty or blank action', () => {
    for (const action of ['', '   ']) {
      expect(rejection({ action })).toEqual({ path: ['action'], message: 'action must not be empty' });
    }
  });

  it(`accepts ${LIMITS.actionLength} characters and refuses one more`, () => {
    const longest = `a.${text(LIMITS.actionLength - 2)}`;
    expect(prepared({ action: longest }).action).toBe(longest);
    expect(rejection({ action: `${longest}x` })).toEqual({
      path: ['action'],
      message: `action is ${LIMITS.actionLength + 1} characters long; the limit is ${LIMITS.actionLength}`,
    });
  });
});

describe('actor', () => {
  it('refuses a blank id', () => {
    expect(rejection({ actor: { id: ' \t' } })).toEqual({
      path: ['actor', 'id'],
      message: 'actor.id must not be empty',
    });
  });

  it.each(['id', 'type', 'name'] as const)(`limits actor.%s to ${LIMITS.textLength} characters`, (field) => {
    const actor = { id: 'usr_ada', [field]: text(LIMITS.textLength) };
    expect(prepared({ actor }).actorId).toBe(actor.id);
    expect(rejection({ actor: { ...actor, [field]: text(LIMITS.textLength + 1) } })).toEqual({
      path: ['actor', field],
      message: `actor.${field} is ${LIMITS.textLength + 1} characters long; the limit is ${LIMITS.textLength}`,
    });
  });

  it.each([
    ['a string', 'plan'],
    ['a number', 3],
    ['a boolean', false],
    ['an array', [{ plan: 'pro' }]],
  ])('refuses %s as actor metadata', (_, metadata) => {
    expect(rejection({ actor: { id: 'usr_ada', metadata } })).toEqual({
      path: ['actor', 'metadata'],
      message: 'actor.metadata must be a JSON object',
    });
  });
});

describe('targets', () => {
  const target = (i: number) => ({ id: `doc_${i}`, type: 'document' });

  it(`accepts ${LIMITS.targets} targets and refuses one more`, () => {
    const most = Array.from({ length: LIMITS.targets }, (_, i) => target(i));
    expect(prepared({ targets: most }).targets).toHaveLength(LIMITS.targets);
    expect(rejection({ targets: [...most, target(LIMITS.targets)] })).toEqual({
      path: ['targets'],
      message: `at most ${LIMITS.targets} targets per event`,
    });
  });

  it('names the target and field at fault', () => {
    const targets = [
      target(0),
      target(1),
      { id: 'doc_2', type: 'document', name: text(LIMITS.textLength + 1) },
    ];
    expect(rejection({ targets })).toEqual({
      path: ['targets', '2', 'name'],
      message: `targets.2.name is ${LIMITS.textLength + 1} characters long; the limit is ${LIMITS.textLength}`,
    });
    expect(rejection({ targets: [target(0), { id: ' ', type: 'document' }] })).toEqual({
      path: ['targets', '1', 'id'],
      message: 'targets.1.id must not be empty',
    });
    expect(rejection({ targets: [{ id: 'doc_0', type: '' }] })).toEqual({
      path: ['targets', '0', 'type'],
      message: 'targets.0.type must not be empty',
    });
    expect(rejection({ targets: [{ id: text(LIMITS.textLength + 1), type: 'document' }] }).path).toEqual([
      'targets',
      '0',
      'id',
    ]);
    expect(rejection({ targets: [{ id: 'doc_0', type: text(LIMITS.textLength + 1) }] }).path).toEqual([
      'targets',
      '0',
      'type',
    ]);
    expect(rejection({ targets: [{ ...target(0), metadata: 'scalar' }] })).toEqual({
      path: ['targets', '0', 'metadata'],
      message: 'targets.0.metadata must be a JSON object',
    });
  });
});

describe('context', () => {
  it.each([
    ['location', LIMITS.textLength],
    ['requestId', LIMITS.textLength],
    ['sessionId', LIMITS.textLength],
    ['userAgent', LIMITS.userAgentLength],
  ] as const)('limits context.%s to %i characters', (field, limit) => {
    expect(prepared({ context: { [field]: text(limit) } })[field]).toBe(text(limit));
    expect(rejection({ context: { [field]: text(limit + 1) } })).toEqual({
      path: ['context', field],
      message: `context.${field} is ${limit + 1} characters long; the limit is ${limit}`,
    });
  });

  it('accepts IPv4 and IPv6 addresses and refuses anything else', () => {
    expect(prepared({ context: { ipAddress: '203.0.113.7' } }).ipAddress).toBe('203.0.113.7');
    for (const ipAddress of ['', 'localhost', '203.0.113.256', '2001:db8::1/64']) {
      expect(rejection({ context: { ipAddress } })).toEqual({
        path: ['context', 'ipAddress'],
        message: `context.ipAddress "${ipAddress}" is not an IPv4 or IPv6 address`,
      });
    }
  });
});

describe('occurredAt, version and idempotencyKey', () => {
  it('accepts up to five minutes in the future, not a millisecond more', () => {
    const latest = new Date(NOW.getTime() + LIMITS.futureSkewMs);
    expect(prepared({ occurredAt: latest }).occurredAt).toEqual(latest);
    const tooLate = new Date(latest.getTime() + 1);
    expect(rejection({ occurredAt: tooLate })).toEqual({
      path: ['occurredAt'],
      message: `occurredAt ${tooLate.toISOString()} is more than 5 minutes in the future`,
    });
  });

  it('refuses an invalid time', () => {
    expect(rejection({ occurredAt: new Date(Number.NaN) })).toEqual({
      path: ['occurredAt'],
      message: 'occurredAt is not a valid time',
    });
  });

  it('accepts version zero and refuses a negative one', () => {
    expect(prepared({ version: 0 }).version).toBe(0);
    expect(prepared({ version: 7 }).version).toBe(7);
    expect(rejection({ version: -1 })).toEqual({
      path: ['version'],
      message: 'version must be zero or positive',
    });
  });

  it('refuses a blank or over-long idempotency key', () => {
    for (const idempotencyKey of ['', '  ']) {
      expect(rejection({ idempotencyKey })).toEqual({
        path: ['idempotencyKey'],
        message: 'idempotencyKey must not be empty',
      });
    }
    expect(prepared({ idempotencyKey: text(LIMITS.textLength) }).idempotencyKey).toBe(
      text(LIMITS.textLength),
    );
    expect(rejection({ idempotencyKey: text(LIMITS.textLength + 1) })).toEqual({
      path: ['idempotencyKey'],
      message: `idempotencyKey is ${LIMITS.textLength + 1} characters long; the limit is ${LIMITS.textLength}`,
    });
  });
});

describe('metadata', () => {
  it('refuses a value that is not an object', () => {
    for (const metadata of ['text', 0, true, []]) {
      expect(rejection({ metadata })).toEqual({
        path: ['metadata'],
        message: 'metadata must be a JSON object',
      });
    }
  });

  it(`accepts ${LIMITS.metadataBytes} bytes of JSON and refuses one more`, () => {
    // {"a":"…"} is 8 bytes around the string; "é" is two bytes in UTF-8, so bytes, not characters, count.
    const fits = { a: 'é'.repeat((LIMITS.metadataBytes - 8) / 2) };
    expect(prepared({ metadata: fits }).metadata).toBe(fits);
    const over = { a: `${fits.a}x` };
    expect(rejection({ metadata: over })).toEqual({
      path: ['metadata'],
      message: `metadata is ${LIMITS.metadataBytes + 1} bytes of JSON; the limit is ${LIMITS.metadataBytes}`,
    });
  });

  it(`accepts ${LIMITS.metadataDepth} levels of nesting and refuses one more`, () => {
    const nested = (levels: number, leaf: unknown): unknown =>
      levels === 0 ? leaf : { k: nested(levels - 1, leaf) };
    expect(prepared({ metadata: nested(LIMITS.metadataDepth, 1) as object }).metadata).toBeTruthy();
    // Arrays count as a level too, and the deepest branch decides, not the first one.
    const deepInArray = { a: 1, b: [nested(LIMITS.metadataDepth - 1, 1)] };
    for (const metadata of [nested(LIMITS.metadataDepth + 1, 1), deepInArray]) {
      expect(rejection({ metadata })).toEqual({
        path: ['metadata'],
        message: `metadata: nests deeper than ${LIMITS.metadataDepth} levels`,
      });
    }
    expect(rejection({ actor: { id: 'usr_ada', metadata: deepInArray } })).toEqual({
      path: ['actor', 'metadata'],
      message: `actor.metadata: nests deeper than ${LIMITS.metadataDepth} levels`,
    });
    const tooBig = { a: 'x'.repeat(LIMITS.metadataBytes) };
    expect(rejection({ targets: [{ id: 'doc_1', type: 'document', metadata: tooBig }] })).toEqual({
      path: ['targets', '0', 'metadata'],
      message: `targets.0.metadata is ${LIMITS.metadataBytes + 8} bytes of JSON; the limit is ${LIMITS.metadataBytes}`,
    });
    expect(prepared({ metadata: { a: { b: null }, c: [[1]] } }).metadata).toEqual({
      a: { b: null },
      c: [[1]],
    });
  });
});

describe('search text', () => {
  it('holds the action, actor, targets and metadata leaves, lower-cased, one per line', () => {
    const event = prepared({
      action: 'user.login',
      actor: { id: 'USR_Ada', name: 'Ada Lovelace' },
      targets: [
        { id: 'doc_1', type: 'document', name: 'Plans' },
        { id: 'doc_2', type: 'document' },
      ],
      metadata: { reason: 'Bad Password', tries: [3, { last: true }], none: null, gone: undefined },
    });
    expect(event.searchText).toBe(
      ['user.login', 'usr_ada', 'ada lovelace', 'doc_1', 'plans', 'doc_2', 'bad password', '3', 'true'].join(
        '\n',
      ),
    );
  });
});

describe('payload hash of a keyed event', () => {
  const keyed = (overrides: Partial<EmitEventInput>) =>
    prepared({ idempotencyKey: 'k1', metadata: { b: 1, a: [1, 'x'] }, ...overrides }).payloadHash;

  it('is the base64url SHA-256 of the payload', () => {
    expect(keyed({})).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('ignores key order, the key itself, the organization and undefined fields', () => {
    const base = keyed({});
    expect(keyed({ metadata: { a: [1, 'x'], b: 1 } })).toBe(base);
    expect(keyed({ idempotencyKey: 'k2' })).toBe(base);
    expect(keyed({ organizationId: 'org_other' })).toBe(base);
    expect(keyed({ metadata: { b: 1, a: [1, 'x'], gone: undefined } })).toBe(base);
  });

  it('sorts keys at every level, and writes undefined array entries as null like JSON does', () => {
    const ordered = { a: 1, b: { c: 2, d: [3, { e: 4, f: 5 }] }, g: [1, null] };
    const base = keyed({ metadata: ordered });
    expect(keyed({ metadata: { g: [1, null], b: { d: [3, { f: 5, e: 4 }], c: 2 }, a: 1 } })).toBe(base);
    expect(keyed({ metadata: { b: { c: 2, d: [3, { e: 4, f: 5 }] }, a: 1, g: [1, undefined] } })).toBe(base);
    expect(keyed({ metadata: { a: 1, b: { c: 2, d: [3, { e: 4, f: 5 }] }, g: [1] } })).not.toBe(base);
    expect(keyed({ metadata: { a: 1, b: { c: 2, d: [{ e: 4, f: 5 }, 3] }, g: [1, null] } })).not.toBe(base);
    expect(keyed({ metadata: { a: 1, b: { c: 2, d: [3, { e: 4, f: 5 }] }, g: [1, 'null'] } })).not.toBe(base);
  });

  it('is the same for every order of the keys', () => {
    const entries = Object.entries({ d: 4, b: 2, a: 1, c: 3 });
    const permutations = (list: typeof entries): (typeof entries)[] =>
      list.length <= 1
        ? [list]
        : list.flatMap((entry, i) =>
            permutations([...list.slice(0, i), ...list.slice(i + 1)]).map((rest) => [entry, ...rest]),
          );
    const hashes = permutations(entries).map((order) => keyed({ metadata: Object.fromEntries(order) }));
    expect(hashes).toHaveLength(24);
    expect(new Set(hashes).size).toBe(1);
  });

  it('keeps array elements apart', () => {
    expect(keyed({ metadata: { a: [12] } })).not.toBe(keyed({ metadata: { a: [1, 2] } }));
  });

  it('changes with anything else the app sent', () => {
    const base = keyed({});
    const others = [
      keyed({ metadata: { b: 1, a: ['x', 1] } }),
      keyed({ metadata: { b: 2, a: [1, 'x'] } }),
      keyed({ metadata: { b: 1, a: [1, 'x'], c: null } }),
      keyed({ metadata: { b: '1', a: [1, 'x'] } }),
      keyed({ action: 'user.logout' }),
      keyed({ occurredAt: new Date(NOW.getTime() - 1) }),
      keyed({ occurredAt: NOW }),
      keyed({ actor: { id: 'usr_bob' } }),
    ];
    expect(new Set([base, ...others]).size).toBe(others.length + 1);
  });

  it('hashes times by their instant', () => {
    const at = new Date('2024-01-01T00:00:00.000Z');
    expect(keyed({ occurredAt: at })).toBe(keyed({ occurredAt: new Date(at.getTime()) }));
    expect(keyed({ occurredAt: at })).not.toBe(keyed({ metadata: { b: 1, a: [1, 'x'] }, occurredAt: null }));
  });
});

describe('faults that are not input problems', () => {
  it('throws them instead of reporting a bad input', () => {
    expect(() => prepareEvent({ action: 'user.login' } as EmitEventInput, IDS, NOW)).toThrow(TypeError);
  });
});
