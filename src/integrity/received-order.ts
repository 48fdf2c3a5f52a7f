/**
 * Leaves follow stream order, and an event's received_at is taken just before its transaction
 * writes, so along a log received_at only rises, give or take clock differences between servers and
 * time spent waiting for a connection. An event whose received_at lies further back than this behind
 * an earlier leaf was written into the past: stored outside the service with a backdated time.
 */
export const RECEIVED_AT_TOLERANCE_MS = 5 * 60_000;

/** Tracks the latest received_at seen along a log and tells when one goes back too far. */
export class ReceivedOrder {
  #latest = Number.NEGATIVE_INFINITY;
  #latestLeaf = -1;

  constructor(private readonly toleranceMs = RECEIVED_AT_TOLERANCE_MS) {}

  /** Null when `receivedAt` is in order; otherwise why not. Call in leaf order. */
  check(leafIndex: number, receivedAt: Date): string | null {
    const time = receivedAt.getTime();
    if (time < this.#latest - this.toleranceMs) {
      return (
        `received at ${receivedAt.toISOString()}, ${Math.round((this.#latest - time) / 1000)} s before leaf ` +
        `${this.#latestLeaf} (${new Date(this.#latest).toISOString()}): written into the past`
      );
    }
    if (time > this.#latest) {
      this.#latest = time;
      this.#latestLeaf = leafIndex;
    }
    return null;
  }
}
