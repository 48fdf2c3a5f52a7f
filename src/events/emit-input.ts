import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { jsonProblem, unstorableText } from './input-checks.ts';
import {
  EARLIEST_OCCURRED_AT,
  MAX_ACTION_LENGTH,
  MAX_EVENTS_PER_BATCH,
  MAX_FUTURE_SKEW_MS,
  MAX_IP_ADDRESS_LENGTH,
  MAX_METADATA_BYTES,
  MAX_METADATA_DEPTH,
  MAX_TARGETS_PER_EVENT,
  MAX_TEXT_LENGTH,
  MAX_USER_AGENT_LENGTH,
} from './input-limits.ts';

/** What an app sends for one event (the GraphQL `EmitEventInput`, already coerced). */
export interface EmitEventInput {
  action: string;
  actor: { id: string; type?: string | null; name?: string | null; metadata?: unknown };
  targets?: { id: string; type: string; name?: string | null; metadata?: unknown }[] | null;
  context?: {
    ipAddress?: string | null;
    userAgent?: string | null;
    location?: string | null;
    requestId?: string | null;
    sessionId?: string | null;
  } | null;
  metadata?: unknown;
  occurredAt?: Date | null;
  version?: number | null;
  idempotencyKey?: string | null;
  organizationId?: string | null;
}

export interface InputError {
  code: 'BAD_USER_INPUT' | 'FORBIDDEN' | 'IDEMPOTENCY_CONFLICT';
  message: string;
  path: string[];
}

/** The emit bounds of input-limits.ts under their historical names. */
export const LIMITS = {
  actionLength: MAX_ACTION_LENGTH,
  textLength: MAX_TEXT_LENGTH,
  userAgentLength: MAX_USER_AGENT_LENGTH,
  ipAddressLength: MAX_IP_ADDRESS_LENGTH,
  targets: MAX_TARGETS_PER_EVENT,
  metadataBytes: MAX_METADATA_BYTES,
  metadataDepth: MAX_METADATA_DEPTH,
  futureSkewMs: MAX_FUTURE_SKEW_MS,
  batchSize: MAX_EVENTS_PER_BATCH,
} as const;

export const ACTION_PATTERN = /^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$/;

class InputProblem extends Error {
  constructor(
    message: string,
    readonly path: string[],
  ) {
    super(message);
  }
}

const fail = (path: string[], message: string): never => {
  throw new InputProblem(message, path);
};

function optionalText(value: string | null | undefined, path: string[], max: number): string | null {
  if (value === null || value === undefined) return null;
  if (value.length > max)
    fail(path, `${path.join('.')} is ${value.length} characters long; the limit is ${max}`);
  const unstorable = unstorableText(value);
  if (unstorable) fail(path, `${path.join('.')} ${unstorable}`);
  return value;
}

function requiredText(value: string, path: string[], max: number): string {
  if (value.trim() === '') fail(path, `${path.join('.')} must not be empty`);
  return optionalText(value, path, max)!;
}

function jsonObject(value: unknown, path: string[], required: boolean): Record<string, unknown> | null {
  if (value === null || value === undefined) return required ? {} : null;
  if (typeof value !== 'object' || Array.isArray(value))
    fail(path, `${path.join('.')} must be a JSON object`);
  // Shape first: it never recurses, and once the depth is bounded JSON.stringify cannot overflow.
  const problem = jsonProblem(value, LIMITS.metadataDepth);
  if (problem) {
    const where = problem.at.length > 0 ? ` (at ${[...path, ...problem.at].join('.')})` : '';
    fail([...path, ...problem.at], `${path.join('.')}: ${problem.reason}${where}`);
  }
  const bytes = Buffer.byteLength(JSON.stringify(value));
  if (bytes > LIMITS.metadataBytes) {
    fail(path, `${path.join('.')} is ${bytes} bytes of JSON; the limit is ${LIMITS.metadataBytes}`);
  }
  return value as Record<string, unknown>;
}

