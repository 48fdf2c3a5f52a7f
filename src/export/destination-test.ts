import type { Database } from '../db/client.ts';
import { AuditlineError, badInput } from '../errors.ts';
import type { AuditEvent } from '../events/event.ts';
import { compileEventWhere } from '../events/filter.ts';
import { toPublicId, uuidv7 } from '../ids.ts';
import { actionOverridesFor } from './action-mapping-store.ts';
import { buildBatch } from './delivery.ts';
import { destinationRefusal } from './destination-network.ts';
import type { Destination } from './destination-store.ts';
import type { ExportService } from './service.ts';

/** Compiles a destination's filter once, so a bad query or action is refused when it is saved. */
export function checkDestinationFilter(
  organizationUuid: string,
  actions: string[],
  query: string | null,
): void {
  try {
    compileEventWhere(organizationUuid, { actions: actions.length > 0 ? actions : null }, query);
  } catch (error) {
    if (!(error instanceof AuditlineError)) throw error;
    const [first, ...rest] = error.inputPath;
    const path =
      first === 'filter' ? ['input', ...rest] : ['input', ...(first ? [first, ...rest] : ['query'])];
    throw badInput(error.message.replace('filter.actions', 'actions'), path);
  }
}

export function sampleEvent(organizationId: string, now = new Date()): AuditEvent {
  return {
    id: toPublicId('evt', uuidv7(now.getTime())),
    organizationId,
    action: 'auditline.destination_tested',
    actor: { id: 'auditline', type: 'system', name: 'Auditline', metadata: null },
    targets: [],
    context: {
      ipAddress: null,
      userAgent: 'Auditline-Export/1.0',
      location: null,
      requestId: null,
      sessionId: null,
    },
    metadata: { note: 'Sample event sent by testDestination; it is not in the audit log.' },
    occurredAt: now,
    receivedAt: now,
    version: null,
    idempotencyKey: null,
  };
}

/**
 * Sends one sample event through the destination's transport (nothing when the network policy
 * refuses its host), formatted with the organization's
 * action mapping overrides as deliveries are; the cursor and counters are left alone.
 */
export async function testDestination(db: Database, destination: Destination, exports: ExportService) {
  const event = sampleEvent(destination.organizationId);
  const started = performance.now();
  const refused = await destinationRefusal(exports.connector, destination);
  if (refused) {
    return {
      ok: false,
      error: refused.reason,
      durationMs: Math.round(performance.now() - started),
      eventId: event.id,
    };
  }
  try {
    const transport = exports.transports.get(destination);
    const actionOverrides = await actionOverridesFor(db, destination.organizationUuid);
    const settled = [{ position: { xid: '0', id: event.id }, event }];
    const batch = buildBatch(destination, settled, transport, actionOverrides);
    await transport.send(batch);
    return { ok: true, error: null, durationMs: Math.round(performance.now() - started), eventId: event.id };
  } catch (error) {
    return {
      ok: false,
      error: (error as Error).message,
      durationMs: Math.round(performance.now() - started),
      eventId: event.id,
    };
  }
}
