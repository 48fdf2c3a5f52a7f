import { GraphQLError } from 'graphql';
import type { SettledEvent, StreamPosition } from '../events/settled.ts';
import { comparePositions } from './horizon.ts';

/** Why the server ended a stream; the client should reconnect and resume from its last cursor. */
export type StreamEndReason = 'slow-consumer' | 'key-revoked' | 'shutting-down';

export const streamEndMessages: Record<StreamEndReason, { code: string; message: string }> = {
  'slow-consumer': {
    code: 'SLOW_CONSUMER',
    message: 'The stream fell too far behind; reconnect and resume with the last cursor',
  },
  'key-revoked': { code: 'KEY_REVOKED', message: 'The API key of this stream was revoked' },
  'shutting-down': {
    code: 'SHUTTING_DOWN',
    message: 'The server is shutting down; reconnect and resume with the last cursor',
  },
};

export interface SubscriptionSpec {
  /** The key's id (`key_…`), re-checked periodically so a revoked key's streams end. */
  keyId: string;
  /** Called once when the server ends the stream (not when the client does). */
  onEnd?: (reason: StreamEndReason) => void;
}

/**
 * How long deliveries may hold the event loop before they let it turn. A consumer (graphql-ws, Yoga's
 * SSE) takes each event with `await next()` and a buffered event resolves at once, so without a
 * yield a page handed to 500 subscribers would be delivered in one run of promise callbacks: seconds
 * during which no HTTP request, database answer or timer of this process is served.
 */
const DELIVERY_SLICE_MS = 10;
let sliceStartedAt: number | null = null;

/** Whether the current run of deliveries has held the event loop for a whole slice. */
function sliceUsedUp(): boolean {
  const now = performance.now();
  if (sliceStartedAt === null) {
    sliceStartedAt = now;
    // Runs once the event loop has turned, after the I/O the slice held up: the next delivery starts a
    // new slice. A timer rather than setImmediate: in tests on embedded PGlite, immediates queued from
    // here did not run until some timer woke the loop, which stalled the stream.
    setTimeout(() => {
      sliceStartedAt = null;
    }, 0);
    return false;
  }
  return now - sliceStartedAt > DELIVERY_SLICE_MS;
}

let nextTurn: Promise<void> | null = null;

/** Resolves once the event loop has turned; every delivery held back in this slice waits on the same timer. */
function afterTurn(): Promise<void> {
  nextTurn ??= new Promise((resolve) =>
    setTimeout(() => {
      nextTurn = null;
      resolve();
    }, 0),
  );
  return nextTurn;
}

/**
 * One subscriber's queue of events, read through the async-iterator protocol graphql-ws and Yoga
 * consume. `position` is the last event handed to it (or where it started): it has every matching
 * event up to there. Events at or before `floor` are skipped; a subscriber that joins a shared
 * stream ahead of it uses that.
 */
export class StreamSubscription implements AsyncIterableIterator<SettledEvent> {
  private queue: SettledEvent[] = [];
  private head = 0;
  private waiting: ((result: IteratorResult<SettledEvent>) => void) | null = null;
  private waitingFailure: ((error: unknown) => void) | null = null;
  private roomWaiters: { need: number; resolve: () => void }[] = [];
  private failure: GraphQLError | null = null;
  ended = false;
  floor: StreamPosition | null = null;
  /** Events the consumer has taken so far: whether it is moving at all. */
  taken = 0;

  constructor(
    readonly spec: SubscriptionSpec,
    public position: StreamPosition,
    private readonly capacity: number,
    private readonly onClose: (subscription: StreamSubscription) => void,
  ) {}

  get buffered(): number {
    return this.queue.length - this.head;
  }

  hasRoomFor(count: number): boolean {
    return this.buffered + count <= this.capacity;
  }

  /** Resolves once `count` more events fit (or the stream ended). */
  whenRoomFor(count: number): Promise<void> {
    if (this.ended || this.hasRoomFor(count)) return Promise.resolve();
    return new Promise((resolve) => this.roomWaiters.push({ need: count, resolve }));
  }

  push(event: SettledEvent): void {
    if (this.ended) return;
    if (this.floor) {
      if (comparePositions(event.position, this.floor) <= 0) return;
      this.floor = null;
    }
    this.position = event.position;
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = null;
      this.waitingFailure = null;
      resolve({ value: event, done: false });
      return;
    }
    this.queue.push(event);
  }

  /** The server ends the stream: the client gets an error (and, over WebSockets, a close code). */
  terminate(reason: StreamEndReason): void {
    if (this.ended) return;
    const { code, message } = streamEndMessages[reason];
    this.failure = new GraphQLError(message, { extensions: { code } });
    this.spec.onEnd?.(reason);
    this.finish();
  }

  next(): Promise<IteratorResult<SettledEvent>> {
    if (this.buffered > 0 && !this.failure) {
      const value = this.queue[this.head]!;
      this.queue[this.head] = undefined as never;
      this.head += 1;
      this.taken += 1;
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
      this.releaseRoomWaiters();
      if (sliceUsedUp()) {
        return afterTurn().then(() => ({ value, done: false }));
      }
      return Promise.resolve({ value, done: false });
    }
    if (this.failure) {
      const failure = this.failure;
      this.failure = null;
      return Promise.reject(failure);
    }
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.waiting = resolve;
      this.waitingFailure = reject;
    });
  }

  return(): Promise<IteratorResult<SettledEvent>> {
    this.failure = null;
    this.finish();
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(error?: unknown): Promise<IteratorResult<SettledEvent>> {
    this.finish();
    return Promise.reject(error);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    this.queue = [];
    this.head = 0;
    for (const waiter of this.roomWaiters) waiter.resolve();
    this.roomWaiters = [];
    if (this.waiting) {
      const resolve = this.waiting;
      const reject = this.waitingFailure!;
      this.waiting = null;
      this.waitingFailure = null;
      if (this.failure) {
        const failure = this.failure;
        this.failure = null;
        reject(failure);
      } else resolve({ value: undefined, done: true });
    }
    this.onClose(this);
  }

  private releaseRoomWaiters(): void {
    if (this.roomWaiters.length === 0) return;
    this.roomWaiters = this.roomWaiters.filter((waiter) => {
      if (!this.hasRoomFor(waiter.need)) return true;
      waiter.resolve();
      return false;
    });
  }
}
