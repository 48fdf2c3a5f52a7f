import type { Socket } from 'node:net';
import { hostname } from 'node:os';
import type { AuditEvent } from '../../events/event.ts';
import { DestinationRefusedError, type OutboundConnector } from '../../network/connector.ts';
import { type ActionRuleOverride, classifyAction } from '../action-mapping.ts';
import { parseRelpUrl, sendOverRelp } from './relp.ts';
import { DeliveryError, type OutgoingBatch, type Transport, type TransportSettings } from './transport.ts';

export interface SyslogOptions {
  /** PEM of a CA to trust for `tls://` besides the system ones. */
  caCertificate?: string;
  hostname?: string;
  appName?: string;
}

export interface SyslogAddress {
  secure: boolean;
  host: string;
  port: number;
}

/** `tcp://host:port` or `tls://host:port`. */
export function parseSyslogUrl(url: string): SyslogAddress | null {
  const match = /^(tcp|tls):\/\/(\[[^\]]+\]|[^:/\s]+):(\d{1,5})\/?$/.exec(url.trim());
  if (!match) return null;
  const port = Number(match[3]);
  if (port < 1 || port > 65535) return null;
  return { secure: match[1] === 'tls', host: match[2]!.replace(/^\[|\]$/g, ''), port };
}

/** LOG_AUDIT (13) is the facility RFC 5424 has for audit records. */
const FACILITY_LOG_AUDIT = 13;

/** The 0-10 CEF severity as a syslog severity: informational, notice, warning, critical. */
export function syslogSeverity(cefSeverity: number): number {
  if (cefSeverity >= 9) return 2;
  if (cefSeverity >= 7) return 4;
  if (cefSeverity >= 4) return 5;
  return 6;
}

const printable = (value: string, max: number) => value.replace(/[^\x21-\x7e]/g, '_').slice(0, max) || '-';

/** One RFC 5424 message: `<PRI>1 TIMESTAMP HOST APP - MSGID - MSG`. */
export function syslogMessage(
  event: AuditEvent,
  record: string,
  options: SyslogOptions,
  actionOverrides: readonly ActionRuleOverride[] = [],
): Buffer {
  const severity = classifyAction(event.action, actionOverrides).severity;
  const priority = FACILITY_LOG_AUDIT * 8 + syslogSeverity(severity);
  const host = printable(options.hostname ?? hostname(), 255);
  const app = printable(options.appName ?? 'auditline', 48);
  return Buffer.from(
    `<${priority}>1 ${event.occurredAt.toISOString()} ${host} ${app} - audit - ${record}`,
    'utf8',
  );
}

/** The message with RFC 6587 octet-counting framing: `LEN <PRI>1 …`. */
export function syslogFrame(
  event: AuditEvent,
  record: string,
  options: SyslogOptions,
  actionOverrides: readonly ActionRuleOverride[] = [],
): Buffer {
  const message = syslogMessage(event, record, options, actionOverrides);
  return Buffer.concat([Buffer.from(`${message.length} `, 'ascii'), message]);
}

export const SYSLOG_URL_SHAPES = 'tcp://host:port, tls://host:port or relp://host:port';

/**
 * Syslog over TCP, TLS or RELP. TCP syslog has no acknowledgement of its own, so each batch gets its
 * own connection: the frames, then our FIN, and the batch counts as received once the receiver, having
 * read up to that FIN, closes its side too. That proves the receiver read the batch, not that it kept
 * it; RELP acknowledges every message.
 */
export function syslogTransport(settings: TransportSettings): Transport {
  const options = settings.options as SyslogOptions;
  const relp = parseRelpUrl(settings.url);
  if (relp) {
    return {
      maxBatchBytes: 4 * 1024 * 1024,
      send: (batch: OutgoingBatch) =>
        sendOverRelp(
          settings.connector,
          relp,
          batch.records.map((record, index) =>
            syslogMessage(batch.events[index]!, record, options, batch.actionOverrides),
          ),
          settings.timeoutMs,
        ),
    };
  }
  const address = parseSyslogUrl(settings.url);
  if (!address) throw new Error(`A syslog URL looks like ${SYSLOG_URL_SHAPES}`);
  return {
    maxBatchBytes: 4 * 1024 * 1024,
    send(batch: OutgoingBatch) {
      const payload = Buffer.concat(
        batch.records.map((record, index) =>
          syslogFrame(batch.events[index]!, record, options, batch.actionOverrides),
        ),
      );
      return sendAndAwaitClose(settings.connector, address, options, payload, settings.timeoutMs);
    },
  };
}

function sendAndAwaitClose(
  connector: OutboundConnector,
  address: SyslogAddress,
  options: SyslogOptions,
  payload: Buffer,
  timeoutMs: number,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let written = false;
    let receiverClosed = false;
    let settled = false;
    const where = `${address.secure ? 'tls' : 'tcp'}://${address.host}:${address.port}`;
    const finish = (error?: DeliveryError) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve();
    };
    const onConnected = () => {
      written = true;
      socket.end(payload);
    };
    const socket: Socket = connector.connect(
      {
        host: address.host,
        port: address.port,
        ...(address.secure ? { tls: options.caCertificate ? { ca: options.caCertificate } : {} } : {}),
      },
      onConnected,
    );
    const timer = setTimeout(
      () =>
        finish(
          new DeliveryError(`${where}: the receiver did not confirm within ${timeoutMs} ms`, {
            mayHaveDelivered: written,
          }),
        ),
      timeoutMs,
    );
    socket.on('data', () => {});
    socket.on('end', () => {
      receiverClosed = true;
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      const message = error instanceof DestinationRefusedError ? error.message : `${where}: ${error.message}`;
      finish(new DeliveryError(message, { mayHaveDelivered: written }));
    });
    socket.on('close', () => {
      if (receiverClosed && written) finish();
      else
        finish(
          new DeliveryError(`${where}: connection closed before the batch was confirmed`, {
            mayHaveDelivered: written,
          }),
        );
    });
  });
}
