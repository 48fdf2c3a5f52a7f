import { hostname } from 'node:os';
import { expectSuccess, httpRequest } from './http.ts';
import {
  isJsonFormat,
  type OutgoingBatch,
  recordValue,
  type Transport,
  type TransportSettings,
} from './transport.ts';

export interface DatadogOptions {
  service?: string;
  source?: string;
  tags?: string;
  hostname?: string;
}

export const DATADOG_DEFAULT_URL = 'https://http-intake.logs.datadoghq.com/api/v2/logs';

/**
 * Datadog logs intake (v2): a JSON array of log entries with `DD-API-KEY`. JSON formats become the
 * entry's attributes; text formats (CEF, LEEF) its `message`.
 */
export function datadogTransport(settings: TransportSettings): Transport {
  const options = settings.options as DatadogOptions;
  const common = {
    ddsource: options.source ?? 'auditline',
    service: options.service ?? 'auditline',
    hostname: options.hostname ?? hostname(),
    ...(options.tags ? { ddtags: options.tags } : {}),
  };
  return {
    // The intake takes 5 MB and 1,000 entries per request.
    maxBatchBytes: 4 * 1024 * 1024,
    maxBatchEvents: 1000,
    async send(batch: OutgoingBatch) {
      const entries = batch.records.map((record, index) => {
        const value = recordValue(batch.format, record);
        const attributes = isJsonFormat(batch.format)
          ? (value as Record<string, unknown>)
          : { message: value };
        return { ...attributes, ...common, timestamp: batch.events[index]!.occurredAt.getTime() };
      });
      const response = await httpRequest(
        settings.connector,
        settings.url,
        {
          headers: { 'content-type': 'application/json', 'dd-api-key': settings.secret ?? '' },
          body: JSON.stringify(entries),
        },
        settings.timeoutMs,
      );
      await expectSuccess(response, 'Datadog');
    },
  };
}
