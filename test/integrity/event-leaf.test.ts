import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/events/event.ts';
import { toHex } from '../../src/integrity/bytes.ts';
import {
  EventJsonError,
  eventFromPublicJson,
  eventLeafBytes,
  eventLeafHash,
  eventPublicJson,
  type PublicEventJson,
} from '../../src/integrity/event-leaf.ts';
import { sampleEvent } from './fixtures.ts';

// Written out by hand: the leaf format is a wire format, so any change to it must show up here.
const GOLDEN =
  '{"action":"user.login_failed",' +
  '"actor":{"id":"user_1","metadata":{"role":"admin"},"name":"Ada Lovelace","type":"user"},' +
  '"context":{"ipAddress":"203.0.113.7","location":null,"requestId":"req_1","sessionId":null,"userAgent":"Mozilla/5.0"},' +
  '"id":"evt_00000000000000000000000000000001","idempotencyKey":null,' +
  '"metadata":{"attempt":1,"reason":"bad_password","tags":["mfa","sso"]},' +
  '"occurredAt":"2024-05-01T12:00:00.001Z","organizationId":"org_0190a1b2c3d4e5f60718293a4b5c6d7e",' +
  '"receivedAt":"2024-05-01T12:00:01.001Z",' +
  '"targets":[{"id":"doc_1","metadata":null,"name":null,"type":"document"},' +
  '{"id":"team_7","metadata":{"size":12},"name":"Core","type":"team"}],"version":1}';

const roundTrip = (event: AuditEvent) =>
  eventFromPublicJson(JSON.parse(JSON.stringify(eventPublicJson(event))));

describe('eventLeafBytes', () => {
  it('is the canonical JSON of the public shape, nulls kept, times in UTC with milliseconds', () => {
    expect(new TextDecoder().decode(eventLeafBytes(sampleEvent(1)))).toBe(GOLDEN);
  });

  it('hashes as an RFC 6962 leaf', () => {
    const expected = createHash('sha256')
      .update(Buffer.from([0]))
      .update(GOLDEN)
      .digest('hex');
    expect(toHex(eventLeafHash(sampleEvent(1)))).toBe(expected);
  });

  it('covers only the public fields, whatever else the object carries', () => {
    const withInternals = Object.assign(sampleEvent(1), { sequence: 42, sealedAt: new Date() });
    expect(eventLeafBytes(withInternals)).toEqual(eventLeafBytes(sampleEvent(1)));
    const actor = Object.assign(sampleEvent(1).actor, { internalId: 7 });
    expect(eventLeafBytes(sampleEvent(1, { actor }))).toEqual(eventLeafBytes(sampleEvent(1)));
  });

  it('does not depend on the key order of metadata', () => {
    const a = sampleEvent(1, { metadata: { x: 1, y: { b: 2, a: 1 } } });
    const b = sampleEvent(1, { metadata: { y: { a: 1, b: 2 }, x: 1 } });
    expect(eventLeafBytes(a)).toEqual(eventLeafBytes(b));
  });

  it('changes when any field changes', () => {
    const base = eventLeafBytes(sampleEvent(1));
    const variants: Partial<AuditEvent>[] = [
      { id: 'evt_x' },
      { action: 'user.login' },
      { metadata: {} },
      { version: null },
      { idempotencyKey: 'k' },
      { occurredAt: new Date(Date.UTC(2024, 4, 1, 12, 0, 0, 2)) },
      { targets: [] },
      { context: { ...sampleEvent(1).context, location: 'Paris' } },
    ];
    for (const variant of variants) expect(eventLeafBytes(sampleEvent(1, variant))).not.toEqual(base);
  });

  it('refuses invalid dates and values JSON cannot represent', () => {
    expect(() => eventLeafBytes(sampleEvent(1, { occurredAt: new Date(Number.NaN) }))).toThrow(/occurredAt/);
    expect(() => eventLeafBytes(sampleEvent(1, { receivedAt: new Date('+010000-01-01T00:00:00Z') }))).toThrow(
      /receivedAt/,
    );
    expect(() => eventLeafBytes(sampleEvent(1, { metadata: { n: Number.NaN } }))).toThrow(/\$\.metadata\.n/);
  });
});

