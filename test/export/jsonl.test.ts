import { describe, expect, it } from 'vitest';
import { toJsonLine } from '../../src/export/formats/jsonl.ts';
import { eventWith, FIXTURES } from './fixtures.ts';

describe('toJsonLine', () => {
  it('writes the public fields in their documented order', () => {
    expect(Object.keys(JSON.parse(toJsonLine(FIXTURES.failedLogin)))).toEqual([
      'id',
      'organizationId',
      'action',
      'actor',
      'targets',
      'context',
      'metadata',
      'occurredAt',
      'receivedAt',
      'version',
      'idempotencyKey',
    ]);
  });

  it('writes timestamps as ISO 8601 UTC with milliseconds', () => {
    const event = eventWith({
      occurredAt: new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 0)),
      receivedAt: new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 60)),
    });
    const parsed = JSON.parse(toJsonLine(event));
    expect(parsed.occurredAt).toBe('2024-01-02T03:04:05.000Z');
    expect(parsed.receivedAt).toBe('2024-01-02T03:04:05.060Z');
  });

  it('keeps nulls, so every line has the same keys', () => {
    const parsed = JSON.parse(toJsonLine(FIXTURES.userCreated));
    expect(parsed.version).toBeNull();
    expect(parsed.idempotencyKey).toBeNull();
    expect(parsed.context).toEqual({
      ipAddress: null,
      userAgent: null,
      location: null,
      requestId: null,
      sessionId: null,
    });
  });

  it('appends extra fields after the event fields', () => {
    const line = toJsonLine(FIXTURES.userCreated, { proof: { leaf: 'ab', path: [] } });
    expect(Object.keys(JSON.parse(line)).at(-1)).toBe('proof');
    expect(line.endsWith('"idempotencyKey":null,"proof":{"leaf":"ab","path":[]}}')).toBe(true);
  });

  it('refuses extra fields that would replace event fields', () => {
    expect(() => toJsonLine(FIXTURES.userCreated, { id: 'forged' })).toThrow(/"id"/);
  });

  it('escapes line breaks, so one event stays on one line', () => {
    expect(toJsonLine(FIXTURES.failedLogin)).not.toMatch(/[\r\n]/);
  });
});
