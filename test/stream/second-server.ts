// A second Auditline server process on the same database (DATABASE_URL), for the cross-process stream
// test: prints {"port": N} once listening and stops cleanly on SIGTERM.
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { openDatabase } from '../../src/db/client.ts';
import { createLogger } from '../../src/logger.ts';

const config = loadConfig({ ...process.env, NODE_ENV: 'test', GRAPHIQL: 'false' });
const database = await openDatabase(config.database);
const app = buildApp({ config, database, logger: createLogger('error'), runBackgroundWorkers: false });
const port = await app.start(0, '127.0.0.1');
process.stdout.write(`${JSON.stringify({ port })}\n`);
process.once('SIGTERM', async () => {
  await app.stop();
  await database.close();
  process.exit(0);
});
