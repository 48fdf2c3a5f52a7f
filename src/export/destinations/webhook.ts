import { createHmac } from 'node:crypto';
import { expectSuccess, httpRequest } from './http.ts';
import { type OutgoingBatch, recordValue, type Transport, type TransportSettings } from './transport.ts';

const SECRET_PREFIX = 'whsec_';

/** The HMAC key behind a Standard Webhooks secret (`whsec_` + base64 of 24 to 64 random bytes). */
export function webhookSigningKey(secret: string): Buffer | null {
  if (!secret.startsWith(SECRET_PREFIX)) return null;
  const encoded = secret.slice(SECRET_PREFIX.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) return null;
  const key = Buffer.from(encoded, 'base64');
  return key.length >= 24 && key.length <= 64 ? key : null;
}

/** `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, per the Standard Webhooks specification. */
export function webhookSignature(key: Buffer, id: string, timestamp: number, body: string): string {
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}

/** One signed POST per batch: `{type, timestamp, data: {destinationId, organizationId, format, events}}`. */
export function webhookTransport(settings: TransportSettings): Transport {
  const key = webhookSigningKey(settings.secret ?? '');
  if (!key) throw new Error('A webhook destination needs a whsec_ secret');
  return {
    maxBatchBytes: 1024 * 1024,
    async send(batch: OutgoingBatch) {
      const body = JSON.stringify({
        type: 'audit_events.batch',
        timestamp: new Date().toISOString(),
        data: {
          destinationId: batch.destinationId,
          organizationId: batch.organizationId,
          format: batch.format,
          events: batch.records.map((record) => recordValue(batch.format, record)),
        },
      });
      const id = `msg_${batch.id}`;
      const timestamp = Math.floor(Date.now() / 1000);
      const response = await httpRequest(
        settings.connector,
        settings.url,
        {
          headers: {
            'content-type': 'application/json',
            'webhook-id': id,
            'webhook-timestamp': String(timestamp),
            'webhook-signature': webhookSignature(key, id, timestamp, body),
          },
          body,
        },
        settings.timeoutMs,
      );
      await expectSuccess(response, 'The webhook receiver');
    },
  };
}
