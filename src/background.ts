import type { Config } from './config.ts';
import type { DatabaseHandle } from './db/client.ts';
import { createDeliveryWorker } from './export/delivery-worker.ts';
import type { Services } from './graphql/context.ts';
import { sealerWorker } from './integrity/sealer-worker.ts';
import type { Logger } from './logger.ts';
import { retentionWorker } from './retention/scheduler.ts';

/** Work a server process does besides answering requests; started by `app.start()`, stopped by `app.stop()`. */
export interface BackgroundWorker {
  name: string;
  start(): void;
  stop(): Promise<void>;
}

export interface WorkerContext {
  config: Config;
  database: DatabaseHandle;
  services: Services;
  logger: Logger;
}

/** Runs `task` now and then every `intervalMs`, never overlapping itself; failures are logged, not fatal. */
export function intervalWorker(
  name: string,
  intervalMs: number,
  logger: Logger,
  task: () => Promise<void>,
): BackgroundWorker {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  const tick = () => {
    if (running) return;
    running = task()
      .catch((error) => logger.error(`${name} failed`, { error: String(error) }))
      .finally(() => {
        running = undefined;
      });
  };
  return {
    name,
    start() {
      tick();
      timer = setInterval(tick, intervalMs);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}

/** Every feature's background work, in start order. */
export function createBackgroundWorkers(context: WorkerContext): BackgroundWorker[] {
  return [
    createDeliveryWorker(context.database, context.services.exports, context.logger),
    // Creates partitions ahead and purges expired events, on one instance per database.
    retentionWorker(context),
    // Seals settled events into per-organization Merkle logs and signs checkpoints, on one instance.
    sealerWorker(context),
  ];
}
