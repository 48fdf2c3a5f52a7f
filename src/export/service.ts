import type { Config } from '../config.ts';
import { OutboundConnector, type ResolveHost } from '../network/connector.ts';
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
  /** Every destination connection dials through it: DESTINATION_ALLOW_NETWORKS and the address policy. */
  connector: OutboundConnector;
}

/** `resolveHost` replaces the system resolver (tests of DNS rebinding). */
export function createExportService(
  config: Config,
  network: { resolveHost?: ResolveHost } = {},
): ExportService {
  const secrets = new SecretBox(config.export.secretsKey, config.environment === 'production');
  const connector = new OutboundConnector(config.export.allowNetworks, network);
  return {
    linkKey: linkSigningKey(config.export.signingSecret),
    linkTtlSeconds: config.export.linkTtlSeconds,
    publicUrl: config.export.publicUrl,
    secrets,
    delivery: config.export.delivery,
    transports: new TransportCache(secrets, config.export.delivery.timeoutMs, connector),
    connector,
  };
}
