/**
 * The sealer in a thread of its own (entered through sealer-thread.mjs): canonical JSON and SHA-256
 * of every event run beside the server's event loop instead of on it. The thread opens its own
 * connections and sends its log lines to the server's logger.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openDatabase } from '../db/client.ts';
import type { Logger } from '../logger.ts';
import { sealerLoop } from './sealer-loop.ts';
import {
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

const database = await openDatabase(databaseConfig);
const sealer = sealerLoop({ database, settings, identity: async () => identity, logger });
sealer.start();
port.on('message', async (message) => {
  if (message !== STOP_SEALER_THREAD) return;
  await sealer.stop();
  await database.close();
  port.close();
});
