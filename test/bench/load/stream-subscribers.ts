import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { cpuSecondsOf } from '../lib/processes.ts';
import type { StreamChildReply, StreamChildRequest, SubscriberStats } from './stream-protocol.ts';

const CHILD = fileURLToPath(new URL('./stream-child.ts', import.meta.url));

type ReplyOf<Type extends StreamChildReply['type']> = Extract<StreamChildReply, { type: Type }>;

/** A process of graphql-ws subscribers (stream-child.ts), asked one thing at a time. */
export class StreamSubscribers {
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(private readonly child: ChildProcess) {}

  /** Forks the process and opens `count` subscriptions, each on its own WebSocket. */
  static async open(url: string, key: string, count: number): Promise<StreamSubscribers> {
    const child = fork(CHILD, [], {
      execArgv: ['--import', 'tsx', '--max-old-space-size=4096'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const subscribers = new StreamSubscribers(child);
    await subscribers.ask({ type: 'open', url, key, count }, 'opened');
    return subscribers;
  }

  private ask<Type extends StreamChildReply['type']>(
    request: StreamChildRequest,
    expected: Type,
  ): Promise<ReplyOf<Type>> {
    const next = this.queue.then(
      () =>
        new Promise<ReplyOf<Type>>((resolve, reject) => {
          const onExit = (code: number | null) => reject(new Error(`subscriber process exited with ${code}`));
          this.child.once('exit', onExit);
          this.child.once('message', (reply: StreamChildReply) => {
            this.child.off('exit', onExit);
            if (reply.type === expected) resolve(reply as ReplyOf<Type>);
            else if (reply.type === 'failed') reject(new Error(`subscriber process failed: ${reply.error}`));
            else reject(new Error(`subscriber process answered ${reply.type} to ${request.type}`));
          });
          this.child.send(request);
        }),
    );
    this.queue = next.catch(() => {});
    return next;
  }

  /** How many subscriptions have received the event carrying `probe`. */
  async probed(probe: string): Promise<number> {
    return (await this.ask({ type: 'probed', probe }, 'probed')).live;
  }

  async reset(): Promise<void> {
    await this.ask({ type: 'reset' }, 'reset');
  }

  async stats(): Promise<SubscriberStats> {
    return (await this.ask({ type: 'stats' }, 'stats')).stats;
  }

  /** CPU seconds the subscriber process has used so far. */
  cpuSeconds(): number {
    return cpuSecondsOf(this.child.pid!);
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null) return;
    await this.ask({ type: 'close' }, 'closed').catch(() => {});
    const exited = once(this.child, 'exit');
    this.child.kill('SIGTERM');
    await exited;
  }
}
