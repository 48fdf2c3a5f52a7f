import { Worker } from 'node:worker_threads';
import type { BackgroundWorker, WorkerContext } from '../background.ts';
import { STANDBY_RETRY_MS, sealerLoop } from './sealer-loop.ts';
import {
  type SealerLogMessage,
  type SealerThreadData,
  STOP_SEALER_THREAD,
} from './sealer-thread-protocol.ts';

const THREAD_ENTRY = new URL('./sealer-thread.mjs', import.meta.url);
/** The thread's own pool: one connection seals a batch while the other reads the next one. */
const THREAD_POOL_SIZE = 2;
const THREAD_STOP_TIMEOUT_MS = 15_000;

/**
 * The sealer as one of the server's background workers. On PostgreSQL it runs in a thread of its own,
 * so that hashing a backlog never holds up requests; on PGlite, whose one connection lives in the
 * server's thread, it runs there.
 */
export function sealerWorker(context: WorkerContext): BackgroundWorker {
  const { config, database, services, logger } = context;
  if (config.database.kind === 'postgres' && database.kind === 'postgres') {
    return threadedSealer(context, config.database);
  }
  const loop = sealerLoop({
    database,
    settings: config.integrity,
    identity: () => services.integrity.identity(),
    logger,
  });
  return { name: 'integrity sealer', ...loop };
}

function threadedSealer(
  { config, services, logger }: WorkerContext,
  databaseConfig: SealerThreadData['database'],
): BackgroundWorker {
  let stopped = true;
  let thread: Worker | undefined;
  let exited: Promise<void> = Promise.resolve();
  let retry: NodeJS.Timeout | undefined;

  const retryLater = () => {
    retry = setTimeout(() => void launch(), STANDBY_RETRY_MS);
    retry.unref();
  };

  async function launch(): Promise<void> {
    if (stopped) return;
    let data: SealerThreadData;
    try {
      data = {
        database: { ...databaseConfig, poolSize: THREAD_POOL_SIZE },
        settings: config.integrity,
        identity: await services.integrity.identity(),
      };
    } catch (error) {
      logger.error('integrity sealer failed; retrying', { error: String(error) });
      retryLater();
      return;
    }
    if (stopped) return;
    const worker = new Worker(THREAD_ENTRY, { workerData: data });
    thread = worker;
    worker.on('message', ({ level, message, fields }: SealerLogMessage) => logger[level](message, fields));
    worker.on('error', (error) => logger.error('integrity sealer thread failed', { error: String(error) }));
    exited = new Promise((resolve) => {
      worker.once('exit', (code) => {
        thread = undefined;
        if (!stopped) {
          logger.error('integrity sealer thread ended; restarting', { exitCode: code });
          retryLater();
        }
        resolve();
      });
    });
  }

  return {
    name: 'integrity sealer',
    start() {
      stopped = false;
      void launch();
    },
    async stop() {
      stopped = true;
      clearTimeout(retry);
      const worker = thread;
      if (!worker) return;
      worker.postMessage(STOP_SEALER_THREAD);
      const timer = setTimeout(() => void worker.terminate(), THREAD_STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}
