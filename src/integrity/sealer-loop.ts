import type { DatabaseHandle } from '../db/client.ts';
import { EVENTS_CHANNEL } from '../events/writer.ts';
import type { Logger } from '../logger.ts';
import { signCheckpoints } from './checkpointer.ts';
import { sealPending } from './sealer.ts';
import type { IntegritySettings } from './service.ts';
import type { SigningIdentity } from './signing-key.ts';

/** Held for as long as a process is the sealer; the others stand by and retry. */
const SEALER_LEADER_LOCK = 0x61756469746c6e11n;
/** Safety tick: NOTIFY is only a hint, and an event becomes readable only once older transactions settle. */
const TICK_MS = 1000;
/** After a wake-up, wait this long so one transaction seals what arrived meanwhile. */
const GATHER_MS = 50;
export const STANDBY_RETRY_MS = 5000;
/** Batches per round, so that during a long catch-up checkpoints still get signed on time. */
const BATCHES_PER_ROUND = 25;

export interface SealerLoopContext {
  database: DatabaseHandle;
  settings: IntegritySettings;
  identity: () => Promise<SigningIdentity>;
  logger: Logger;
}

/**
 * The sealer: one per database (advisory-lock leader). Seals settled events as they arrive, woken by
 * the writer's NOTIFY and a tick, and signs checkpoints every CHECKPOINT_INTERVAL when a log grew.
 * Ingest never waits for it. Runs wherever it is started: in the server's thread or in a thread of
 * its own (`sealer-worker.ts` decides).
 */
export function sealerLoop({ database, settings, identity: loadIdentity, logger }: SealerLoopContext) {
  const waker = new Waker();
  const intervalMs = settings.checkpointIntervalMs;
  let stopped = false;
  let stopping = new AbortController();
  let running: Promise<void> | undefined;

  async function lead(): Promise<void> {
    const identity = await loadIdentity();
    const unlisten = await database.listen(
      EVENTS_CHANNEL,
      () => waker.signal(),
      () => waker.signal(),
    );
    logger.info('integrity sealer started', { verifierKey: identity.verifierKey });
    let lastCheckpoint = 0;
    try {
      while (!stopped) {
        const result = await sealPending(database.db, {
          maxBatches: BATCHES_PER_ROUND,
          signal: stopping.signal,
        });
        if (result.sealed > 0) {
          logger.debug('sealed events', { sealed: result.sealed, organizations: result.organizations });
        }
        const sinceCheckpoint = Date.now() - lastCheckpoint;
        if (sinceCheckpoint >= intervalMs) {
          const { signed } = await signCheckpoints(database.db, {
            originPrefix: settings.originPrefix,
            identity,
          });
          if (signed > 0) logger.debug('signed checkpoints', { signed });
          lastCheckpoint = Date.now();
        }
        if (!result.caughtUp) {
          // More is settled: go on at once, letting requests in between on a PGlite process.
          await new Promise((resolve) => setImmediate(resolve));
          continue;
        }
        const woken = await waker.wait(Math.min(TICK_MS, intervalMs - (Date.now() - lastCheckpoint)));
        if (woken && !stopped) await delay(GATHER_MS);
      }
    } finally {
      await unlisten();
    }
  }

  async function run(): Promise<void> {
    while (!stopped) {
      try {
        const outcome = await database.tryWithAdvisoryLock(SEALER_LEADER_LOCK, lead);
        if (!outcome.acquired && !stopped) await waker.wait(STANDBY_RETRY_MS);
      } catch (error) {
        logger.error('integrity sealer failed; retrying', { error: String(error) });
        // Not woken early by new events: a failure that repeats would otherwise repeat with every emit.
        const until = Date.now() + STANDBY_RETRY_MS;
        while (!stopped && Date.now() < until) await waker.wait(until - Date.now());
      }
    }
  }

  return {
    start() {
      stopped = false;
      stopping = new AbortController();
      running = run();
    },
    async stop() {
      stopped = true;
      stopping.abort();
      waker.signal();
      await running;
    },
  };
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/** A wake-up signal that is not lost when it arrives while nobody waits. */
class Waker {
  #pending = false;
  #wake: (() => void) | undefined;

  signal(): void {
    if (this.#wake) this.#wake();
    else this.#pending = true;
  }

  /** Resolves true when signalled, false when `ms` passed first. */
  wait(ms: number): Promise<boolean> {
    if (this.#pending) {
      this.#pending = false;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish(false), Math.max(0, ms));
      timer.unref();
      const finish = (woken: boolean) => {
        clearTimeout(timer);
        this.#wake = undefined;
        resolve(woken);
      };
      this.#wake = () => finish(true);
    });
  }
}
