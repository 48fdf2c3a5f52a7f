import { describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.ts';
import { openDatabase } from '../../src/db/client.ts';
import { migrateDatabase } from '../../src/db/migrate.ts';
import { createLogger } from '../../src/logger.ts';
import { backends } from '../support/backends.ts';
import { testConfig } from '../support/test-app.ts';

describe.each(backends())('readiness on $name', (backend) => {
  it('answers 503 without the database error, which goes to the log only', async () => {
    const lines: string[] = [];
    const database = await openDatabase(backend.config);
    await migrateDatabase(database);
    const app = buildApp({
      config: testConfig(),
      database,
      logger: createLogger('info', (line) => lines.push(line)),
      runBackgroundWorkers: false,
    });
    const port = await app.start(0, '127.0.0.1');
    try {
      expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
      await database.close();
      const answer = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect(answer.status).toBe(503);
      expect(await answer.json()).toEqual({ status: 'unavailable' });
      expect(lines.join('')).toContain('readiness check failed');
    } finally {
      await app.stop().catch(() => {});
    }
  });
});
