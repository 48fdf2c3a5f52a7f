/**
 * The sealer in a thread of its own (entered through sealer-thread.mjs): canonical JSON and SHA-256
 * of every event run beside the server's event loop instead of on it. The thread opens its own
 * connections and sends its log lines to the server's logger.
 */
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { openDatabase } from '../db/client.ts';
import type { Logger } from '../logger.ts';
import { sealerLoop } from './sealer-loop.ts';
import {
  SEALER_THREAD_NICE,
  type SealerLogMessage,
  type SealerThreadData,
  STOP_SEALER_THREAD,
} from './sealer-thread-protocol.ts';

const port = parentPort!;
const { database: databaseConfig, settings, identity } = workerData as SealerThreadData;
const forward =
  (level: keyof Logger) =>
  (message: string, fields?: Record<string, unknown>): void =>
    port.postMessage({ level, message, fields } satisfies SealerLogMessage);
const logger: Logger = {
  debug: forward('debug'),
  info: forward('info'),
  warn: forward('warn'),
  error: forward('error'),
};

// Requests come first: on a busy machine a catch-up gives way to them (on two cores, ingest p99 during a
// catch-up went from 1.3–1.5x to 1.1–1.25x of a caught-up sealer's, and the catch-up sealed as much).
// Linux keeps a nice value per thread; elsewhere it would lower the whole server, so only there.
if (process.platform === 'linux') {
  try {
    setPriority(SEALER_THREAD_NICE);
  } catch (error) {
    logger.debug('could not lower the sealer thread priority', { error: String(error) });
  }
}

const database = await openDatabase(databaseConfig);
const sealer = sealerLoop({ database, settings, identity: async () => identity, logger });
sealer.start();
port.on('message', async (message) => {
  if (message !== STOP_SEALER_THREAD) return;
  await sealer.stop();
  await database.close();
  port.close();
});
