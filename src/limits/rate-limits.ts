import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import type { Config } from '../config.ts';
import { type RateLimitPolicy, rateLimited } from './rate-limited-error.ts';

/**
 * The rate limits of one server process (fixed windows, in memory): requests and emitted events per
 * API key, failed authentications per client address. Counters are not shared between instances, so
 * N instances behind a balancer let a key through up to N times each limit.
 */
export class RateLimits {
  readonly requests: RateLimitPolicy;
  readonly events: RateLimitPolicy;
  readonly authFailures: RateLimitPolicy;
  private readonly requestLimiter: RateLimiterMemory;
  private readonly eventLimiter: RateLimiterMemory;
  private readonly authFailureLimiter: RateLimiterMemory;

  constructor(limits: Config['rateLimits']) {
    this.requests = {
      name: 'requests',
      variable: 'RATE_LIMIT_PER_KEY',
      quota: limits.requestsPerKey,
      windowSeconds: 1,
      unit: 'request',
    };
    this.events = {
      name: 'events',
      variable: 'RATE_LIMIT_EVENTS_PER_KEY',
      quota: limits.eventsPerKey,
      windowSeconds: 1,
    };
    this.authFailures = {
      name: 'auth-failures',
      variable: 'RATE_LIMIT_AUTH_FAILURES_PER_IP',
      quota: limits.authFailuresPerIp,
      windowSeconds: 60,
    };
    this.requestLimiter = limiterFor(this.requests);
    this.eventLimiter = limiterFor(this.events);
    this.authFailureLimiter = limiterFor(this.authFailures);
  }

  /** Counts one request (an HTTP GraphQL request or a WebSocket operation) of `keyId`; throws RATE_LIMITED past the limit. */
  consumeRequest(keyId: string): Promise<void> {
    return consume(this.requestLimiter, this.requests, keyId, 1);
  }

  /** Counts `count` emitted events of `keyId` (an emitEvents batch of N counts N). */
  consumeEvents(keyId: string, count: number): Promise<void> {
    return count > 0 ? consume(this.eventLimiter, this.events, keyId, count) : Promise.resolve();
  }

  /** Throws RATE_LIMITED while `address` has used up its failed authentications, whatever key it sends now. */
  async refuseLockedOut(address: string | undefined): Promise<void> {
    if (!address) return;
    const state = await this.authFailureLimiter.get(address);
    // The memory store drops a window on a timer; one whose time is up but not yet dropped no longer counts.
    if (state && state.msBeforeNext > 0 && state.consumedPoints >= this.authFailures.quota) {
      throw rateLimited(
        this.authFailures,
        { msBeforeNext: state.msBeforeNext, remainingPoints: 0 },
        `Too many failed authentications from this address; retry in ${secondsOf(state)} s`,
      );
    }
  }

  /** Records a failed authentication from `address`. */
  async recordAuthFailure(address: string | undefined): Promise<void> {
    if (!address) return;
    await this.authFailureLimiter.consume(address, 1).catch(rethrowFaults);
  }
}

function limiterFor(policy: RateLimitPolicy) {
  return new RateLimiterMemory({
    keyPrefix: policy.name,
    points: policy.quota,
    duration: policy.windowSeconds,
  });
}

async function consume(limiter: RateLimiterMemory, policy: RateLimitPolicy, key: string, points: number) {
  try {
    await limiter.consume(key, points);
  } catch (rejection) {
    rethrowFaults(rejection);
    const state = rejection as RateLimiterRes;
    throw rateLimited(
      policy,
      state,
      `Rate limit of ${policy.quota} ${policy.name} per ${policy.windowSeconds === 1 ? 'second' : `${policy.windowSeconds} s`} for this API key exceeded; retry in ${secondsOf(state)} s`,
    );
  }
}

/** The limiter rejects with a RateLimiterRes when over the limit; anything else is a fault. */
function rethrowFaults(rejection: unknown): void {
  if (!(rejection instanceof RateLimiterRes)) throw rejection;
}

export const secondsOf = (state: Pick<RateLimiterRes, 'msBeforeNext'>) =>
  Math.max(1, Math.ceil(state.msBeforeNext / 1000));
