import type { AuditEvent, EventActor, EventContext, EventTarget } from '../events/event.ts';
import { utf8Encode } from './bytes.ts';
import { canonicalize } from './canonical-json.ts';
import { leafHash } from './merkle.ts';

/**
 * The bytes a Merkle leaf commits to for one event: the RFC 8785 canonical JSON, UTF-8 encoded, of the
 * event's public shape. Exports carry that same JSON object, so an offline verifier can rebuild the bytes.
 * Changing this shape changes every leaf; it is a versioned wire format, not an implementation detail.
 */

export interface PublicEventJson {
  id: string;
  organizationId: string;
  action: string;
  actor: PublicEntityJson;
  targets: PublicEntityJson[];
  context: EventContext;
  metadata: Record<string, unknown>;
  /** ISO 8601 UTC with milliseconds, e.g. `2024-05-01T12:00:00.000Z`. */
  occurredAt: string;
  receivedAt: string;
  version: number | null;
  idempotencyKey: string | null;
}

export interface PublicEntityJson {
  id: string;
  type: string;
  name: string | null;
  metadata: Record<string, unknown> | null;
}

const ISO_MILLIS_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

export function eventPublicJson(event: AuditEvent): PublicEventJson {
  return {
    id: event.id,
    organizationId: event.organizationId,
    action: event.action,
    actor: entityJson(event.actor),
    targets: event.targets.map(entityJson),
    context: {
      ipAddress: event.context.ipAddress,
      userAgent: event.context.userAgent,
      location: event.context.location,
      requestId: event.context.requestId,
      sessionId: event.context.sessionId,
    },
    metadata: event.metadata,
    occurredAt: isoMillis(event.occurredAt, 'occurredAt'),
    receivedAt: isoMillis(event.receivedAt, 'receivedAt'),
    version: event.version,
    idempotencyKey: event.idempotencyKey,
  };
}

export function eventLeafBytes(event: AuditEvent): Uint8Array {
  return utf8Encode(canonicalize(eventPublicJson(event)));
}

export function eventLeafHash(event: AuditEvent): Uint8Array {
  return leafHash(eventLeafBytes(event));
}

function entityJson(entity: EventActor | EventTarget): PublicEntityJson {
  return { id: entity.id, type: entity.type, name: entity.name, metadata: entity.metadata };
}

function isoMillis(date: Date, field: string): string {
  const text = Number.isNaN(date.getTime()) ? '' : date.toISOString();
  // toISOString switches to ±YYYYYY outside years 0000–9999, which the parser below would not accept back.
  if (!ISO_MILLIS_UTC.test(text)) throw new RangeError(`${field} is not a date representable in the leaf`);
  return text;
}

// ---------------------------------------------------------------------------------------------------------
// Parsing back, strictly: a field the leaf does not cover, or a value that would re-serialize differently,
// would make the verifier vouch for something the log never committed to.

export class EventJsonError extends Error {
  constructor(
    readonly path: string,
    problem: string,
  ) {
    super(`event JSON: ${problem} at ${path}`);
    this.name = 'EventJsonError';
  }
}

const EVENT_KEYS = [
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
] as const;
const ENTITY_KEYS = ['id', 'type', 'name', 'metadata'] as const;
const CONTEXT_KEYS = ['ipAddress', 'userAgent', 'location', 'requestId', 'sessionId'] as const;

export function eventFromPublicJson(json: unknown): AuditEvent {
  const event = record(json, '$', EVENT_KEYS);
  const targets = event.targets;
  if (!Array.isArray(targets)) throw new EventJsonError('$.targets', 'expected an array');
  const context = record(event.context, '$.context', CONTEXT_KEYS);
  return {
    id: string(event.id, '$.id'),
    organizationId: string(event.organizationId, '$.organizationId'),
    action: string(event.action, '$.action'),
    actor: entityFromJson(event.actor, '$.actor'),
    targets: targets.map((target, i) => entityFromJson(target, `$.targets[${i}]`)),
    context: {
      ipAddress: nullableString(context.ipAddress, '$.context.ipAddress'),
      userAgent: nullableString(context.userAgent, '$.context.userAgent'),
      location: nullableString(context.location, '$.context.location'),
      requestId: nullableString(context.requestId, '$.context.requestId'),
      sessionId: nullableString(context.sessionId, '$.context.sessionId'),
    },
    metadata: jsonObject(event.metadata, '$.metadata'),
    occurredAt: date(event.occurredAt, '$.occurredAt'),
    receivedAt: date(event.receivedAt, '$.receivedAt'),
    version: nullableNumber(event.version, '$.version'),
    idempotencyKey: nullableString(event.idempotencyKey, '$.idempotencyKey'),
  };
}

function entityFromJson(json: unknown, path: string): EventActor {
  const entity = record(json, path, ENTITY_KEYS);
  return {
    id: string(entity.id, `${path}.id`),
    type: string(entity.type, `${path}.type`),
    name: nullableString(entity.name, `${path}.name`),
    metadata: entity.metadata === null ? null : jsonObject(entity.metadata, `${path}.metadata`),
  };
}

/** An object with exactly these keys: missing ones are errors (nulls are kept, never omitted), extra ones too. */
function record<K extends string>(json: unknown, path: string, keys: readonly K[]): Record<K, unknown> {
  const object = jsonObject(json, path);
  for (const key of keys) {
    if (!Object.hasOwn(object, key)) throw new EventJsonError(path, `missing field "${key}"`);
  }
  const unexpected = Object.keys(object).find((key) => !(keys as readonly string[]).includes(key));
  if (unexpected !== undefined) throw new EventJsonError(path, `unexpected field "${unexpected}"`);
  return object as Record<K, unknown>;
}

function jsonObject(json: unknown, path: string): Record<string, unknown> {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new EventJsonError(path, 'expected an object');
  }
  return json as Record<string, unknown>;
}

function string(json: unknown, path: string): string {
  if (typeof json !== 'string') throw new EventJsonError(path, 'expected a string');
  return json;
}

function nullableString(json: unknown, path: string): string | null {
  return json === null ? null : string(json, path);
}

function nullableNumber(json: unknown, path: string): number | null {
  if (json === null) return null;
  if (typeof json !== 'number' || !Number.isFinite(json)) throw new EventJsonError(path, 'expected a number');
  return json;
}

function date(json: unknown, path: string): Date {
  const text = string(json, path);
  const parsed = new Date(text);
  // The round trip rejects impossible dates like 2024-02-30, which Date would otherwise roll over.
  if (!ISO_MILLIS_UTC.test(text) || Number.isNaN(parsed.getTime()) || parsed.toISOString() !== text) {
    throw new EventJsonError(path, 'expected an ISO 8601 UTC timestamp with milliseconds');
  }
  return parsed;
}
