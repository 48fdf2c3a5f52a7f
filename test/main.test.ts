import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/** Starts `src/main.ts` as `npm start` does and collects its output until `until` matches. */
function startServer(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const waitFor = (pattern: RegExp) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const check = () => {
        const match = output.match(pattern);
        if (match) return resolve(match);
        if (child.exitCode !== null) return reject(new Error(`server exited ${child.exitCode}:\n${output}`));
        setTimeout(check, 50);
      };
      check();
    });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, waitFor, exited, output: () => output };
}

describe('npm start', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'auditline-main-'));
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const child of children) child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('creates the default organization and prints a key on first start only, then serves it', async () => {
    const env = { AUDITLINE_DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', DATABASE_URL: '' };
    const first = startServer(env);
    children.push(first.child);
    const [, key] = await first.waitFor(/^\s+(al_live_\S+)$/m);
    const [, port] = await first.waitFor(/listening on http:\/\/localhost:(\d+)\/graphql/);
    expect(first.output()).toMatch(/created the organization "default"/);
    const response = await fetch(`http://127.0.0.1:${port}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ query: '{ viewer { scopes organization { name } } }' }),
    });
    expect(await response.json()).toEqual({
      data: {
        viewer: {
          scopes: ['events:write', 'events:read', 'events:stream', 'admin'],
          organization: { name: 'default' },
        },
      },
    });
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);

    const second = startServer(env);
    children.push(second.child);
    await second.waitFor(/listening on/);
    expect(second.output()).not.toMatch(/al_live_/);

    // PGlite has no postmaster: a second process on the same files would corrupt them.
    const inUse = new RegExp(`data directory ${dataDir} is in use by process ${second.child.pid}\\b`);
    const third = startServer(env);
    children.push(third.child);
    expect(await third.exited).toBe(1);
    expect(third.output()).toMatch(inUse);
    expect(third.output()).not.toMatch(/\n\s+at /);
    const cli = spawnSync(process.execPath, ['src/cli/bin.mjs', 'orgs', 'list'], {
      env: { ...process.env, ...env },
      encoding: 'utf8',
    });
    expect(cli.status).toBe(1);
    expect(cli.stderr).toMatch(inUse);

    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    expect(existsSync(join(dataDir, 'auditline.pid'))).toBe(false);
  }, 180_000);

  it('refuses to start on a bad variable, naming it', async () => {
    const server = startServer({ PORT: 'eighty', AUDITLINE_DATA_DIR: dataDir });
    children.push(server.child);
    expect(await server.exited).toBe(1);
    expect(server.output()).toMatch(/PORT: .*"eighty"/);
  }, 60_000);
});
