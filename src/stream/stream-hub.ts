import type { SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import type { DatabaseHandle } from '../db/client.ts';
import type { StreamPosition } from '../events/settled.ts';
import type { Logger } from '../logger.ts';
import { type Horizon, sampleHorizon } from './horizon.ts';
import { activeKeyIds } from './key-watch.ts';
import { EventListener, type ListenerTiming, type WakeUp } from './listener.ts';
import { StreamGroup } from './stream-group.ts';
import { StreamSubscription, type SubscriptionSpec } from './subscription.ts';

export interface StreamOptions extends ListenerTiming {
  /** Rows per read, at most; never more than half of `maxLag`. */
  pageSize: number;
  /** A subscriber this many events behind the live stream is closed as a slow consumer. */
  maxLag: number;
  /** How long a shared read waits for a subscriber whose buffer is full. */
  stallMs: number;
  /** How often the keys behind open streams are checked for revocation. */
  keyRecheckMs: number;
}

export const defaultStreamOptions: StreamOptions = {
  pageSize: 500,
  maxLag: 10_000,
  stallMs: 200,
  tickMs: 100,
  sweepMs: 10_000,
  pingMs: 10_000,
  keyRecheckMs: 2_000,
};

export interface OpenStream extends SubscriptionSpec {
  /** The tenant wall: null only for a platform key streaming every organization. */
  organizationUuid: string | null;
  /** The compiled filter, which already includes the tenant wall. */
  where: SQL | undefined;
  /** The subscriber has every matching event up to here. */
  after: StreamPosition;
}

const dialect = new PgDialect();
/** Pause before a subscriber's failed catch-up read is tried again (the database may be down). */
const READ_RETRY_MS = 1000;

/**
 * Every live stream of the process. Subscriptions with the same organization and the same compiled
 * filter share a group and so one read per wake-up. Wake-ups come in rounds: each round samples the
 * settling horizon once (one query), then wakes the groups a NOTIFY named and the groups whose rows
 * were still settling and may now have settled.
 */
export class StreamHub {
  private readonly groups = new Map<string, StreamGroup>();
  private readonly groupOf = new Map<StreamSubscription, StreamGroup>();
  private readonly listener: EventListener;
  private readonly running = new Set<Promise<void>>();
  private latestHorizon: Horizon | null = null;
  private starting: Promise<void> | null = null;
  private keyTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private hintedOrganizations = new Set<string>();
  private hintedAll = false;
  private roundRunning = false;
  private roundAgain = false;
  /** Counters for tests and benchmarks: wake-up rounds (one horizon query each) and reads started. */
  readonly stats = { rounds: 0, sharedReads: 0, catchUpReads: 0 };
  /** A subscriber buffers up to two pages, so one that keeps up is never more than `maxLag` behind. */
  private readonly pageSize: number;

  constructor(
    private readonly database: DatabaseHandle,
    private readonly logger: Logger,
    private readonly options: StreamOptions = defaultStreamOptions,
  ) {
    this.pageSize = Math.max(1, Math.min(options.pageSize, Math.floor(options.maxLag / 2)));
    this.listener = new EventListener(
      database,
      options,
      logger,
      (wake) => this.wake(wake),
      () => this.scheduleRound(),
    );
  }

  /** Samples the horizon and starts listening; idempotent. */
  start(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.starting ??= (async () => {
      await this.listener.start();
      this.keyTimer = setInterval(() => void this.recheckKeys(), this.options.keyRecheckMs);
      this.keyTimer.unref();
    })().catch((error) => {
      this.starting = null; // let the next subscriber try again
      throw error;
    });
    return this.starting;
  }

  /** Ends every stream (clients are told to resume elsewhere) and stops listening. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.keyTimer);
    await this.starting?.catch(() => {});
    await this.listener.stop();
    for (const subscription of [...this.groupOf.keys()]) subscription.terminate('shutting-down');
    await Promise.allSettled([...this.running]);
  }

  async open(stream: OpenStream): Promise<StreamSubscription> {
    await this.start();
    const key = `${stream.organizationUuid ?? '*'} ${stream.where ? JSON.stringify(dialect.sqlToQuery(stream.where)) : ''}`;
    // A new group starts at the current horizon; a horizon from before the last quiet spell would make
    // it re-read everything since then.
    if (!this.stopped && !this.groups.has(key)) this.observe(await sampleHorizon(this.database.db));
    const subscription = new StreamSubscription(
      { keyId: stream.keyId, onEnd: stream.onEnd },
      stream.after,
      this.pageSize * 2,
      (ended) => this.closed(ended, key),
    );
    if (this.stopped) {
      subscription.terminate('shutting-down');
      return subscription;
    }
    let group = this.groups.get(key);
    if (!group) {
      group = new StreamGroup(stream.organizationUuid, stream.where, {
        db: this.database.db,
        logger: this.logger,
        horizon: () => this.latestHorizon!,
        pageSize: this.pageSize,
        stallMs: this.options.stallMs,
        maxLag: this.options.maxLag,
        retryMs: READ_RETRY_MS,
        track: (task) => this.track(task),
        counted: (kind) => {
          if (kind === 'shared') this.stats.sharedReads += 1;
          else this.stats.catchUpReads += 1;
        },
      });
      this.groups.set(key, group);
    }
    this.groupOf.set(subscription, group);
    group.add(subscription);
    return subscription;
  }

  get subscriptionCount(): number {
    return this.groupOf.size;
  }

  get groupCount(): number {
    return this.groups.size;
  }

  private closed(subscription: StreamSubscription, key: string): void {
    const group = this.groupOf.get(subscription);
    this.groupOf.delete(subscription);
    if (group?.remove(subscription) && this.groups.get(key) === group) this.groups.delete(key);
  }

  private wake(wake: WakeUp): void {
    if (wake === 'all') this.hintedAll = true;
    else for (const organization of wake) this.hintedOrganizations.add(organization);
    this.scheduleRound();
  }

  private observe(horizon: Horizon): void {
    if (!this.latestHorizon || horizon.xmin >= this.latestHorizon.xmin) this.latestHorizon = horizon;
  }

  private anyGroupWaiting(): boolean {
    for (const group of this.groups.values()) if (group.waiting) return true;
    return false;
  }

  private scheduleRound(): void {
    if (this.stopped || this.groups.size === 0) {
      this.hintedOrganizations.clear();
      this.hintedAll = false;
      return;
    }
    if (this.roundRunning) {
      this.roundAgain = true;
      return;
    }
    this.roundRunning = true;
    this.track(this.runRounds());
  }

  private async runRounds(): Promise<void> {
    try {
      do {
        this.roundAgain = false;
        const organizations = this.hintedOrganizations;
        const all = this.hintedAll;
        this.hintedOrganizations = new Set();
        this.hintedAll = false;
        // Sampled after the hints above arrived: their transactions have ids below its xmax.
        if (!all && organizations.size === 0 && !this.anyGroupWaiting()) continue;
        const horizon = await sampleHorizon(this.database.db);
        this.observe(horizon);
        this.stats.rounds += 1;
        const anyHint = all || organizations.size > 0;
        for (const group of this.groups.values()) {
          const hinted =
            all || (group.organizationUuid === null ? anyHint : organizations.has(group.organizationUuid));
          if (hinted) group.hinted(horizon);
          if (hinted || group.mayHaveSettled(horizon)) group.wake();
        }
      } while (this.roundAgain && !this.stopped);
    } catch (error) {
      // The hints taken for this round are gone: wake everything once the database answers again.
      this.hintedAll = true;
      this.logger.error('stream wake-up failed; retrying on the next tick', { error: String(error) });
    } finally {
      this.roundRunning = false;
    }
  }

  /** Resolves once the reads and wake-ups running now have finished (tests use it to observe a quiet moment). */
  async whenIdle(): Promise<void> {
    await Promise.allSettled([...this.running]);
  }

  /** Ends the streams of a key that was just revoked. */
  keyRevoked(keyId: string): void {
    for (const subscription of [...this.groupOf.keys()]) {
      if (subscription.spec.keyId === keyId) subscription.terminate('key-revoked');
    }
  }

  /** Ends the streams whose key was revoked or deleted; runs every `keyRecheckMs`. */
  async recheckKeys(): Promise<void> {
    const keyIds = new Set([...this.groupOf.keys()].map((subscription) => subscription.spec.keyId));
    if (keyIds.size === 0) return;
    try {
      const active = await activeKeyIds(this.database.db, keyIds);
      for (const subscription of [...this.groupOf.keys()]) {
        if (keyIds.has(subscription.spec.keyId) && !active.has(subscription.spec.keyId)) {
          subscription.terminate('key-revoked');
        }
      }
    } catch (error) {
      this.logger.error('stream key check failed', { error: String(error) });
    }
  }

  private track(task: Promise<void>): void {
    this.running.add(task);
    void task.finally(() => this.running.delete(task));
  }
}
