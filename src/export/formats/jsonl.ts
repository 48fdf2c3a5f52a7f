import type { AuditEvent } from '../../events/event.ts';
import { eventPublicJson, type PublicEventJson } from '../../integrity/event-leaf.ts';

/**
 * Auditline's public event shape: the very object a Merkle leaf commits to, so an exported line can be
 * re-hashed by an offline verifier. One definition, in the integrity feature.
 */
export type PublicEvent = PublicEventJson;
export const toPublicEvent: (event: AuditEvent) => PublicEvent = eventPublicJson;

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
