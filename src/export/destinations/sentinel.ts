import { expectSuccess, httpRequest } from './http.ts';
import {
  DeliveryError,
  isJsonFormat,
  type OutgoingBatch,
  recordValue,
  type Transport,
  type TransportSettings,
} from './transport.ts';

export interface SentinelOptions {
  /** OAuth2 token endpoint, e.g. https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token */
  tokenUrl: string;
  clientId: string;
  scope?: string;
}

export const SENTINEL_SCOPE = 'https://monitor.azure.com//.default';
const API_VERSION = '2023-01-01';

/** The DCR stream URL with its api-version. */
export function sentinelIngestionUrl(url: string): string {
  const parsed = new URL(url);
  if (!parsed.searchParams.has('api-version')) parsed.searchParams.set('api-version', API_VERSION);
  return parsed.toString();
}

/**
 * Microsoft Sentinel through the Azure Monitor Logs Ingestion API: a JSON array POSTed to
 * `<DCE>/dataCollectionRules/<DCR immutable id>/streams/<stream>` with a bearer token from the
 * client-credentials grant. Each record has `TimeGenerated`; text formats go in `RawData`.
 */
export function sentinelTransport(settings: TransportSettings): Transport {
  const options = settings.options as unknown as SentinelOptions;
  const url = sentinelIngestionUrl(settings.url);
  let token: { value: string; expiresAt: number } | null = null;

  async function bearer(): Promise<string> {
    if (token && token.expiresAt > Date.now()) return token.value;
    const response = await httpRequest(
      settings.connector,
      options.tokenUrl,
      {
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: options.clientId,
          client_secret: settings.secret ?? '',
          scope: options.scope ?? SENTINEL_SCOPE,
        }).toString(),
      },
      settings.timeoutMs,
    ).catch((error: DeliveryError) => {
      throw new DeliveryError(`token request: ${error.message}`, { mayHaveDelivered: false });
    });
    if (!response.ok) await expectSuccess(response, 'The token endpoint');
    const answer = (await response.json()) as { access_token?: string; expires_in?: number | string };
    if (!answer.access_token)
      throw new DeliveryError('The token endpoint returned no access_token', { mayHaveDelivered: false });
    const lifetime = Number(answer.expires_in ?? 3600);
    token = { value: answer.access_token, expiresAt: Date.now() + Math.max(0, lifetime - 60) * 1000 };
    return token.value;
  }

  return {
    // The Logs Ingestion API takes 1 MB per call.
    maxBatchBytes: 900 * 1024,
    async send(batch: OutgoingBatch) {
      const records = batch.records.map((record, index) => {
        const TimeGenerated = batch.events[index]!.occurredAt.toISOString();
        return isJsonFormat(batch.format)
          ? { TimeGenerated, ...(recordValue(batch.format, record) as Record<string, unknown>) }
          : { TimeGenerated, RawData: record };
      });
      const response = await httpRequest(
        settings.connector,
        url,
        {
          headers: { 'content-type': 'application/json', authorization: `Bearer ${await bearer()}` },
          body: JSON.stringify(records),
        },
        settings.timeoutMs,
      );
      if (response.status === 401) token = null;
      await expectSuccess(response, 'The Logs Ingestion API');
    },
  };
}
