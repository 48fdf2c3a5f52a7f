import { AuditlineError } from '../errors.ts';

/** One fixed-window quota: `quota` units per `windowSeconds`, configured by `variable`. */
export interface RateLimitPolicy {
  /** The policy's name in the RateLimit-Policy and RateLimit headers. */
  name: string;
  variable: string;
  quota: number;
  windowSeconds: number;
  /** A quota unit registered by the RateLimit headers draft ("request"), when one fits. */
  unit?: 'request';
}

/**
 * The RATE_LIMITED error for a policy over its quota. Over HTTP it answers 429 with `Retry-After` and
 * the RateLimit-Policy / RateLimit fields of draft-ietf-httpapi-ratelimit-headers (structured-field
 * lists: `"name";q=quota;w=window` and `"name";r=remaining;t=seconds-until-reset`).
 */
export function rateLimited(
  policy: RateLimitPolicy,
  state: { msBeforeNext: number; remainingPoints?: number },
  message: string,
): AuditlineError {
  const retryAfterSeconds = Math.max(1, Math.ceil(state.msBeforeNext / 1000));
  const error = new AuditlineError('RATE_LIMITED', message);
  Object.assign(error.extensions, {
    limit: policy.variable,
    retryAfterSeconds,
    http: {
      status: 429,
      headers: {
        'retry-after': String(retryAfterSeconds),
        'ratelimit-policy': policyField(policy),
        ratelimit: `"${policy.name}";r=${Math.max(0, state.remainingPoints ?? 0)};t=${retryAfterSeconds}`,
      },
    },
  });
  return error;
}

/** A cap (not a rate) was reached: RATE_LIMITED naming the limit's variable, with no retry time. */
export function capReached(variable: string, message: string): AuditlineError {
  const error = new AuditlineError('RATE_LIMITED', message);
  Object.assign(error.extensions, { limit: variable });
  return error;
}

export const policyField = (policy: RateLimitPolicy) =>
  `"${policy.name}";q=${policy.quota};w=${policy.windowSeconds}${policy.unit ? `;qu="${policy.unit}"` : ''}`;
