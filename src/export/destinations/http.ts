import { DeliveryError } from './transport.ts';

/** Errors that happen before a single byte reaches the receiver. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

export const USER_AGENT = 'Auditline-Export/1.0';

/** fetch with a deadline; network failures become DeliveryErrors that tell whether the body may have arrived. */
export async function httpRequest(
  url: string,
  init: { method?: string; headers: Record<string, string>; body?: string | Buffer },
  timeoutMs: number,
): Promise<Response> {
  try {
    return await fetch(url, {
      method: init.method ?? 'POST',
      headers: { 'user-agent': USER_AGENT, ...init.headers },
      body: typeof init.body === 'string' || init.body === undefined ? init.body : new Uint8Array(init.body),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const code = cause?.code ?? (error as { name?: string }).name ?? 'error';
    const reason =
      (error as Error).name === 'TimeoutError'
        ? `no answer within ${timeoutMs} ms`
        : (cause?.message ?? (error as Error).message);
    throw new DeliveryError(`${new URL(url).host}: ${reason}`, { mayHaveDelivered: !NOT_SENT.has(code) });
  }
}

/** Throws a DeliveryError for a non-2xx answer, carrying its Retry-After and the start of its body. */
export async function expectSuccess(response: Response, what: string): Promise<void> {
  if (response.ok) {
    await response.body?.cancel();
    return;
  }
  const body = (await response.text().catch(() => '')).slice(0, 300).replace(/\s+/g, ' ').trim();
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
