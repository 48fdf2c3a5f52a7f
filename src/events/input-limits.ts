/**
 * Every bound on what a client may send to emit, filter, search or stream events, in one place so the
 * code, the docs and the tests use the same numbers. Each is checked before any SQL runs; going over
 * one is `BAD_USER_INPUT` with the path of the input at fault.
 */
import { MAX_SEARCH_QUERY_LENGTH, MAX_SEARCH_TERMS } from './search-syntax.ts';

export { MAX_SEARCH_QUERY_LENGTH, MAX_SEARCH_TERMS };

// --- emitEvent / emitEvents -----------------------------------------------------------------------

export const MAX_EVENTS_PER_BATCH = 1000;
export const MAX_ACTION_LENGTH = 128;
/** Actor and target ids, types and names; context location, requestId, sessionId; idempotencyKey. */
export const MAX_TEXT_LENGTH = 256;
export const MAX_USER_AGENT_LENGTH = 1024;
/** An IPv6 address with an embedded IPv4 address and a /128 prefix is 49 characters. */
export const MAX_IP_ADDRESS_LENGTH = 64;
export const MAX_TARGETS_PER_EVENT = 100;
/** Serialized JSON of `metadata`, `actor.metadata` and each `targets[].metadata`. */
export const MAX_METADATA_BYTES = 32 * 1024;
/** Objects and arrays nested in one another; `{}` is one level, `{"a":{}}` two. */
export const MAX_METADATA_DEPTH = 5;
/** How far ahead of the server's clock `occurredAt` may be. */
export const MAX_FUTURE_SKEW_MS = 5 * 60 * 1000;
/** `occurredAt` may not be earlier than the Unix epoch. */
export const EARLIEST_OCCURRED_AT = new Date('1970-01-01T00:00:00.000Z');
/** An `organizationId` argument (public ids are 36 characters). */
export const MAX_ID_LENGTH = 64;

// --- EventFilter, query, cursors ------------------------------------------------------------------

/** Values in each list of an EventFilter (`actions`, `actorIds`, `actorTypes`, `targetIds`, `targetTypes`). */
export const MAX_FILTER_VALUES = 100;
/** Characters of each value in those lists. */
export const MAX_FILTER_VALUE_LENGTH = 256;
/** Characters of `filter.search`, as for the search syntax `query`. */
export const MAX_FILTER_SEARCH_LENGTH = 1000;
/** Serialized JSON of `filter.metadata`; as deep as stored metadata may be. */
export const MAX_FILTER_METADATA_BYTES = MAX_METADATA_BYTES;
export const MAX_FILTER_METADATA_DEPTH = MAX_METADATA_DEPTH;
/** `first` and `last` of `events`. */
export const MAX_PAGE_SIZE = 1000;
/** `limit` of `eventCounts`. */
export const MAX_GROUPS = 1000;
/** Characters of a page or stream cursor (`after`, `before`); real ones are about 100. */
export const MAX_CURSOR_LENGTH = 256;

/** The table the docs print: input, maximum. */
export const INPUT_LIMITS: readonly { input: string; maximum: string }[] = [
  { input: 'emitEvents: events per call', maximum: `${MAX_EVENTS_PER_BATCH}` },
  { input: 'action', maximum: `${MAX_ACTION_LENGTH} characters` },
  {
    input: 'actor.id/type/name, targets[].id/type/name, context.location/requestId/sessionId, idempotencyKey',
    maximum: `${MAX_TEXT_LENGTH} characters`,
  },
  { input: 'context.userAgent', maximum: `${MAX_USER_AGENT_LENGTH} characters` },
  { input: 'context.ipAddress, filter.ipAddress', maximum: `${MAX_IP_ADDRESS_LENGTH} characters` },
  { input: 'targets per event', maximum: `${MAX_TARGETS_PER_EVENT}` },
  {
    input: 'metadata, actor.metadata, targets[].metadata',
    maximum: `${MAX_METADATA_BYTES} bytes of JSON, ${MAX_METADATA_DEPTH} levels deep`,
  },
  {
    input: 'occurredAt',
    maximum: `from ${EARLIEST_OCCURRED_AT.toISOString()} to ${MAX_FUTURE_SKEW_MS / 60_000} minutes ahead of the server`,
  },
  { input: 'organizationId', maximum: `${MAX_ID_LENGTH} characters` },
  {
    input: 'filter.actions/actorIds/actorTypes/targetIds/targetTypes',
    maximum: `${MAX_FILTER_VALUES} values of ${MAX_FILTER_VALUE_LENGTH} characters each`,
  },
  { input: 'filter.search', maximum: `${MAX_FILTER_SEARCH_LENGTH} characters` },
  {
    input: 'filter.metadata',
    maximum: `${MAX_FILTER_METADATA_BYTES} bytes of JSON, ${MAX_FILTER_METADATA_DEPTH} levels deep`,
  },
  {
    input: 'query (search syntax)',
    maximum: `${MAX_SEARCH_QUERY_LENGTH} characters, ${MAX_SEARCH_TERMS} terms`,
  },
  { input: 'after, before (cursors)', maximum: `${MAX_CURSOR_LENGTH} characters` },
  { input: 'events: first, last', maximum: `${MAX_PAGE_SIZE}` },
  { input: 'eventCounts: limit', maximum: `${MAX_GROUPS}` },
];
