import type { OutboundConnector } from '../network/connector.ts';
import { type DestinationType, dialedHosts } from './destinations/index.ts';

export interface DestinationRefusal {
  /** The input field naming the refused host: `url`, or `options.tokenUrl` for Sentinel. */
  field: string[];
  /** `refused: 127.0.0.1 is a loopback address; allow it with DESTINATION_ALLOW_NETWORKS` */
  reason: string;
}

/**
 * Whether the network policy refuses a host this destination connects to, checked without
 * connecting: IP literals and `localhost` at once, other names by resolving them now.
 */
export async function destinationRefusal(
  connector: OutboundConnector,
  destination: { type: DestinationType; url: string; options: Record<string, unknown> },
): Promise<DestinationRefusal | null> {
  for (const { host, field } of dialedHosts(destination.type, destination.url, destination.options)) {
    const reason = await connector.refusalFor(host);
    if (reason) return { field, reason };
  }
  return null;
}
