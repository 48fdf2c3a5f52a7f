import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditline, auditlineJson, type CliEnv } from './captured-cli.ts';
import { databaseBackends } from './database-backends.ts';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const PUBLIC_ID = (prefix: string) => new RegExp(`^${prefix}_[0-9a-f]{32}$`);

interface OrganizationJson {
  id: string;
  name: string;
  createdAt: string;
}

interface CreatedKeyJson {
  id: string;
  secret: string;
  scopes: string[];
  organizationId: string | null;
  name: string;
  createdAt: string;
}

interface KeyJson {
  id: string;
  name: string;
  organizationId: string | null;
  scopes: string[];
  createdAt: string;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

describe('auditline without touching the database', () => {
  let scratch: string;
  let env: CliEnv;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'auditline-cli-'));
    env = { AUDITLINE_DATA_DIR: join(scratch, 'data') };
  });

  afterAll(async () => {
    // Help and usage errors must be answered before the (slow, single-process) database is opened.
    expect(existsSync(join(scratch, 'data'))).toBe(false);
    await rm(scratch, { recursive: true, force: true });
  });

  it('prints usage on stderr and exits 2 for an unknown command', async () => {
    const result = await auditline(env, 'frobnicate');
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^error: unknown command "frobnicate"\n/);
    expect(result.stderr).toContain('Usage: auditline <command>');
  });

  it('prints usage on stderr and exits 2 without a command', async () => {
    const result = await auditline(env);
    expect(result).toMatchObject({ code: 2, stdout: '' });
    expect(result.stderr).toContain('Usage: auditline <command>');
  });

  it.each([['help'], ['--help'], ['-h']])('lists the commands for %s', async (flag) => {
    const result = await auditline(env, flag);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    for (const command of ['migrate', 'orgs', 'keys']) expect(result.stdout).toContain(`  ${command}`);
    expect(result.stdout).toContain('only one process at a time');
  });

  it.each([
    ['help', 'keys'],
    ['keys', '--help'],
    ['keys', 'create', '-h'],
  ])('shows the keys usage for %s %s', async (...argv) => {
    const result = await auditline(env, ...argv);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toContain('auditline keys create (--org ORG | --platform) --scopes SCOPES');
  });

  it.each([
    [['orgs', 'list', '--verbose'], 'error: unknown flag --verbose'],
    [['keys', 'create', '--org'], 'error: flag --org needs a value'],
    [['keys', 'create', '--org', '--json'], 'error: flag --org needs a value'],
    [['orgs', 'list', '--json=yes'], 'error: flag --json takes no value'],
    [['keys', 'create', '--org', 'acme'], 'error: missing --scopes'],
    [['keys', 'list'], 'error: missing --org ORG'],
    [['keys', 'list', '--org', 'acme', '--platform'], 'error: give either --org or --platform, not both'],
    [['orgs', 'create'], 'error: missing NAME'],
    [['orgs', 'create', 'a', 'b'], 'error: unexpected argument "b"'],
    [['orgs'], 'error: orgs needs a subcommand: create, list'],
    [['orgs', 'rename'], 'error: unknown orgs subcommand "rename"'],
  ])('rejects %j with exit 2', async (argv, message) => {
    const result = await auditline(env, ...argv);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(message);
    expect(result.stderr).toContain(`Run "auditline ${argv[0]} --help" for usage.`);
  });

  it('names the unknown scope and the flag', async () => {
    const result = await auditline(
      env,
      'keys',
      'create',
      '--org',
      'acme',
      '--scopes',
      'events:write,events:erase',
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^error: --scopes: Unknown scope "events:erase"/);
  });
});

