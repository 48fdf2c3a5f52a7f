import { gzipSync } from 'node:zlib';
import { EXPORT_FORMAT_DESCRIPTORS, type ExportFormat } from '../formats/index.ts';
import { expectSuccess, httpRequest } from './http.ts';
import { sha256Hex, signV4 } from './sigv4.ts';
import type { OutgoingBatch, Transport, TransportSettings } from './transport.ts';

export interface S3Options {
  region?: string;
}

export interface S3Location {
  endpoint: string;
  bucket: string;
  prefix: string;
}

/** Path-style `https://endpoint/bucket[/prefix]`, so any S3-compatible store works. */
export function parseS3Url(url: string): S3Location | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return null;
  const [bucket, ...rest] = parsed.pathname.split('/').filter(Boolean);
  if (!bucket) return null;
  return { endpoint: parsed.origin, bucket, prefix: rest.join('/') };
}

const OBJECT_EXTENSIONS: Record<ExportFormat, string> = {
  jsonl: 'jsonl',
  ocsf: 'jsonl',
  ecs: 'jsonl',
  csv: 'csv',
  cef: 'cef',
  leef: 'leef',
};

/** `[prefix/]org/YYYY/MM/DD/HH/<first>-<last>.jsonl.gz`, the hour being the first event's arrival (UTC). */
export function s3ObjectKey(location: S3Location, batch: OutgoingBatch): string {
  const first = batch.events[0]!;
  const last = batch.events.at(-1)!;
  const hour = first.receivedAt.toISOString().slice(0, 13).replace('T', '/').replaceAll('-', '/');
  const name = `${first.id}-${last.id}.${OBJECT_EXTENSIONS[batch.format]}.gz`;
  return [location.prefix, batch.organizationId, hour, name].filter(Boolean).join('/');
}

/**
 * One gzip object per batch, PUT with SigV4 (secret `ACCESS_KEY_ID:SECRET_ACCESS_KEY`). A resend of
 * the same events writes the same key, so a retried batch replaces its object instead of adding one.
 */
export function s3Transport(settings: TransportSettings): Transport {
  const location = parseS3Url(settings.url);
  if (!location) throw new Error('An S3 URL looks like https://endpoint/bucket[/prefix]');
  const separator = (settings.secret ?? '').indexOf(':');
  if (separator < 1) throw new Error('An S3 secret looks like ACCESS_KEY_ID:SECRET_ACCESS_KEY');
  const credentials = {
    accessKeyId: settings.secret!.slice(0, separator),
    secretAccessKey: settings.secret!.slice(separator + 1),
    region: (settings.options as S3Options).region ?? 'us-east-1',
    service: 's3',
  };
  return {
    maxBatchBytes: 64 * 1024 * 1024,
    async send(batch: OutgoingBatch) {
      const { header, recordSeparator } = EXPORT_FORMAT_DESCRIPTORS[batch.format];
      const text =
        (header !== null ? [header, ...batch.records] : batch.records).join(recordSeparator) +
        recordSeparator;
      const body = gzipSync(text);
      const key = s3ObjectKey(location, batch);
      const url = new URL(`${location.endpoint}/${location.bucket}/${key}`);
      const headers = signV4(
        {
          method: 'PUT',
          url,
          headers: { 'content-type': 'application/gzip', 'content-length': String(body.length) },
          payloadHash: sha256Hex(body),
        },
        credentials,
        new Date(),
      );
      delete headers.host;
      const response = await httpRequest(
        settings.connector,
        url.toString(),
        { method: 'PUT', headers, body },
        settings.timeoutMs,
      );
      await expectSuccess(response, 'S3');
    },
  };
}