/** Sorted-key JSON, so two payloads that differ only in key order hash the same. */
function stableJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, child]) => child !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([key, child]) => `${JSON.stringify(key)}:${stableJson(child)}`).join(',')}}`;
}

/** A validated event, ready for the writer; ids and times are final except receivedAt (set at commit). */
export interface PreparedEvent {
  id: string;
  organizationId: string;
  action: string;
  actorId: string;
  actorType: string;
  actorName: string | null;
  actorMetadata: Record<string, unknown> | null;
  targets: { id: string; type: string; name: string | null; metadata: Record<string, unknown> | null }[];
  ipAddress: string | null;
  userAgent: string | null;
  location: string | null;
  requestId: string | null;
  sessionId: string | null;
  metadata: Record<string, unknown>;
  occurredAt: Date;
  version: number | null;
  idempotencyKey: string | null;
  /** Hash of what the app sent, to tell a retry (same payload) from a conflict (same key, other payload). */
  payloadHash: string;
  searchText: string;
}

function collectSearchWords(value: unknown, into: string[]): void {
  if (value === null || value === undefined) return;
  if (typeof value === 'object') {
    for (const child of Array.isArray(value) ? value : Object.values(value)) collectSearchWords(child, into);
  } else {
    into.push(String(value));
  }
}

function searchTextOf(event: Omit<PreparedEvent, 'searchText' | 'payloadHash'>): string {
  const words = [event.action, event.actorId, event.actorName ?? ''];
  for (const target of event.targets) words.push(target.id, target.name ?? '');
  collectSearchWords(event.metadata, words);
  return words.filter(Boolean).join('\n').toLowerCase();
}

function checkedIpAddress(value: string | null): string | null {
  if (value === null) return null;
  const path = ['context', 'ipAddress'];
  optionalText(value, path, LIMITS.ipAddressLength);
  // node:net accepts zone ids (fe80::1%eth0); PostgreSQL's inet type does not, and they mean nothing
  // outside the host that sent them.
  if (value.includes('%') && isIP(value) === 6) {
    fail(path, `context.ipAddress "${value}" has an IPv6 zone id ("%…"); send the address without it`);
  }
  if (isIP(value) === 0) fail(path, `context.ipAddress "${value}" is not an IPv4 or IPv6 address`);
  return value;
}

/**
 * Validates one input. Returns the prepared event or the first problem, with the path of the field
 * at fault relative to the input (callers prefix it with `input` or the batch index).
 */
export function prepareEvent(
  input: EmitEventInput,
  ids: { id: string; organizationId: string },
  now: Date,
): { ok: true; event: PreparedEvent } | { ok: false; error: InputError } {
  try {
    return { ok: true, event: prepare(input, ids, now) };
  } catch (error) {
    if (error instanceof InputProblem) {
      return { ok: false, error: { code: 'BAD_USER_INPUT', message: error.message, path: error.path } };
    }
    throw error;
  }
}

function prepare(
  input: EmitEventInput,
  ids: { id: string; organizationId: string },
  now: Date,
): PreparedEvent {
  const action = requiredText(input.action, ['action'], LIMITS.actionLength);
  if (!ACTION_PATTERN.test(action)) {
    fail(
      ['action'],
      `action "${action}" must look like noun.verb: lower-case letters, digits and "_", dot-separated`,
    );
  }
  const actor = input.actor;
  const targets = input.targets ?? [];
  if (targets.length > LIMITS.targets) fail(['targets'], `at most ${LIMITS.targets} targets per event`);
  const ipAddress = checkedIpAddress(input.context?.ipAddress ?? null);
  const occurredAt = input.occurredAt ?? now;
  if (Number.isNaN(occurredAt.getTime())) fail(['occurredAt'], 'occurredAt is not a valid time');
  if (occurredAt.getTime() < EARLIEST_OCCURRED_AT.getTime()) {
    fail(
      ['occurredAt'],
      `occurredAt ${occurredAt.toISOString()} is before ${EARLIEST_OCCURRED_AT.toISOString()}, the earliest accepted`,
    );
  }
  if (occurredAt.getTime() > now.getTime() + LIMITS.futureSkewMs) {
    fail(
      ['occurredAt'],
      `occurredAt ${occurredAt.toISOString()} is more than ${LIMITS.futureSkewMs / 60_000} minutes in the future`,
    );
  }
  if (input.version !== null && input.version !== undefined && input.version < 0) {
    fail(['version'], 'version must be zero or positive');
  }
  const idempotencyKey = optionalText(input.idempotencyKey, ['idempotencyKey'], LIMITS.textLength);
  if (idempotencyKey !== null && idempotencyKey.trim() === '')
    fail(['idempotencyKey'], 'idempotencyKey must not be empty');

  const prepared = {
    id: ids.id,
    organizationId: ids.organizationId,
    action,
    actorId: requiredText(actor.id, ['actor', 'id'], LIMITS.textLength),
    actorType: optionalText(actor.type, ['actor', 'type'], LIMITS.textLength) || 'user',
    actorName: optionalText(actor.name, ['actor', 'name'], LIMITS.textLength),
    actorMetadata: jsonObject(actor.metadata, ['actor', 'metadata'], false),
    targets: targets.map((target, index) => ({
      id: requiredText(target.id, ['targets', String(index), 'id'], LIMITS.textLength),
      type: requiredText(target.type, ['targets', String(index), 'type'], LIMITS.textLength),
      name: optionalText(target.name, ['targets', String(index), 'name'], LIMITS.textLength),
      metadata: jsonObject(target.metadata, ['targets', String(index), 'metadata'], false),
    })),
    ipAddress,
    userAgent: optionalText(input.context?.userAgent, ['context', 'userAgent'], LIMITS.userAgentLength),
    location: optionalText(input.context?.location, ['context', 'location'], LIMITS.textLength),
    requestId: optionalText(input.context?.requestId, ['context', 'requestId'], LIMITS.textLength),
    sessionId: optionalText(input.context?.sessionId, ['context', 'sessionId'], LIMITS.textLength),
    metadata: jsonObject(input.metadata, ['metadata'], true)!,
    // Millisecond precision everywhere: cursors round-trip through JavaScript Dates.
    occurredAt: new Date(Math.floor(occurredAt.getTime())),
    version: input.version ?? null,
    idempotencyKey,
  };
  const { organizationId: _sentOrganization, idempotencyKey: _key, ...payload } = input;
  return {
    ...prepared,
    // Only a keyed event can be retried into a conflict, so only it needs the hash.
    payloadHash:
      idempotencyKey === null ? '' : createHash('sha256').update(stableJson(payload)).digest('base64url'),
    searchText: searchTextOf(prepared),
  };
}