for (const backend of databaseBackends()) {
  describe(`auditline against ${backend.name}`, { timeout: 120_000 }, () => {
    let env: CliEnv;

    beforeAll(async () => {
      env = await backend.setUp();
    }, 120_000);

    afterAll(() => backend.tearDown());

    it('migrates a fresh database, then finds nothing pending', async () => {
      const first = await auditlineJson<{ database: string; applied: string[]; total: number }>(
        env,
        'migrate',
      );
      expect(first.database).toBe(backend.name);
      expect(first.applied[0]).toBe('0000_core');
      expect(first.total).toBe(first.applied.length);

      const again = await auditline(env, 'migrate');
      expect(again.code).toBe(0);
      expect(again.stdout).toContain(`Already up to date: ${first.total} migrations applied, none pending.`);
    });

    it('creates and lists organizations as JSON', async () => {
      const acme = await auditlineJson<OrganizationJson>(env, 'orgs', 'create', 'acme');
      expect(Object.keys(acme)).toEqual(['id', 'name', 'createdAt']);
      expect(acme.id).toMatch(PUBLIC_ID('org'));
      expect(acme.name).toBe('acme');
      expect(new Date(acme.createdAt).toISOString()).toBe(acme.createdAt);

      await auditlineJson(env, 'orgs', 'create', 'globex');
      const listed = await auditlineJson<OrganizationJson[]>(env, 'orgs', 'list');
      expect(listed.map((org) => org.name)).toEqual(['acme', 'globex']);
      expect(listed[0]).toEqual(acme);
    });

    it('lists organizations as an aligned table', async () => {
      const result = await auditline(env, 'orgs', 'list');
      const [header, ...rows] = result.stdout.trimEnd().split('\n');
      expect(header).toMatch(/^ID {36}NAME {4}CREATED$/);
      expect(rows).toHaveLength(2);
      expect(rows[1]).toMatch(/^org_[0-9a-f]{32} {2}globex {2}\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    });

    it('refuses a duplicate organization name', async () => {
      const result = await auditline(env, 'orgs', 'create', 'acme', '--json');
      expect(result).toEqual({
        code: 1,
        stdout: '',
        stderr: 'error: An organization named "acme" already exists\n',
      });
    });

    it('creates keys for an organization given by name or by id', async () => {
      const [acme] = await auditlineJson<OrganizationJson[]>(env, 'orgs', 'list');
      const byName = await auditlineJson<CreatedKeyJson>(
        env,
        'keys',
        'create',
        '--org',
        'acme',
        '--scopes',
        'events:write,events:read',
        '--name',
        'ingest',
      );
      expect(Object.keys(byName)).toEqual(['id', 'secret', 'scopes', 'organizationId', 'name', 'createdAt']);
      expect(byName).toMatchObject({
        organizationId: acme!.id,
        scopes: ['events:write', 'events:read'],
        name: 'ingest',
      });
      expect(byName.id).toMatch(PUBLIC_ID('key'));
      expect(byName.secret).toMatch(/^al_live_[0-9a-f]{32}_[A-Za-z0-9_-]{43}$/);

      const byId = await auditlineJson<CreatedKeyJson>(
        env,
        'keys',
        'create',
        '--org',
        acme!.id,
        '--scopes',
        'admin',
      );
      expect(byId.organizationId).toBe(acme!.id);
      expect(byId.name).toBe('api key');
    });

    it('shows the secret when creating a key and never in lists', async () => {
      const created = await auditline(env, 'keys', 'create', '--org', 'globex', '--scopes', 'events:stream');
      expect(created.code).toBe(0);
      const secret = /^ {4}(al_live_\S+)$/m.exec(created.stdout)?.[1];
      expect(secret).toBeDefined();
      expect(created.stdout).toContain('This secret will not be shown again');

      const listedText = await auditline(env, 'keys', 'list', '--org', 'globex');
      const listedJson = await auditline(env, 'keys', 'list', '--org', 'globex', '--json');
      expect(listedText.stdout).toContain('events:stream');
      for (const listed of [listedText, listedJson]) {
        expect(listed.code).toBe(0);
        expect(listed.stdout).not.toContain(secret);
        expect(listed.stdout).not.toContain(secret!.split('_').at(-1));
      }
      const keys = JSON.parse(listedJson.stdout) as KeyJson[];
      expect(Object.keys(keys[0]!)).toEqual([
        'id',
        'name',
        'organizationId',
        'scopes',
        'createdAt',
        'revokedAt',
        'lastUsedAt',
      ]);
    });

    it('reports an unknown organization', async () => {
      const result = await auditline(env, 'keys', 'list', '--org', 'initech');
      expect(result).toEqual({ code: 1, stdout: '', stderr: 'error: no organization "initech"\n' });
    });

    it('revokes a key and lists it as revoked', async () => {
      const key = await auditlineJson<CreatedKeyJson>(
        env,
        'keys',
        'create',
        '--org',
        'globex',
        '--scopes',
        'events:read',
      );
      const revoked = await auditlineJson<KeyJson>(env, 'keys', 'revoke', key.id);
      expect(revoked.id).toBe(key.id);
      expect(revoked.revokedAt).not.toBeNull();

      const keys = await auditlineJson<KeyJson[]>(env, 'keys', 'list', '--org', 'globex');
      expect(keys.find((listed) => listed.id === key.id)?.revokedAt).toBe(revoked.revokedAt);
      expect(keys.filter((listed) => listed.revokedAt === null)).toHaveLength(1);

      const table = await auditline(env, 'keys', 'list', '--org', 'globex');
      const row = table.stdout.split('\n').find((line) => line.startsWith(key.id));
      expect(row).toMatch(/ {2}revoked \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    });

    it('requires the admin scope for a platform key', async () => {
      const refused = await auditline(env, 'keys', 'create', '--platform', '--scopes', 'events:read');
      expect(refused).toEqual({
        code: 1,
        stdout: '',
        stderr: 'error: A platform key (no organization) must carry the admin scope\n',
      });
      const platform = await auditlineJson<CreatedKeyJson>(
        env,
        'keys',
        'create',
        '--platform',
        '--scopes',
        'admin',
      );
      expect(platform.organizationId).toBeNull();
      const listed = await auditlineJson<KeyJson[]>(env, 'keys', 'list', '--platform');
      expect(listed.map((key) => key.id)).toEqual([platform.id]);
    });

    it('prints exactly one JSON document on stdout and nothing on stderr with --json', async () => {
      const key = await auditlineJson<CreatedKeyJson>(
        env,
        'keys',
        'create',
        '--org',
        'acme',
        '--scopes',
        'admin',
      );
      const invocations = [
        ['migrate'],
        ['orgs', 'list'],
        ['orgs', 'create', 'umbrella'],
        ['keys', 'list', '--org', 'acme'],
        ['keys', 'revoke', key.id],
      ];
      for (const argv of invocations) {
        const result = await auditline(env, ...argv, '--json');
        expect(result.code, argv.join(' ')).toBe(0);
        expect(result.stderr).toBe('');
        // JSON.parse rejects anything after the first document, so this also proves there is only one.
        expect(typeof JSON.parse(result.stdout), argv.join(' ')).toBe('object');
      }
    });

    it('runs through the installed bin shim', async () => {
      const childEnv: CliEnv = { ...process.env, ...env };
      if (backend.name === 'pglite') delete childEnv.DATABASE_URL;
      const { stdout, stderr } = await promisify(execFile)(
        process.execPath,
        ['src/cli/bin.mjs', 'orgs', 'list', '--json'],
        { cwd: repoRoot, env: childEnv },
      );
      expect(stderr).toBe('');
      const organizations = JSON.parse(stdout) as OrganizationJson[];
      expect(organizations.map((org) => org.name)).toEqual(['acme', 'globex', 'umbrella']);
    });
  });
}
