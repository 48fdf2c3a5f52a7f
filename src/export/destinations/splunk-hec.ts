import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { expectSuccess, httpRequest } from './http.ts';
import {
  DeliveryError,
  type OutgoingBatch,
  receiverExcerpt,
  recordValue,
  type Transport,
  type TransportSettings,
} from './transport.ts';

export interface SplunkHecOptions {
  index?: string;
  source?: string;
  sourcetype?: string;
  host?: string;
  /** Wait for indexer acknowledgement (the HEC token must have it enabled). */
  ack?: boolean;
  ackTimeoutMs?: number;
}

/** The event endpoint: a bare `https://splunk:8088` gets `/services/collector/event`. */
export function hecEventUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.pathname === '/' || parsed.pathname === '') parsed.pathname = '/services/collector/event';
  return parsed.toString();
}

/**
 * Splunk HTTP Event Collector: concatenated `{time, host, source, sourcetype, index, event}` envelopes
 * in one POST. With `ack`, a batch counts as delivered only once the indexers confirm its ackId.
 */
export function splunkHecTransport(settings: TransportSettings): Transport {
  const options = settings.options as SplunkHecOptions;
  const eventUrl = hecEventUrl(settings.url);
  const ackUrl = new URL('/services/collector/ack', eventUrl).toString();
  const channel = settings.destinationUuid;
  const headers: Record<string, string> = {
    authorization: `Splunk ${settings.secret ?? ''}`,
    'content-type': 'application/json',
    ...(options.ack ? { 'x-splunk-request-channel': channel } : {}),
  };
  const envelope = {
    host: options.host ?? hostname(),
    source: options.source ?? 'auditline',
    sourcetype: options.sourcetype ?? `auditline:${settings.format}`,
    ...(options.index ? { index: options.index } : {}),
  };

  async function awaitAck(ackId: number): Promise<void> {
    const deadline = Date.now() + (options.ackTimeoutMs ?? 60_000);
    for (let wait = 100; ; wait = Math.min(wait * 2, 2000)) {
      const response = await httpRequest(
        settings.connector,
        `${ackUrl}?channel=${channel}`,
        { headers, body: JSON.stringify({ acks: [ackId] }) },
        settings.timeoutMs,
      ).catch((error: DeliveryError) => {
        throw new DeliveryError(error.message, { mayHaveDelivered: true });
      });
      if (!response.ok) {
        await expectSuccess(response, 'Splunk HEC acknowledgement').catch((error: DeliveryError) => {
          throw new DeliveryError(error.message, {
            mayHaveDelivered: true,
            retryAfterMs: error.retryAfterMs,
          });
        });
      }
      const answer = (await response.json()) as { acks?: Record<string, boolean> };
      if (answer.acks?.[String(ackId)] === true) return;
      if (Date.now() + wait > deadline) {
        throw new DeliveryError(`Splunk HEC did not acknowledge ackId ${ackId} in time`, {
          mayHaveDelivered: true,
        });
      }
      await sleep(wait);
    }
  }

  return {
    maxBatchBytes: 1024 * 1024,
    async send(batch: OutgoingBatch) {
      const body = batch.records
        .map((record, index) =>
          JSON.stringify({
            time: batch.events[index]!.occurredAt.getTime() / 1000,
            ...envelope,
            event: recordValue(batch.format, record),
          }),
        )
        .join('\n');
      const response = await httpRequest(settings.connector, eventUrl, { headers, body }, settings.timeoutMs);
      if (!response.ok) await expectSuccess(response, 'Splunk HEC');
      const answer = (await response.json().catch(() => ({}))) as {
        code?: number;
        text?: string;
        ackId?: number;
      };
      if (answer.code !== undefined && answer.code !== 0) {
        throw new DeliveryError(
          `Splunk HEC refused the batch: ${receiverExcerpt(String(answer.text ?? `code ${answer.code}`))}`,
          {
            mayHaveDelivered: false,
          },
        );
      }
      if (!options.ack) return;
      if (typeof answer.ackId !== 'number') {
        throw new DeliveryError('Splunk HEC returned no ackId: enable indexer acknowledgement on the token', {
          mayHaveDelivered: true,
        });
      }
      await awaitAck(answer.ackId);
    },
  };
}
