import { type App, buildApp } from '../../../src/app.ts';
import { createLogger } from '../../../src/logger.ts';
import { type TestApp, testConfig } from '../../support/test-app.ts';

/**
 * Another app with its own settings on `t`'s already migrated database: cheaper than a second
 * createTestApp when a test compares configurations. Stop it before `t.close()`.
 */
export function siblingApp(t: TestApp, environment: Record<string, string>): App {
  return buildApp({
    config: testConfig(environment),
    database: t.database,
    logger: createLogger('silent'),
    runBackgroundWorkers: false,
  });
}
