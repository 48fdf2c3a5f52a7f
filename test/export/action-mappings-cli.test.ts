import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { openDatabase } from '../../src/db/client.ts';
import { prepareEvent } from '../../src/events/emit-input.ts';
import { writeBatch } from '../../src/events/writer.ts';
import { DEFAULT_ACTION_RULES } from '../../src/export/action-mapping.ts';
import { fromPublicId, uuidv7 } from '../../src/ids.ts';
import { auditline, auditlineJson, type CliEnv } from '../cli/captured-cli.ts';
import { databaseBackends } from '../cli/database-backends.ts';

const RULES = [
  {
    pattern: 'document.*',
    category: 'file',
    type: ['change'],
    outcome: 'failure',
    severity: 8,
    ocsf: { classUid: 6003, activityId: 3 },
  },
  { pattern: 'user.{login,login_failed}', severity: 0 },
];

describe.each(databaseBackends())('auditline mappings on $name', (backend) => {
  let env: CliEnv;
  const scratch = mkdtempSync(join(tmpdir(), 'auditline-mappings-cli-'));
  beforeAll(async () => {
    env = await backend.setUp();
    for (const name of ['acme', 'globex']) {
      const { id } = await auditlineJson<{ id: string }>(env, 'orgs', 'create', name);
      const handle = await openDatabase(loadConfig(env).database);
      const now = new Date();
      const prepared = ['user.login_failed', 'document.updated'].map((action, index) => {
        const result = prepareEvent(
          {
            action,
            actor: { id: `usr_${index}` },
            occurredAt: new Date(Date.UTC(2026, 10, 1) + index * 1000),
          },
          { id: uuidv7(now.getTime()), organizationId: fromPublicId('org', id)! },
          now,
        );
        if (!result.ok) throw new Error(JSON.stringify(result.error));
        return result.event;
      });
      await writeBatch(handle.db, prepared);
      await handle.close();
    }
  });
  afterAll(async () => {
    await backend.tearDown();
    rmSync(scratch, { recursive: true, force: true });
  });

  /** CEF severities of the organization's own events (not the auditline.* records of the changes). */
  const cefSeverities = async (org: string) =>
    (await auditline(env, 'export', '--org', org, '--format', 'cef')).stdout
      .trimEnd()
      .split('\n')
      .filter((line) => !line.includes('|auditline.'))
      .map((line) => line.split('|')[6]);

  it('sets, lists, applies to exports and clears an organization’s rules', async () => {
    expect(await auditlineJson(env, 'mappings', 'list', '--org', 'acme')).toEqual([]);
    expect((await auditline(env, 'mappings', 'list', '--org', 'acme')).stdout).toMatch(/no rules of its own/);

    const file = join(scratch, 'rules.json');
    writeFileSync(file, JSON.stringify(RULES));
    const set = await auditline(env, 'mappings', 'set', '--org', 'acme', '--file', file);
    expect(set.code).toBe(0);
    expect(set.stdout).toMatch(/^Organization acme \(org_\w+\) now has 2 rules \(had 0\)\.\n$/);

    const listed = await auditlineJson(env, 'mappings', 'list', '--org', 'acme');
    expect(listed).toEqual(RULES);
    const table = (await auditline(env, 'mappings', 'list', '--org', 'acme')).stdout.split('\n');
    expect(table[0]).toMatch(/^#\s+PATTERN\s+CATEGORY\s+TYPE\s+OUTCOME\s+SEVERITY\s+OCSF$/);
    expect(table[1]).toMatch(/^0\s+document\.\*\s+file\s+change\s+failure\s+8\s+6003\/3$/);
    expect(table[2]).toMatch(/^1\s+user\.\{login,login_failed\}\s+-\s+-\s+-\s+0\s+-$/);

    expect(await cefSeverities('acme')).toEqual(['0', '8']);
    expect(await cefSeverities('globex')).toEqual(['5', '2']);

    // What list --json prints, set --file takes back unchanged.
    writeFileSync(file, JSON.stringify(listed));
    const again = await auditlineJson<{ rules: unknown[]; previousRuleCount: number }>(
      env,
      'mappings',
      'set',
      '--org',
      'acme',
      '--file',
      file,
    );
    expect(again).toMatchObject({ rules: RULES, previousRuleCount: 2 });

    const cleared = await auditline(env, 'mappings', 'clear', '--org', 'acme');
    expect(cleared.stdout).toMatch(/now has 0 rules \(had 2\)/);
    expect(await auditlineJson(env, 'mappings', 'list', '--org', 'acme')).toEqual([]);
    expect(await cefSeverities('acme')).toEqual(['5', '2']);

    const trail = (
      await auditline(env, 'export', '--org', 'acme', '--format', 'jsonl', '--query', 'action:auditline.*')
    ).stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(trail.map((event) => [event.action, event.actor.name, event.metadata.ruleCount])).toEqual([
      ['auditline.action_mappings_changed', 'auditline cli', 2],
      ['auditline.action_mappings_changed', 'auditline cli', 2],
      ['auditline.action_mappings_changed', 'auditline cli', 0],
    ]);
  });

  it('refuses a bad file naming the rule and field, storing nothing', async () => {
    const file = join(scratch, 'bad.json');
    writeFileSync(
      file,
      JSON.stringify([
        { pattern: 'user.*', severity: 3 },
        { pattern: 'x.*', outcom: 'failure' },
      ]),
    );
    const typo = await auditline(env, 'mappings', 'set', '--org', 'globex', '--file', file);
    expect(typo.code).toBe(1);
    expect(typo.stderr).toMatch(/rules\.1\.outcom is not a field here/);
    writeFileSync(file, JSON.stringify([{ pattern: 'user.*', category: 'network' }]));
    const badEnum = await auditline(env, 'mappings', 'set', '--org', 'globex', '--file', file);
    expect(badEnum.stderr).toMatch(/rules\.0\.category must be one of api, authentication/);
    writeFileSync(file, '{"pattern": "user.*"');
    const notJson = await auditline(env, 'mappings', 'set', '--org', 'globex', '--file', file);
    expect(notJson.code).toBe(2);
    expect(notJson.stderr).toContain(`--file ${file}:`);
    expect(await auditlineJson(env, 'mappings', 'list', '--org', 'globex')).toEqual([]);

    const missing = await auditline(env, 'mappings', 'set', '--org', 'globex');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/missing --file/);
  });

  it('lists the defaults, ending with the catch-all', async () => {
    const defaults = await auditlineJson<{ pattern: string }[]>(env, 'mappings', 'list', '--defaults');
    expect(defaults).toHaveLength(DEFAULT_ACTION_RULES.length + 1);
    expect(defaults[0]).toMatchObject({ pattern: '*.login_failed', outcome: 'failure' });
    expect(defaults.at(-1)).toMatchObject({ pattern: '*', category: 'api' });
    const help = await auditline(env, 'mappings', '--help');
    expect(help.stdout + help.stderr).toContain('auditline mappings set --org ORG --file RULES.json');
  });
});
