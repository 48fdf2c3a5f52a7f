import { buildApp } from './app.ts';
import { ConfigError, loadConfig } from './config.ts';
import { openDatabase } from './db/client.ts';
import { DataDirectoryInUseError } from './db/data-dir-lock.ts';
import { ensurePartitions, migrateDatabase } from './db/migrate.ts';
import { createLogger } from './logger.ts';
import { bootstrapFirstRun } from './tenancy/bootstrap.ts';

async function main() {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const database = await openDatabase(config.database);
  logger.info(
    config.database.kind === 'postgres'
      ? 'Using PostgreSQL from DATABASE_URL'
      : `Using embedded PostgreSQL (PGlite) with data in ${config.database.dataDir}`,
  );
  if (config.autoMigrate) {
    await migrateDatabase(database);
  } else {
    // Running as the least-privileged role: migrations were applied by an owner (`auditline migrate`).
    await ensurePartitions(database);
  }

  const firstRun = await bootstrapFirstRun(database.db);
  if (firstRun) {
    process.stdout.write(
      [
        '',
        'First start: created the organization "default" and an API key with every scope.',
        'This key is shown only now; store it somewhere safe:',
        '',
        `    ${firstRun.key.secret}`,
        '',
        `organization: ${firstRun.organization.id}   key id: ${firstRun.key.id}`,
        `scopes: ${firstRun.key.scopes.join(', ')}`,
        '',
      ].join('\n') + '\n',
    );
  }

  const app = buildApp({ config, database, logger });
  const port = await app.start(config.port, config.host);
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info(`${signal} received; finishing in-flight work`);
    await app.stop();
    await database.close();
    process.exit(0);
  };
  // Before the line that says we listen: whoever waits for it may signal us as soon as they read it.
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  logger.info(
    `Auditline is listening on http://localhost:${port}/graphql${config.graphiql ? ' (GraphiQL enabled)' : ''}`,
  );
}

main().catch((error) => {
  if (error instanceof ConfigError || error instanceof DataDirectoryInUseError) {
    process.stderr.write(`${error.message}\n`);
  } else {
    process.stderr.write(
      `Auditline failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
  }
  process.exit(1);
});
