import { and, type SQL, sql } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import { events } from '../db/tables.ts';
import { readSettledEvents, type SettledEvent, type StreamPosition } from '../events/settled.ts';
import type { Logger } from '../logger.ts';
import { comparePositions, type Horizon, positionAt } from './horizon.ts';
import type { StreamSubscription } from './subscription.ts';

export interface GroupEnvironment {
  db: Database;
  logger: Logger;
  /** The latest horizon sampled, always taken before any read that looks at it starts. */
  horizon(): Horizon;
  /** Rows per read. */
  pageSize: number;
  /** How long a shared read waits for a full subscriber before leaving it to catch up alone. */
  stallMs: number;
  /** A subscriber this many events behind its group is ended as a slow consumer. */
  maxLag: number;
  /** Pause before retrying a read that failed. */
  retryMs: number;
  /** Keeps track of running reads so the hub can wait for them on shutdown. */
  track(task: Promise<void>): void;
  /** Counts reads (shared and catch-up) as they start. */
  counted(kind: 'shared' | 'catchUp'): void;
}

const delay = (ms: number) =>
  new Promise<void>((resolve) => {
    setTimeout(resolve, ms).unref();
  });

const atOrBefore = (bound: StreamPosition) =>
  sql`(${events.xid}, ${events.id}) <= (${bound.xid}::xid8, ${bound.id}::uuid)`;

/**
 * The subscribers of one organization with one filter, sharing one cursor loop: each wake-up reads
 * the settled rows after the group's position, in pages until a short page, and hands every page to
 * all live members, so a wake-up costs the same few queries however many subscribe.
 *
 * A member that is behind (resuming from an old cursor, starting at BEGINNING, or too slow to take
 * the last page) runs the same read on its own, bounded by the group's position, at the pace it
 * consumes; once it reaches the group's position it joins the shared reads again.
 */
export class StreamGroup {
  readonly members = new Set<StreamSubscription>();
  private readonly live = new Set<StreamSubscription>();
  /** Members that fell off the shared reads: how far the group was then, how much they have read since. */
  private readonly laggards = new Map<StreamSubscription, { mark: number; read: number }>();
  position: StreamPosition;
  /** Events the shared reads have handed out; with the marks above it tells how far behind a laggard is. */
  private delivered = 0;
  /** Rows of hinted transactions have ids below this; until the horizon passes it, some may not be settled yet. */
  private pendingUntil: bigint | null = null;
  private lastReadXmin: bigint;
  private failed = false;
  private running = false;
  private again = false;

  constructor(
    readonly organizationUuid: string | null,
    private readonly where: SQL | undefined,
    private readonly env: GroupEnvironment,
  ) {
    const horizon = env.horizon();
    this.position = positionAt(horizon);
    this.lastReadXmin = horizon.xmin;
  }

  add(subscription: StreamSubscription): void {
    this.members.add(subscription);
    this.env.track(this.catchUp(subscription));
  }

  /** True when the group has no members left. */
  remove(subscription: StreamSubscription): boolean {
    this.members.delete(subscription);
    this.live.delete(subscription);
    this.laggards.delete(subscription);
    return this.members.size === 0;
  }

  /** A NOTIFY named this group's organization; `horizon` was sampled after it arrived. */
  hinted(horizon: Horizon): void {
    if (this.pendingUntil === null || horizon.xmax > this.pendingUntil) this.pendingUntil = horizon.xmax;
  }

  /** Whether some rows this group was told about may still be settling, or its last read failed. */
  get waiting(): boolean {
    return this.failed || this.pendingUntil !== null;
  }

  /** Whether rows may have settled for this group since its last read. */
  mayHaveSettled(horizon: Horizon): boolean {
    return this.failed || (this.pendingUntil !== null && horizon.xmin > this.lastReadXmin);
  }

  wake(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    this.env.track(this.drain());
  }

