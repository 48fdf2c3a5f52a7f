import { type ClientRequest, request as httpRequestRaw, type IncomingMessage } from 'node:http';
import { request as httpsRequestRaw } from 'node:https';
import { DestinationRefusedError, type OutboundConnector } from '../../network/connector.ts';
import { DeliveryError, receiverExcerpt } from './transport.ts';

/** Errors that happen before a single byte reaches the receiver. */
const NOT_SENT = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EDESTINATIONREFUSED',
]);

export const USER_AGENT = 'Auditline-Export/1.0';

/** A receiver's answer is read whole up to this size; what it sends beyond fails the request. */
const MAX_RESPONSE_BYTES = 1024 * 1024;

const NULL_BODY_STATUSES = new Set([204, 205, 304]);

/**
 * An HTTP(S) request through the destination connector, with a deadline for the whole exchange;
 * answers as a fetch `Response`. Network failures and refusals become DeliveryErrors that tell
 * whether the body may have arrived.
 */
export function httpRequest(
  connector: OutboundConnector,
  url: string,
  init: { method?: string; headers: Record<string, string>; body?: string | Buffer },
  timeoutMs: number,
): Promise<Response> {
  const target = new URL(url);
  const refused = connector.literalRefusal(target.hostname.replace(/^\[|\]$/g, ''));
  if (refused) return Promise.reject(new DeliveryError(refused.message, { mayHaveDelivered: false }));
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (error: NodeJS.ErrnoException) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      request.destroy();
      const message =
        error instanceof DestinationRefusedError ? error.message : `${target.host}: ${error.message}`;
      reject(new DeliveryError(message, { mayHaveDelivered: !NOT_SENT.has(error.code ?? '') }));
    };
    const send = target.protocol === 'https:' ? httpsRequestRaw : httpRequestRaw;
    let request: ClientRequest;
    try {
      request = send(target, {
        method: init.method ?? 'POST',
        headers: { 'user-agent': USER_AGENT, ...init.headers },
        agent: connector.agent(target.protocol),
      });
    } catch (error) {
      // A header value Node refuses (e.g. a secret with a line break): nothing was sent.
      reject(new DeliveryError(`${target.host}: ${(error as Error).message}`, { mayHaveDelivered: false }));
      return;
    }
    const timer = setTimeout(() => fail(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    request.on('error', fail);
    request.on('response', (response: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_RESPONSE_BYTES) fail(new Error(`answered with more than ${MAX_RESPONSE_BYTES} bytes`));
        else chunks.push(chunk);
      });
      response.on('error', fail);
      response.on('end', () => {
        if (settled) return;
        const status = response.statusCode ?? 0;
        if (status < 200 || status > 599) return fail(new Error(`answered with status ${status}`));
        settled = true;
        clearTimeout(timer);
        const headers = new Headers();
        for (let index = 0; index + 1 < response.rawHeaders.length; index += 2) {
          try {
            headers.append(response.rawHeaders[index]!, response.rawHeaders[index + 1]!);
          } catch {
            // A header the fetch API would not accept is of no use to the transports either.
          }
        }
        const body = NULL_BODY_STATUSES.has(status) ? null : Buffer.concat(chunks);
        resolve(new Response(body, { status, headers }));
      });
    });
    request.end(init.body);
  });
}

/**
 * Throws a DeliveryError for a non-2xx answer, carrying its Retry-After and the start of its body
 * (at most 256 bytes: a receiver only answers once the target passed the network policy).
 */
export async function expectSuccess(response: Response, what: string): Promise<void> {
  if (response.ok) {
    await response.body?.cancel();
    return;
  }
  const body = receiverExcerpt(await response.text().catch(() => ''));
  throw new DeliveryError(`${what} answered ${response.status}${body ? `: ${body}` : ''}`, {
    mayHaveDelivered: false,
    retryAfterMs: parseRetryAfter(response.headers.get('retry-after')),
  });
}

/** `Retry-After` as delay-seconds or an HTTP date, in milliseconds from `now`. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | null {
  if (!value) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}
