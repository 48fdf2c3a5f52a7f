export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
}

/**
 * Delay before retry number `attempt` (1 = first retry): exponential, capped at `maxMs`, with
 * "equal jitter" (half fixed, half random) so that failed destinations do not retry in lockstep.
 */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random = Math.random): number {
  const exponential = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(attempt - 1, 30));
  return Math.round(exponential / 2 + random() * (exponential / 2));
}

/** The receiver's Retry-After wins over our own schedule, within reason (an hour at most). */
export function retryDelay(
  attempt: number,
  policy: BackoffPolicy,
  retryAfterMs: number | null,
  random = Math.random,
) {
  if (retryAfterMs !== null) return Math.min(Math.max(retryAfterMs, 0), 60 * 60 * 1000);
  return backoffDelay(attempt, policy, random);
}
