import { GraphQLError } from 'graphql';

export type ErrorCode =
  | 'BAD_USER_INPUT'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'IDEMPOTENCY_CONFLICT'
  | 'PAYLOAD_TOO_LARGE'
  /** Over a rate limit or a connection/subscription cap; retry after `extensions.retryAfterSeconds`. */
  | 'RATE_LIMITED'
  /** The same expensive work is already running for this organization; retry when it ends. */
  | 'BUSY'
  /** Refused before it ran: the operation costs more than MAX_QUERY_COST (`extensions.cost`, `maxCost`). */
  | 'QUERY_TOO_COSTLY'
  /** A statement ran longer than STATEMENT_TIMEOUT_MS and was cancelled. */
  | 'QUERY_TIMEOUT';

const httpStatusOf: Partial<Record<ErrorCode, number>> = {
  UNAUTHENTICATED: 401,
  PAYLOAD_TOO_LARGE: 413,
  QUERY_TOO_COSTLY: 400,
  RATE_LIMITED: 429,
};

/**
 * An expected failure with a stable `extensions.code`. It is a GraphQLError so Yoga shows it as-is
 * (unexpected errors are masked); `extensions.path` names the offending input field.
 */
export class AuditlineError extends GraphQLError {
  readonly code: ErrorCode;
  readonly inputPath: string[];

  constructor(code: ErrorCode, message: string, inputPath: string[] = []) {
    const status = httpStatusOf[code];
    super(message, {
      extensions: {
        code,
        ...(inputPath.length > 0 ? { path: inputPath } : {}),
        ...(status ? { http: { status } } : {}),
      },
    });
    this.name = 'AuditlineError';
    this.code = code;
    this.inputPath = inputPath;
  }
}

export const badInput = (message: string, inputPath: string[] = []) =>
  new AuditlineError('BAD_USER_INPUT', message, inputPath);
