import type { events } from '../db/tables.ts';
import { toPublicId } from '../ids.ts';
import type { PreparedEvent } from './emit-input.ts';
import type { AuditEvent, EventTarget } from './event.ts';

export type EventRow = typeof events.$inferSelect;

export function eventFromRow(row: EventRow): AuditEvent {
  return {
    id: toPublicId('evt', row.id),
    organizationId: toPublicId('org', row.organizationId),
    action: row.action,
    actor: {
      id: row.actorId,
      type: row.actorType,
      name: row.actorName,
      metadata: (row.actorMetadata as Record<string, unknown> | null) ?? null,
    },
    // Rows written outside the app (imports, repairs) may leave out a target's optional fields.
    targets: (row.targets as Partial<EventTarget>[]).map((target) => ({
      id: target.id!,
      type: target.type!,
      name: target.name ?? null,
      metadata: target.metadata ?? null,
    })),
    context: {
      ipAddress: row.ipAddress,
      userAgent: row.userAgent,
      location: row.location,
      requestId: row.requestId,
      sessionId: row.sessionId,
    },
    metadata: row.metadata as Record<string, unknown>,
    occurredAt: row.occurredAt,
    receivedAt: row.receivedAt,
    version: row.version,
    idempotencyKey: row.idempotencyKey,
  };
}

export function eventFromPrepared(event: PreparedEvent, receivedAt: Date): AuditEvent {
  return {
    id: toPublicId('evt', event.id),
    organizationId: toPublicId('org', event.organizationId),
    action: event.action,
    actor: { id: event.actorId, type: event.actorType, name: event.actorName, metadata: event.actorMetadata },
    targets: event.targets,
    context: {
      ipAddress: event.ipAddress,
      userAgent: event.userAgent,
      location: event.location,
      requestId: event.requestId,
      sessionId: event.sessionId,
    },
    metadata: event.metadata,
    occurredAt: event.occurredAt,
    receivedAt,
    version: event.version,
    idempotencyKey: event.idempotencyKey,
  };
}

/** The row as `jsonb_to_recordset` reads it in the writer's INSERT. */
export function recordOf(event: PreparedEvent, receivedAt: Date) {
  return {
    id: event.id,
    organization_id: event.organizationId,
    action: event.action,
    actor_id: event.actorId,
    actor_type: event.actorType,
    actor_name: event.actorName,
    actor_metadata: event.actorMetadata,
    targets: event.targets,
    target_ids: event.targets.map((target) => target.id),
    target_types: event.targets.map((target) => target.type),
    ip_address: event.ipAddress,
    user_agent: event.userAgent,
    location: event.location,
    request_id: event.requestId,
    session_id: event.sessionId,
    metadata: event.metadata,
    search_text: event.searchText,
    occurred_at: event.occurredAt.toISOString(),
    received_at: receivedAt.toISOString(),
    version: event.version,
    idempotency_key: event.idempotencyKey,
  };
}
