import type { AuditEvent } from '../../events/event.ts';
import { type ActionRuleOverride, classifyAction } from '../action-mapping.ts';
import { actorDisplayName, clientIp, compactJson, firstTarget, isEmptyObject } from './fields.ts';

export interface LeefOptions {
  /** A single character, or its code as LEEF 2.0 writes it (`x09`, `0x5E`). Defaults to `^`. */
  delimiter?: string;
  productVersion?: string;
  actionOverrides?: readonly ActionRuleOverride[];
}

const VENDOR = 'Auditline';
const PRODUCT = 'Auditline';
const DEFAULT_PRODUCT_VERSION = '1.0';
const DEFAULT_DELIMITER = '^';

/** IBM QRadar LEEF 2.0: `LEEF:2.0|Vendor|Product|Version|EventID|DelimiterChar|key=value<delim>…`. */
export function toLeefLine(event: AuditEvent, options: LeefOptions = {}): string {
  const delimiter = parseLeefDelimiter(options.delimiter ?? DEFAULT_DELIMITER);
  const header = [VENDOR, PRODUCT, options.productVersion ?? DEFAULT_PRODUCT_VERSION, event.action].map(
    leefHeaderField,
  );
  const attributes = leefAttributes(event, options.actionOverrides)
    .map(([key, value]) => `${key}=${leefValue(value, delimiter)}`)
    .join(delimiter);
  return `LEEF:2.0|${header.join('|')}|${leefDelimiterField(delimiter)}|${attributes}`;
}

function leefAttributes(
  event: AuditEvent,
  overrides: readonly ActionRuleOverride[] | undefined,
): [string, string][] {
  const { actor, context, metadata } = event;
  const classification = classifyAction(event.action, overrides);
  const target = firstTarget(event);
  const ip = clientIp(event)?.address ?? null;
  const pairs: [string, string | null][] = [
    // A 13-digit epoch needs no devTimeFormat (IBM: "Predefined LEEF event attributes", devTime).
    ['devTime', String(event.occurredAt.getTime())],
    ['cat', classification.category],
    ['sev', String(leefSeverity(classification.severity))],
    ['usrName', actorDisplayName(actor)],
    ['src', ip],
    ['identSrc', ip],
    ['resource', target === null ? null : (target.name ?? target.id)],
    ['action', event.action],
    ['outcome', classification.outcome],
    ['eventId', event.id],
    ['organizationId', event.organizationId],
    ['actorId', actor.id],
    ['actorType', actor.type],
    ['targetId', target?.id ?? null],
    ['targetType', target?.type ?? null],
    ['userAgent', context.userAgent],
    ['location', context.location],
    ['requestId', context.requestId],
    ['sessionId', context.sessionId],
    ['metadata', isEmptyObject(metadata) ? null : compactJson(metadata)],
  ];
  return pairs.filter((pair): pair is [string, string] => pair[1] !== null);
}

/** LEEF `sev` runs from 1 to 10. */
function leefSeverity(severity: number): number {
  return Math.min(10, Math.max(1, Math.round(severity)));
}

/**
 * LEEF has no escape for values: the delimiter would split the value and CR/LF would end the
 * record, so each becomes a space.
 */
function leefValue(value: string, delimiter: string): string {
  return value.replaceAll(delimiter, ' ').replace(/[\r\n]/g, ' ');
}

/** LEEF defines no escape for `|` in the header either, so it becomes a space like CR/LF. */
function leefHeaderField(value: string): string {
  return value.replace(/[|\r\n]/g, ' ');
}

const HEX_DELIMITER = /^(?:0x|x)([0-9a-fA-F]{1,4})$/;

/** Accepts a single character or the LEEF 2.0 hex form (`x` or `0x` and 1-4 hex digits). */
export function parseLeefDelimiter(spec: string): string {
  const hex = spec.match(HEX_DELIMITER)?.[1];
  const delimiter = hex === undefined ? spec : String.fromCharCode(Number.parseInt(hex, 16));
  if (delimiter.length !== 1) throw new RangeError(`LEEF delimiter must be one character or xHH: ${spec}`);
  if (/[\s=]/.test(delimiter) && delimiter !== '\t') {
    throw new RangeError(
      `LEEF delimiter cannot be "=" or whitespace other than tab: ${JSON.stringify(spec)}`,
    );
  }
  return delimiter;
}

/** Printable ASCII is written as itself; anything else, and `|` (the header separator), as `xHH`. */
export function leefDelimiterField(delimiter: string): string {
  const code = delimiter.charCodeAt(0);
  const printable = code > 0x20 && code < 0x7f && delimiter !== '|';
  return printable ? delimiter : `x${code.toString(16).toUpperCase().padStart(2, '0')}`;
}
