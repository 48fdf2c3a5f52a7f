import type { LatencySummary } from './percentile.ts';

/** What the harness asks of the subscriber process (stream-child.ts), one request at a time. */
export type StreamChildRequest =
  | { type: 'open'; url: string; key: string; count: number }
  /** How many subscribers have received the event carrying this probe. */
  | { type: 'probed'; probe: string }
  | { type: 'reset' }
  | { type: 'stats' }
  | { type: 'close' };

export interface SubscriberStats {
  subscribers: number;
  /** Events with a send stamp received since the last reset, over all subscribers. */
  received: number;
  fewestPerSubscriber: number;
  mostPerSubscriber: number;
  /** Emit→receive latency of every received event. */
  latencyMs: LatencySummary;
  /** Subscriptions the server ended or that failed; none should in a healthy run. */
  ended: number;
  firstEnd: string | null;
}

export type StreamChildReply =
  | { type: 'opened'; subscribers: number }
  | { type: 'probed'; live: number }
  | { type: 'reset' }
  | { type: 'stats'; stats: SubscriberStats }
  | { type: 'closed' }
  | { type: 'failed'; error: string };
