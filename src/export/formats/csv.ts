import type { AuditEvent } from '../../events/event.ts';
import { compactJson } from './fields.ts';

export const CSV_COLUMNS = [
  'id',
  'organization_id',
  'action',
  'actor_id',
  'actor_type',
  'actor_name',
  'target_ids',
  'target_types',
  'target_names',
  'ip_address',
  'user_agent',
  'location',
  'request_id',
  'session_id',
  'occurred_at',
  'received_at',
  'version',
  'idempotency_key',
  'metadata',
] as const;

/** RFC 4180 §2.1: records end with CRLF. Rows and the header are returned without it. */
export const CSV_LINE_ENDING = '\r\n';

const MULTI_VALUE_SEPARATOR = ';';

export function csvHeader(): string {
  return CSV_COLUMNS.join(',');
}

export function toCsvRow(event: AuditEvent): string {
  return csvCells(event).map(csvCell).join(',');
}

function csvCells(event: AuditEvent): string[] {
  const { actor, targets, context } = event;
  return [
    event.id,
    event.organizationId,
    event.action,
    actor.id,
    actor.type,
    actor.name ?? '',
    targets.map((target) => target.id).join(MULTI_VALUE_SEPARATOR),
    targets.map((target) => target.type).join(MULTI_VALUE_SEPARATOR),
    targets.map((target) => target.name ?? '').join(MULTI_VALUE_SEPARATOR),
    context.ipAddress ?? '',
    context.userAgent ?? '',
    context.location ?? '',
    context.requestId ?? '',
    context.sessionId ?? '',
    event.occurredAt.toISOString(),
    event.receivedAt.toISOString(),
    event.version === null ? '' : String(event.version),
    event.idempotencyKey ?? '',
    compactJson(event.metadata),
  ];
}

export function csvCell(value: string): string {
  return quoteCsvField(neutralizeFormula(value));
}

/**
 * CSV formula injection (OWASP): spreadsheets evaluate a cell starting with `=`, `+`, `-` or `@`
 * (tab and CR also open a formula in some of them), so an attacker-chosen actor name could run
 * `=HYPERLINK(…)` on the auditor's machine. A leading `'` makes the cell plain text.
 */
export function neutralizeFormula(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

/** RFC 4180 §2.6-2.7: quote fields containing `,` `"` CR or LF, doubling inner quotes. */
export function quoteCsvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}
