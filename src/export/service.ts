import type { Config } from '../config.ts';
import { type DeliverySettings, TransportCache } from './delivery.ts';
import { linkSigningKey } from './export-link.ts';
import { SecretBox } from './secrets.ts';

/** What export resolvers and the delivery worker need from the configuration, built once per app. */
export interface ExportService {
  linkKey: Buffer;
  linkTtlSeconds: number;
  publicUrl: string | null;
  secrets: SecretBox;
  delivery: DeliverySettings & { tickMs: number };
  transports: TransportCache;
}

export function createExportService(config: Config): ExportService {
  const secrets = new SecretBox(config.export.secretsKey, config.environment === 'production');
  return {
    linkKey: linkSigningKey(config.export.signingSecret),
    linkTtlSeconds: config.export.linkTtlSeconds,
    publicUrl: config.export.publicUrl,
    secrets,
    delivery: config.export.delivery,
    transports: new TransportCache(secrets, config.export.delivery.timeoutMs),
  };
}
