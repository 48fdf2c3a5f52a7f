import type { Socket } from 'node:net';
import { DestinationRefusedError, type OutboundConnector } from '../../network/connector.ts';
import { DeliveryError, receiverExcerpt } from './transport.ts';

export interface RelpAddress {
  host: string;
  port: number;
}

/** `relp://host:port`. */
export function parseRelpUrl(url: string): RelpAddress | null {
  const match = /^relp:\/\/(\[[^\]]+\]|[^:/\s]+):(\d{1,5})\/?$/.exec(url.trim());
  if (!match) return null;
  const port = Number(match[2]);
  if (port < 1 || port > 65535) return null;
  return { host: match[1]!.replace(/^\[|\]$/g, ''), port };
}

/** Unacknowledged `syslog` commands allowed in flight on one session. */
export const RELP_WINDOW = 128;

const OFFERS = 'relp_version=0\nrelp_software=auditline\ncommands=syslog';
/** Responses are a status line and offers; anything near this size is not a RELP peer. */
const MAX_RESPONSE_BYTES = 64 * 1024;

export interface RelpFrame {
  txnr: number;
  command: string;
  data: Buffer;
}

/** `TXNR SP COMMAND SP DATALEN [SP DATA] LF`; DATALEN counts the octets of DATA. */
export function relpFrame(txnr: number, command: string, data: Buffer = Buffer.alloc(0)): Buffer {
  if (data.length === 0) return Buffer.from(`${txnr} ${command} 0\n`, 'ascii');
  return Buffer.concat([
    Buffer.from(`${txnr} ${command} ${data.length} `, 'ascii'),
    data,
    Buffer.from('\n', 'ascii'),
  ]);
}

/** Cuts whole frames off the front of `buffer`; `rest` is what is still incomplete. */
export function readRelpFrames(buffer: Buffer): { frames: RelpFrame[]; rest: Buffer } {
  const frames: RelpFrame[] = [];
  let offset = 0;
  for (;;) {
    const header = /^(\d{1,9}) ([A-Za-z]{1,32}) (\d{1,9})/.exec(
      buffer.subarray(offset, offset + 64).toString('latin1'),
    );
    if (!header) {
      const pending = buffer.subarray(offset, offset + 64).toString('latin1');
      if (!/^(\d{0,9}( ([A-Za-z]{0,32}( \d{0,9})?)?)?)?$/.test(pending) || pending.length >= 64) {
        throw new Error(`not a RELP frame: ${JSON.stringify(pending.slice(0, 40))}`);
      }
      break;
    }
    const length = Number(header[3]);
    if (length > MAX_RESPONSE_BYTES) throw new Error(`RELP frame of ${length} bytes is too large`);
    const start = offset + header[0].length;
    // DATALEN 0 is followed straight by LF; otherwise by SP, DATA, LF.
    const end = length === 0 ? start : start + 1 + length;
    if (buffer.length < end + 1) {
      if (buffer.length > start && buffer[start] !== (length === 0 ? 0x0a : 0x20)) {
        throw new Error('malformed RELP frame header');
      }
      break;
    }
    if ((length > 0 && buffer[start] !== 0x20) || buffer[end] !== 0x0a) {
      throw new Error('malformed RELP frame');
    }
    frames.push({
      txnr: Number(header[1]),
      command: header[2]!,
      data: length === 0 ? Buffer.alloc(0) : buffer.subarray(start + 1, end),
    });
    offset = end + 1;
  }
  return { frames, rest: buffer.subarray(offset) };
}

/** A `rsp` frame's status: `CODE [SP HUMANMSG] [LF DATA]`. */
function responseStatus(data: Buffer): { code: number; line: string } {
  const line = data.toString('utf8').split('\n', 1)[0]!;
  const code = /^(\d{3})(?: |$)/.exec(line);
  return { code: code ? Number(code[1]) : 0, line };
}

/**
 * Sends `messages` over one RELP session: `open`, the messages as `syslog` commands with up to
 * RELP_WINDOW unacknowledged at a time, then `close`. Resolves once the receiver answered `200` to
 * every message; any other answer, a `serverclose`, a dropped connection or no answer for
 * `timeoutMs` rejects with a DeliveryError so the whole batch is sent again.
 */
