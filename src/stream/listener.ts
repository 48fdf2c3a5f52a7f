import { randomUUID } from 'node:crypto';
import type { DatabaseHandle } from '../db/client.ts';
import { EVENTS_CHANNEL } from '../events/writer.ts';
import type { Logger } from '../logger.ts';

/** Organizations (uuids) whose streams may have new events, or every stream. */
export type WakeUp = ReadonlySet<string> | 'all';

export interface ListenerTiming {
  /** Safety tick: streams waiting for rows to settle re-check this often (settling sends no NOTIFY). */
  tickMs: number;
  /** Every stream re-reads this often, hint or not, so a lost NOTIFY can only delay, never lose. */
  sweepMs: number;
  /** The listener NOTIFYs itself this often and re-arms its LISTEN when the echo does not come back. */
  pingMs: number;
}

/** Its own channel, so the writer's payload stays a plain list of organizations for every listener. */
const PING_CHANNEL = 'auditline_stream_ping';

/**
 * The process's one LISTEN on the writer's channel, turned into wake-ups: a NOTIFY names the
 * organizations of a committed batch (or `*`); a (re)established LISTEN, a sweep, or a LISTEN that
 * stopped echoing wakes every stream, since notifications may have been missed meanwhile.
 */
export class EventListener {
  private unlisteners: (() => Promise<void>)[] = [];
  private timers: NodeJS.Timeout[] = [];
  private readonly pingToken = randomUUID();
  private pingSentAt: number | null = null;
  private rearming = false;
  private stopped = false;

  constructor(
    private readonly database: DatabaseHandle,
    private readonly timing: ListenerTiming,
    private readonly logger: Logger,
    private readonly onWake: (wake: WakeUp) => void,
    private readonly onTick: () => void,
  ) {}

  async start(): Promise<void> {
    await this.arm();
    const every = (ms: number, task: () => void) => {
      const timer = setInterval(task, ms);
      timer.unref();
      this.timers.push(timer);
    };
    every(this.timing.tickMs, this.onTick);
    every(this.timing.sweepMs, () => this.onWake('all'));
    every(this.timing.pingMs, () => void this.ping());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    await this.disarm();
  }

  private async arm(): Promise<void> {
    this.unlisteners.push(
      await this.database.listen(
        EVENTS_CHANNEL,
        (payload) => this.received(payload),
        () => this.onWake('all'),
      ),
      await this.database.listen(PING_CHANNEL, (payload) => {
        if (payload === this.pingToken) this.pingSentAt = null;
      }),
    );
  }

  private async disarm(): Promise<void> {
    const unlisteners = this.unlisteners.splice(0);
    await Promise.all(unlisteners.map((unlisten) => unlisten().catch(() => {})));
  }

  private received(payload: string): void {
    if (this.stopped) return;
    this.onWake(
      payload === '*' ? 'all' : new Set(payload.split(',').filter((organization) => organization !== '')),
    );
  }

  private async ping(): Promise<void> {
    if (this.stopped || this.rearming) return;
    if (this.pingSentAt !== null) {
      this.logger.warn('stream listener stopped hearing its own NOTIFY; listening again');
      await this.rearm();
      return;
    }
    this.pingSentAt = Date.now();
    try {
      await this.database.raw.query('select pg_notify($1, $2)', [PING_CHANNEL, this.pingToken]);
    } catch (error) {
      // The database is unreachable; the echo will not come and the next ping re-arms.
      this.logger.debug('stream listener ping failed', { error: String(error) });
    }
  }

  private async rearm(): Promise<void> {
    this.rearming = true;
    try {
      await this.disarm();
      await this.arm();
      this.pingSentAt = null;
    } catch (error) {
      this.logger.warn('stream listener could not LISTEN; retrying', { error: String(error) });
    } finally {
      this.rearming = false;
    }
  }
}
