import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.ts';

describe('configuration', () => {
  it('runs on embedded PGlite with defaults when nothing is set', () => {
    const config = loadConfig({});
    expect(config.database).toEqual({ kind: 'pglite', dataDir: './.auditline' });
    expect(config.port).toBe(4000);
    expect(config.graphiql).toBe(true);
  });

  it('uses PostgreSQL when DATABASE_URL is set, and hides GraphiQL in production', () => {
    const config = loadConfig({ DATABASE_URL: 'postgres://u@db:5432/audit', NODE_ENV: 'production' });
    expect(config.database).toMatchObject({
      kind: 'postgres',
      url: 'postgres://u@db:5432/audit',
      poolSize: 10,
    });
    expect(config.graphiql).toBe(false);
  });

  it('names every bad variable at once', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://x', GRAPHIQL: 'maybe' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toHaveLength(3);
    expect(problems.join('\n')).toMatch(/^PORT: .*"eighty"/m);
    expect(problems.join('\n')).toMatch(/^DATABASE_URL: must be a postgres:\/\//m);
    expect(problems.join('\n')).toMatch(/^GRAPHIQL: must be true or false/m);
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ PORT: '', DATABASE_URL: '' }).database.kind).toBe('pglite');
  });
});