export function sendOverRelp(
  connector: OutboundConnector,
  address: RelpAddress,
  messages: Buffer[],
  timeoutMs: number,
): Promise<void> {
  const where = `relp://${address.host.includes(':') ? `[${address.host}]` : address.host}:${address.port}`;
  return new Promise((resolve, reject) => {
    let settled = false;
    let opened = false;
    /** Next message to send; its transaction number is `next + 2` (1 is `open`). */
    let next = 0;
    let acknowledged = 0;
    const pending = new Set<number>();
    let received: Buffer = Buffer.alloc(0);
    let timer: NodeJS.Timeout | undefined;

    const socket: Socket = connector.connect({ host: address.host, port: address.port }, () => {
      socket.write(relpFrame(1, 'open', Buffer.from(OFFERS, 'ascii')));
    });
    socket.setNoDelay(true);

    const fail = (reason: string, refused = false) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      reject(new DeliveryError(refused ? reason : `${where}: ${reason}`, { mayHaveDelivered: next > 0 }));
    };
    const armTimer = () => {
      clearTimeout(timer);
      timer = setTimeout(
        () =>
          fail(
            `the receiver did not acknowledge within ${timeoutMs} ms (${acknowledged} of ${messages.length})`,
          ),
        timeoutMs,
      );
    };
    const succeed = () => {
      settled = true;
      clearTimeout(timer);
      // Every message is acknowledged; closing the session politely is no longer part of the outcome.
      const closeTxnr = messages.length + 2;
      socket.write(relpFrame(closeTxnr, 'close'));
      socket.end();
      setTimeout(() => socket.destroy(), Math.min(timeoutMs, 5_000)).unref();
      resolve();
    };
    const fill = () => {
      while (next < messages.length && pending.size < RELP_WINDOW) {
        const txnr = next + 2;
        pending.add(txnr);
        socket.write(relpFrame(txnr, 'syslog', messages[next]!));
        next++;
      }
    };

    const onFrame = (frame: RelpFrame) => {
      if (frame.command === 'serverclose') {
        fail(`the receiver closed the session (${acknowledged} of ${messages.length} acknowledged)`);
        return;
      }
      if (frame.command !== 'rsp') {
        fail(`unexpected RELP command "${frame.command}"`);
        return;
      }
      const status = responseStatus(frame.data);
      if (!opened) {
        if (frame.txnr !== 1) return fail(`answer to transaction ${frame.txnr} before the session opened`);
        if (status.code !== 200)
          return fail(`the receiver refused the session: ${receiverExcerpt(status.line)}`);
        const commands = /(?:^|\n)commands=([^\n]*)/.exec(frame.data.toString('utf8'))?.[1] ?? '';
        if (!commands.split(',').includes('syslog')) {
          return fail('the receiver does not offer the syslog command');
        }
        opened = true;
        if (messages.length === 0) return succeed();
        fill();
        armTimer();
        return;
      }
      if (!pending.delete(frame.txnr)) return fail(`answer to unknown transaction ${frame.txnr}`);
      if (status.code !== 200) {
        return fail(
          `the receiver refused message ${frame.txnr - 1} of ${messages.length}: ${receiverExcerpt(status.line)}`,
        );
      }
      acknowledged++;
      if (acknowledged === messages.length) return succeed();
      fill();
      armTimer();
    };

    armTimer();
    socket.on('data', (chunk: Buffer) => {
      if (settled) return;
      try {
        const { frames, rest } = readRelpFrames(received.length ? Buffer.concat([received, chunk]) : chunk);
        received = rest;
        for (const frame of frames) {
          onFrame(frame);
          if (settled) return;
        }
      } catch (error) {
        fail((error as Error).message);
      }
    });
    socket.on('error', (error: NodeJS.ErrnoException) =>
      fail(error.message, error instanceof DestinationRefusedError),
    );
    socket.on('close', () =>
      fail(`connection closed with ${acknowledged} of ${messages.length} messages acknowledged`),
    );
  });
}
