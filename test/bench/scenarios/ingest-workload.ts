import type { EmitEventInput } from '../../../src/events/emit-input.ts';
import { prepareEvent } from '../../../src/events/emit-input.ts';
import { recordOf } from '../../../src/events/event-row.ts';
import { datasetOrganizations, generateEvent } from '../data/events.ts';
import { Random } from '../data/random.ts';
import type { ServerProcess } from '../lib/processes.ts';
import type { LoadRequest } from '../load/load-types.ts';
import { runLoad } from '../load/run-load.ts';

export const EMIT_EVENT =
  'mutation Emit($input: EmitEventInput!) { emitEvent(input: $input) { event { id } } }';
export const EMIT_EVENTS =
  'mutation EmitMany($input: [EmitEventInput!]!) { emitEvents(input: $input) { acceptedCount rejectedCount } }';
export const PGL_CREATE_EVENT =
  'mutation Create($input: CreateEventInput!) { createEvent(input: $input) { event { rowId } } }';

/** `count` distinct ~1 KB events for the ingest organization, occurring around now. */
export function ingestInputs(organizationUuid: string, count: number, seed = 99): EmitEventInput[] {
  const [organization] = datasetOrganizations([organizationUuid], seed);
  const random = new Random(seed);
  const now = Date.now();
  return Array.from({ length: count }, (_, index) =>
    generateEvent(random, organization!, new Date(now - (count - index) * 7)),
  );
}

export const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

export const auditlineEmitRequests = (inputs: EmitEventInput[], key: string): LoadRequest[] =>
  inputs.map((input) => ({
    path: '/graphql',
    headers: bearer(key),
    body: JSON.stringify({ query: EMIT_EVENT, variables: { input } }),
  }));

/** emitEvents calls of `perCall` events each (a last partial call is left out, so every call has `perCall`). */
export function auditlineBatchRequests(
  inputs: EmitEventInput[],
  key: string,
  perCall: number,
): LoadRequest[] {
  const requests: LoadRequest[] = [];
  for (let start = 0; start + perCall <= inputs.length; start += perCall) {
    requests.push({
      path: '/graphql',
      headers: bearer(key),
      body: JSON.stringify({
        query: EMIT_EVENTS,
        variables: { input: inputs.slice(start, start + perCall) },
      }),
    });
  }
  return requests;
}

/** Single-event emitEvent load against a server, as the ingest scenario runs it; rejects on any error. */
export const emitLoad =
  (server: ServerProcess, requests: LoadRequest[], connections = 50) =>
  (durationSeconds: number) =>
    runLoad({
      url: server.url,
      method: 'POST',
      connections,
      durationSeconds,
      requests,
      failMarker: '"errors"',
    });

export const rawEmitRequests = (inputs: EmitEventInput[], organizationUuid: string): LoadRequest[] =>
  inputs.map((input) => ({
    path: '/events',
    body: JSON.stringify({ organizationId: organizationUuid, event: input }),
  }));

/**
 * PostGraphile has no notion of an audit event: the client sends the table's columns, with the
 * derived ones (search_text, target_ids, target_types) computed client-side the way Auditline
 * computes them, and the table's defaults fill id and received_at. This spares PostGraphile's server
 * work Auditline does, so the comparison leans in PostGraphile's favour.
 */
export function postgraphileCreateRequests(
  inputs: EmitEventInput[],
  organizationUuid: string,
): LoadRequest[] {
  const now = new Date(Date.now() + 60_000);
  return inputs.map((input) => {
    const prepared = prepareEvent(input, { id: organizationUuid, organizationId: organizationUuid }, now);
    if (!prepared.ok) throw new Error(prepared.error.message);
    const row = recordOf(prepared.event, now);
    const event = {
      organizationId: row.organization_id,
      action: row.action,
      actorId: row.actor_id,
      actorType: row.actor_type,
      actorName: row.actor_name,
      actorMetadata: row.actor_metadata,
      targets: row.targets,
      targetIds: row.target_ids,
      targetTypes: row.target_types,
      ipAddress: row.ip_address,
      userAgent: row.user_agent,
      location: row.location,
      requestId: row.request_id,
      sessionId: row.session_id,
      metadata: row.metadata,
      searchText: row.search_text,
      occurredAt: row.occurred_at,
      version: row.version,
    };
    return {
      path: '/graphql',
      body: JSON.stringify({ query: PGL_CREATE_EVENT, variables: { input: { event } } }),
    };
  });
}
