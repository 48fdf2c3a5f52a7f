import type { AuditEvent } from '../../events/event.ts';
import { type ActionRuleOverride, classifyAction } from '../action-mapping.ts';
import {
  actorDisplayName,
  clientIp,
  compactJson,
  firstTarget,
  isEmptyObject,
  readableAction,
} from './fields.ts';

export interface CefOptions {
  productVersion?: string;
  actionOverrides?: readonly ActionRuleOverride[];
}

const VENDOR = 'Auditline';
const PRODUCT = 'Auditline';
const DEFAULT_PRODUCT_VERSION = '1.0';

/** ArcSight CEF: `CEF:0|Vendor|Product|Version|SignatureID|Name|Severity|Extension`. */
export function toCefLine(event: AuditEvent, options: CefOptions = {}): string {
  const classification = classifyAction(event.action, options.actionOverrides);
  const header = [
    VENDOR,
    PRODUCT,
    options.productVersion ?? DEFAULT_PRODUCT_VERSION,
    event.action,
    readableAction(event.action),
    String(cefSeverity(classification.severity)),
  ].map(escapeCefHeader);
  const outcome = classification.outcome === 'unknown' ? null : classification.outcome;
  // Debian 12's rsyslog/liblognorm CEF parser drops the first character after the last header `|`
  // (`rt=` would arrive as `t=`). Spaces separate extension pairs, so other parsers ignore this one.
  return `CEF:0|${header.join('|')}| ${cefExtension(event, outcome)}`;
}

function cefExtension(event: AuditEvent, outcome: string | null): string {
  const { actor, context, metadata } = event;
  const target = firstTarget(event);
  const ip = clientIp(event);
  const pairs: [string, string | null][] = [
    ['rt', String(event.occurredAt.getTime())],
    ['act', event.action],
    ['suser', actorDisplayName(actor)],
    ['suid', actor.id],
    ['duser', target?.name ?? null],
    ['duid', target?.id ?? null],
    ['src', ip?.family === 4 ? ip.address : null],
    ['c6a2', ip?.family === 6 ? ip.address : null],
    ['c6a2Label', ip?.family === 6 ? 'Source IPv6 Address' : null],
    ['requestClientApplication', context.userAgent],
    ['outcome', outcome],
    ['externalId', event.id],
    ...labelled('cs1', 'organizationId', event.organizationId),
    ...labelled('cs2', 'actorType', actor.type),
    ...labelled('cs3', 'targetType', target?.type ?? null),
    ...labelled('cs4', 'requestId', context.requestId),
    ...labelled('cs5', 'sessionId', context.sessionId),
    ...labelled('cs6', 'metadata', isEmptyObject(metadata) ? null : compactJson(metadata)),
  ];
  return pairs
    .filter((pair): pair is [string, string] => pair[1] !== null)
    .map(([key, value]) => `${key}=${escapeCefExtensionValue(value)}`)
    .join(' ');
}

function labelled(key: string, label: string, value: string | null): [string, string | null][] {
  return [
    [`${key}Label`, value === null ? null : label],
    [key, value],
  ];
}

function cefSeverity(severity: number): number {
  return Math.min(10, Math.max(0, Math.round(severity)));
}

/** CEF header fields escape `\` and `|` only; a newline would end the record, so it becomes a space. */
export function escapeCefHeader(value: string): string {
  return value.replace(/\r\n|[\r\n]/g, ' ').replace(/[\\|]/g, '\\$&');
}

/** CEF extension values escape `\` and `=`, and encode CR/LF as `\r`/`\n`; a `|` stays literal. */
export function escapeCefExtensionValue(value: string): string {
  return value.replace(/[\\=]/g, '\\$&').replaceAll('\r', '\\r').replaceAll('\n', '\\n');
}
