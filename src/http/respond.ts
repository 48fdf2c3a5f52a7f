import type { ServerResponse } from 'node:http';

/** Codes of the answers the HTTP layer gives on its own, before any route runs or after one failed. */
export type HttpErrorCode =
  | 'BAD_REQUEST'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'PAYLOAD_TOO_LARGE'
  | 'INTERNAL_SERVER_ERROR';

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res
    .writeHead(status, {
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(text)),
      ...headers,
    })
    .end(text);
}

/** The same `{ errors: [{ message, extensions: { code } }] }` shape GraphQL errors have. */
export function sendError(
  res: ServerResponse,
  status: number,
  code: HttpErrorCode,
  message: string,
  options: { headers?: Record<string, string>; extensions?: Record<string, unknown> } = {},
): void {
  sendJson(
    res,
    status,
    { errors: [{ message, extensions: { code, ...options.extensions } }] },
    options.headers,
  );
}
