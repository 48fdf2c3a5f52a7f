/**
 * Auditline as it runs in production, in its own process for the bench: the built app on the bench
 * database, background workers on, GraphiQL off. Prints `LISTENING <port>` once it accepts requests.
 */
import { buildApp } from '../../../src/app.ts';
import { loadConfig } from '../../../src/config.ts';
import { openDatabase } from '../../../src/db/client.ts';
import { createLogger } from '../../../src/logger.ts';

const config = loadConfig(process.env);
const logger = createLogger(config.logLevel);
const database = await openDatabase(config.database);
const app = buildApp({ config, database, logger });
const port = await app.start(0, '127.0.0.1');
process.stdout.write(`LISTENING ${port}\n`);

let stopping = false;
async function shutdown() {
  if (stopping) return;
  stopping = true;
  await app.stop();
  await database.close();
  // A clean exit, so that --cpu-prof writes its profile.
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown());
process.on('SIGINT', () => void shutdown());
