import type { AuditEvent } from '../../events/event.ts';
import type { ActionRuleOverride } from '../action-mapping.ts';
import { toCefLine } from './cef.ts';
import { CSV_LINE_ENDING, csvHeader, toCsvRow } from './csv.ts';
import { toEcsLine } from './ecs.ts';
import { toJsonLine } from './jsonl.ts';
import { toLeefLine } from './leef.ts';
import { toOcsfLine } from './ocsf.ts';

export const EXPORT_FORMATS = ['jsonl', 'csv', 'cef', 'leef', 'ocsf', 'ecs'] as const;

export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ExportFormatOptions {
  /** The organization's extra action rules, checked before the defaults. */
  actionOverrides?: readonly ActionRuleOverride[];
  /** CEF and LEEF header product version. */
  productVersion?: string;
  /** LEEF attribute delimiter: one character or `xHH`. */
  leefDelimiter?: string;
  /** Fields appended to each JSON line (jsonl only), e.g. an integrity proof. */
  extra?: Record<string, unknown>;
}

export interface ExportFormatDescriptor {
  /** Written once before the first record; null when the format has none. */
  header: string | null;
  /** Terminates every record, the header included. */
  recordSeparator: '\n' | '\r\n';
  mediaType: string;
}

export const EXPORT_FORMAT_DESCRIPTORS: Readonly<Record<ExportFormat, ExportFormatDescriptor>> = {
  jsonl: { header: null, recordSeparator: '\n', mediaType: 'application/x-ndjson' },
  csv: { header: csvHeader(), recordSeparator: CSV_LINE_ENDING, mediaType: 'text/csv; charset=utf-8' },
  cef: { header: null, recordSeparator: '\n', mediaType: 'text/plain; charset=utf-8' },
  leef: { header: null, recordSeparator: '\n', mediaType: 'text/plain; charset=utf-8' },
  ocsf: { header: null, recordSeparator: '\n', mediaType: 'application/x-ndjson' },
  ecs: { header: null, recordSeparator: '\n', mediaType: 'application/x-ndjson' },
};

export function isExportFormat(value: string): value is ExportFormat {
  return (EXPORT_FORMATS as readonly string[]).includes(value);
}

export function hasHeader(format: ExportFormat): boolean {
  return EXPORT_FORMAT_DESCRIPTORS[format].header !== null;
}

/** One record, without its record separator. */
export function formatEvent(
  format: ExportFormat,
  event: AuditEvent,
  options: ExportFormatOptions = {},
): string {
  const { actionOverrides, productVersion } = options;
  switch (format) {
    case 'jsonl':
      return toJsonLine(event, options.extra);
    case 'csv':
      return toCsvRow(event);
    case 'cef':
      return toCefLine(event, { actionOverrides, productVersion });
    case 'leef':
      return toLeefLine(event, { actionOverrides, productVersion, delimiter: options.leefDelimiter });
    case 'ocsf':
      return toOcsfLine(event, { actionOverrides });
    case 'ecs':
      return toEcsLine(event, { actionOverrides });
  }
}