  private async drain(): Promise<void> {
    try {
      do {
        this.again = false;
        while (this.members.size > 0) {
          await this.waitForRoom();
          const horizon = this.env.horizon();
          this.env.counted('shared');
          const page = await readSettledEvents(this.env.db, this.where, this.position, this.env.pageSize);
          this.deliver(page);
          this.lastReadXmin = horizon.xmin;
          if (page.length < this.env.pageSize) {
            if (this.pendingUntil !== null && horizon.xmin >= this.pendingUntil) this.pendingUntil = null;
            break;
          }
        }
        this.failed = false;
      } while (this.again && this.members.size > 0);
    } catch (error) {
      this.failed = true;
      this.env.logger.error('stream read failed; retrying on the next tick', { error: String(error) });
    } finally {
      this.running = false;
    }
  }

  private deliver(page: SettledEvent[]): void {
    if (page.length === 0) return;
    for (const subscription of this.live) {
      for (const event of page) subscription.push(event);
    }
    this.position = page[page.length - 1]!.position;
    this.delivered += page.length;
    for (const [subscription, lag] of this.laggards) {
      if (subscription.buffered + this.delivered - lag.mark - lag.read > this.env.maxLag) {
        subscription.terminate('slow-consumer');
      }
    }
  }

  /**
   * Gives full members a moment to drain; those still full catch up on their own instead of holding
   * everyone. Except when most of the group is still full but moving: then what is slow is this
   * server sending, not those consumers reading, and each reading on its own would multiply the reads
   * and the rows to decode by the size of the group, the opposite of what the server needs. The group
   * waits for them instead (and still lets go of any that took nothing at all).
   */
  private async waitForRoom(): Promise<void> {
    const page = this.env.pageSize;
    let full = [...this.live].filter((subscription) => !subscription.hasRoomFor(page));
    while (full.length > 0) {
      const takenBefore = new Map(full.map((subscription) => [subscription, subscription.taken]));
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all(full.map((subscription) => subscription.whenRoomFor(page))),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, this.env.stallMs);
        }),
      ]);
      clearTimeout(timer);
      full = full.filter((subscription) => !subscription.ended && !subscription.hasRoomFor(page));
      const moving = full.filter((subscription) => subscription.taken > takenBefore.get(subscription)!);
      if (moving.length * 2 <= this.live.size) break;
      this.leaveBehind(full.filter((subscription) => subscription.taken === takenBefore.get(subscription)));
      full = moving;
    }
    this.leaveBehind(full);
  }

  /** Takes full members off the shared reads: each catches up on its own, or ends if too far behind. */
  private leaveBehind(subscriptions: StreamSubscription[]): void {
    for (const subscription of subscriptions) {
      this.live.delete(subscription);
      if (subscription.buffered > this.env.maxLag) {
        subscription.terminate('slow-consumer');
        continue;
      }
      this.laggards.set(subscription, { mark: this.delivered, read: 0 });
      this.env.track(this.catchUp(subscription));
    }
  }

  /**
   * Reads on the subscriber's own behalf until it reaches the group's position. Everything up to that
   * position has settled (the group read it), so each bounded read is complete and final.
   */
  private async catchUp(subscription: StreamSubscription): Promise<void> {
    while (!subscription.ended) {
      await subscription.whenRoomFor(this.env.pageSize);
      if (subscription.ended) return;
      if (comparePositions(subscription.position, this.position) >= 0) {
        if (comparePositions(subscription.position, this.position) > 0)
          subscription.floor = subscription.position;
        this.laggards.delete(subscription);
        this.live.add(subscription);
        return;
      }
      const bound = this.position;
      let page: SettledEvent[];
      try {
        this.env.counted('catchUp');
        page = await readSettledEvents(
          this.env.db,
          and(this.where, atOrBefore(bound)),
          subscription.position,
          this.env.pageSize,
        );
      } catch (error) {
        this.env.logger.error('stream catch-up read failed; retrying', { error: String(error) });
        await delay(this.env.retryMs);
        continue;
      }
      if (subscription.ended) return;
      for (const event of page) subscription.push(event);
      const lag = this.laggards.get(subscription);
      if (lag) lag.read += page.length;
      if (page.length < this.env.pageSize && comparePositions(bound, subscription.position) > 0) {
        subscription.position = bound;
      }
    }
  }
}
