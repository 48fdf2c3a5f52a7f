import type { AuditEvent } from '../../events/event.ts';
import type { OutboundConnector } from '../../network/connector.ts';
import type { ActionRuleOverride } from '../action-mapping.ts';
import type { ExportFormat } from '../formats/index.ts';

/** Events on their way to one destination, already formatted (one record per event, no separators). */
export interface OutgoingBatch {
  /** Same for every retry of the same events, so receivers can recognise a resend. */
  id: string;
  destinationId: string;
  organizationId: string;
  format: ExportFormat;
  events: AuditEvent[];
  records: string[];
  /** The organization's action mapping overrides the records were formatted with. */
  actionOverrides: readonly ActionRuleOverride[];
}

export interface Transport {
  /** Largest payload the receiver takes in one request; a batch is cut to fit (one event at least). */
  readonly maxBatchBytes: number;
  /** Most records the receiver takes in one request, when it has such a limit. */
  readonly maxBatchEvents?: number;
  /** Resolves only once the receiver acknowledged every record of the batch. */
  send(batch: OutgoingBatch): Promise<void>;
}

export interface TransportSettings {
  destinationUuid: string;
  url: string;
  format: ExportFormat;
  options: Record<string, unknown>;
  secret: string | null;
  timeoutMs: number;
  /** Every connection the transport opens goes through it (the destination network policy). */
  connector: OutboundConnector;
}

/**
 * A failed send. `mayHaveDelivered` is false only when the receiver certainly has none of it (the
 * connection was refused, or it answered with an error status); otherwise a resend may duplicate.
 */
export class DeliveryError extends Error {
  readonly mayHaveDelivered: boolean;
  readonly retryAfterMs: number | null;

  constructor(message: string, options: { mayHaveDelivered: boolean; retryAfterMs?: number | null }) {
    super(message);
    this.name = 'DeliveryError';
    this.mayHaveDelivered = options.mayHaveDelivered;
    this.retryAfterMs = options.retryAfterMs ?? null;
  }
}

const JSON_FORMATS: ReadonlySet<ExportFormat> = new Set(['jsonl', 'ocsf', 'ecs']);

/** A record as a JSON value: the parsed object for JSON formats, the text line otherwise. */
export function recordValue(format: ExportFormat, record: string): unknown {
  return JSON_FORMATS.has(format) ? JSON.parse(record) : record;
}

export const isJsonFormat = (format: ExportFormat) => JSON_FORMATS.has(format);

/** Most bytes of a receiver's own words (an error body, a RELP status) that error messages and logs repeat. */
export const RECEIVER_EXCERPT_BYTES = 256;

/** A receiver's text for an error message: control characters and runs of spaces collapsed, cut to 256 bytes. */
export function receiverExcerpt(text: string): string {
  const flat = text.replace(/[\s\p{Cc}]+/gu, ' ').trim();
  const bytes = Buffer.from(flat, 'utf8');
  if (bytes.length <= RECEIVER_EXCERPT_BYTES) return flat;
  let end = RECEIVER_EXCERPT_BYTES;
  // Back off to the start of a UTF-8 sequence, so the cut does not split a character.
  while ((bytes[end]! & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString('utf8');
}
