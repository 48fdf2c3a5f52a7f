import type { AuditEvent, EventActor, EventContext, EventTarget } from '../../events/event.ts';

/** Auditline's public event shape; fields are listed in their serialized order. */
export interface PublicEvent {
  id: string;
  organizationId: string;
  action: string;
  actor: EventActor;
  targets: EventTarget[];
  context: EventContext;
  metadata: Record<string, unknown>;
  occurredAt: string;
  receivedAt: string;
  version: number | null;
  idempotencyKey: string | null;
}

/**
 * One JSON line per event. `extra` (e.g. an integrity `proof`) is appended after the event's own
 * fields; it may not replace them.
 */
export function toJsonLine(event: AuditEvent, extra?: Record<string, unknown>): string {
  const publicEvent = toPublicEvent(event);
  for (const key of Object.keys(extra ?? {})) {
    if (Object.hasOwn(publicEvent, key)) throw new Error(`Extra field "${key}" would replace an event field`);
  }
  return JSON.stringify({ ...publicEvent, ...extra });
}

export function toPublicEvent(event: AuditEvent): PublicEvent {
  return {
    id: event.id,
    organizationId: event.organizationId,
    action: event.action,
    actor: entity(event.actor),
    targets: event.targets.map(entity),
    context: {
      ipAddress: event.context.ipAddress,
      userAgent: event.context.userAgent,
      location: event.context.location,
      requestId: event.context.requestId,
      sessionId: event.context.sessionId,
    },
    metadata: event.metadata,
    occurredAt: event.occurredAt.toISOString(),
    receivedAt: event.receivedAt.toISOString(),
    version: event.version,
    idempotencyKey: event.idempotencyKey,
  };
}

function entity(value: EventActor | EventTarget): EventActor & EventTarget {
  return { id: value.id, type: value.type, name: value.name, metadata: value.metadata };
}