describe('eventFromPublicJson', () => {
  it('rebuilds the event exactly', () => {
    expect(roundTrip(sampleEvent(1))).toEqual(sampleEvent(1));
  });

  it('rebuilds events whose leaf bytes are identical to the original, for any event', () => {
    const nullable = (arb: fc.Arbitrary<string>) => fc.option(arb, { nil: null });
    const metadata = fc.dictionary(fc.string(), fc.jsonValue());
    const entity = fc.record({
      id: fc.string(),
      type: fc.string(),
      name: nullable(fc.string()),
      metadata: fc.option(metadata, { nil: null }),
    });
    const date = fc.date({
      min: new Date('0000-01-01T00:00:00.000Z'),
      max: new Date('9999-12-31T23:59:59.999Z'),
      noInvalidDate: true,
    });
    const event: fc.Arbitrary<AuditEvent> = fc.record({
      id: fc.string(),
      organizationId: fc.string(),
      action: fc.string(),
      actor: entity,
      targets: fc.array(entity, { maxLength: 3 }),
      context: fc.record({
        ipAddress: nullable(fc.string()),
        userAgent: nullable(fc.string()),
        location: nullable(fc.string()),
        requestId: nullable(fc.string()),
        sessionId: nullable(fc.string()),
      }),
      metadata,
      occurredAt: date,
      receivedAt: date,
      version: fc.option(fc.integer(), { nil: null }),
      idempotencyKey: nullable(fc.string()),
    });
    fc.assert(
      fc.property(event, (original) => {
        expect(eventLeafBytes(roundTrip(original))).toEqual(eventLeafBytes(original));
      }),
    );
  });

  const valid = (): PublicEventJson => JSON.parse(JSON.stringify(eventPublicJson(sampleEvent(1))));
  const set = (target: object, values: Record<string, unknown>) => Object.assign(target, values);

  it.each<[string, (json: PublicEventJson) => unknown, RegExp]>([
    [
      'a missing field',
      (json) => Reflect.deleteProperty(json, 'idempotencyKey'),
      /missing field "idempotencyKey" at \$/,
    ],
    [
      'an omitted null',
      (json) => Reflect.deleteProperty(json.context, 'location'),
      /missing field "location" at \$\.context/,
    ],
    ['an unknown field', (json) => set(json, { proof: {} }), /unexpected field "proof" at \$/],
    [
      'an unknown nested field',
      (json) => set(json.targets[1]!, { extra: 1 }),
      /unexpected field "extra" at \$\.targets\[1\]/,
    ],
    ['a wrong type', (json) => set(json, { version: '1' }), /expected a number at \$\.version/],
    [
      'metadata that is not an object',
      (json) => set(json, { metadata: [] }),
      /expected an object at \$\.metadata/,
    ],
    [
      'a null top-level metadata',
      (json) => set(json, { metadata: null }),
      /expected an object at \$\.metadata/,
    ],
    [
      'targets that are not an array',
      (json) => set(json, { targets: {} }),
      /expected an array at \$\.targets/,
    ],
    [
      'a timestamp without milliseconds',
      (json) => set(json, { occurredAt: '2024-05-01T12:00:00Z' }),
      /\$\.occurredAt/,
    ],
    [
      'a timestamp with an offset',
      (json) => set(json, { occurredAt: '2024-05-01T12:00:00.000+00:00' }),
      /occurredAt/,
    ],
    ['an impossible date', (json) => set(json, { receivedAt: '2024-02-30T12:00:00.000Z' }), /\$\.receivedAt/],
  ])('rejects %s', (_, mutate, message) => {
    const json = valid();
    mutate(json);
    expect(() => eventFromPublicJson(json)).toThrow(EventJsonError);
    expect(() => eventFromPublicJson(json)).toThrow(message);
  });

  it('rejects non-objects', () => {
    for (const json of [null, 1, 'x', []])
      expect(() => eventFromPublicJson(json)).toThrow(/expected an object at \$/);
  });
});
