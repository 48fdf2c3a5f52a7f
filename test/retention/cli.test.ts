import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { openDatabase } from '../../src/db/client.ts';
import { auditline, auditlineJson, type CliEnv } from '../cli/captured-cli.ts';
import { databaseBackends } from '../cli/database-backends.ts';
import { ensureDays, insertBackdated } from './backdated-events.ts';

const DAY = 86_400_000;

describe.each(databaseBackends())('retention commands on $name', { timeout: 120_000 }, (backend) => {
  let env: CliEnv;
  let acme: string;
  let bolt: string;
  const old = new Date(Date.now() - 200 * DAY);

  beforeAll(async () => {
    env = await backend.setUp();
    acme = (await auditlineJson<{ id: string }>(env, 'orgs', 'create', 'acme')).id;
    bolt = (await auditlineJson<{ id: string }>(env, 'orgs', 'create', 'bolt')).id;
    // The CLI has closed the database: events received long ago go in behind its back.
    const handle = await openDatabase(loadConfig(env).database);
    try {
      const recent = new Date(Date.now() - 5 * DAY);
      await ensureDays(handle, old);
      await ensureDays(handle, recent);
      await insertBackdated(handle.db, [
        { organizationId: acme, receivedAt: old },
        { organizationId: acme, receivedAt: recent },
        { organizationId: bolt, receivedAt: old },
      ]);
    } finally {
      await handle.close();
    }
  });
  afterAll(() => backend.tearDown());

  it('sets a window, refusing one out of range', async () => {
    expect(await auditlineJson(env, 'retention', 'set', 'bolt', '2555')).toEqual({
      organizationId: bolt,
      retentionDays: 2555,
      previousRetentionDays: null,
    });
    const outOfRange = await auditline(env, 'retention', 'set', 'acme', '0');
    expect(outOfRange.code).toBe(1);
    expect(outOfRange.stderr).toMatch(/retentionDays must be .* from 1 to 3650/);
    const notANumber = await auditline(env, 'retention', 'set', 'acme', 'seven');
    expect(notANumber.code).toBe(2);
  });

  it('keeps held events out of a purge until the hold is released', async () => {
    const hold = await auditlineJson<{ id: string; releasedAt: string | null }>(
      env,
      'holds',
      'place',
      'acme',
      '--reason',
      'Case 1',
      '--from',
      new Date(old.getTime() - 3600_000).toISOString(),
      '--to',
      new Date(old.getTime() + 3600_000).toISOString(),
    );
    expect(hold.id).toMatch(/^hold_[0-9a-f]{32}$/);
    const backwards = await auditline(
      env,
      'holds',
      'place',
      'acme',
      '--reason',
      'x',
      '--from',
      '2026-02-01T00:00:00Z',
      '--to',
      '2026-01-01T00:00:00Z',
    );
    expect(backwards.code).toBe(1);
    expect(backwards.stderr).toMatch(/to \(2026-01-01T00:00:00.000Z\) must be later than from/);
    expect(await auditlineJson<unknown[]>(env, 'holds', 'list', 'acme')).toHaveLength(1);

    const held = await auditlineJson<{ deletedCount: number }>(env, 'purge', '--dry-run');
    expect(held.deletedCount).toBe(0);

    const released = await auditlineJson<{ releasedAt: string | null }>(env, 'holds', 'release', hold.id);
    expect(released.releasedAt).not.toBeNull();
    const preview = await auditlineJson<{ organizations: { name: string; deletedCount: number }[] }>(
      env,
      'purge',
      '--dry-run',
    );
    expect(preview.organizations).toEqual([expect.objectContaining({ name: 'acme', deletedCount: 1 })]);

    const purged = await auditline(env, 'purge');
    expect(purged.code).toBe(0);
    expect(purged.stdout).toMatch(/removed 1 event\n/);
    expect(purged.stdout).toMatch(new RegExp(`${acme}\\s+acme\\s+90 days\\s+\\S+\\s+1\\n`));
    const status = await auditlineJson<{ lastPurge: { deletedCount: number } }>(
      env,
      'retention',
      'show',
      'acme',
    );
    expect(status.lastPurge.deletedCount).toBe(1);
  });

  it('refuses a clock of its own unless it only counts', async () => {
    const result = await auditline(env, 'purge', '--as-of', '2030-01-01T00:00:00Z');
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--as-of needs --dry-run/);
  });
});
