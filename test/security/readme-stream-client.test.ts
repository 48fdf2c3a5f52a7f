import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { writeBatch } from '../../src/events/writer.ts';
import { serveGraphqlWs } from '../../src/websocket-transport.ts';
import { prepared } from '../stream/support.ts';
import { backends } from '../support/backends.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';

const repository = fileURLToPath(new URL('../..', import.meta.url));

/** The README's "A Node client that resumes", as a reader would copy it. */
async function readmeClient(): Promise<string> {
  const readme = await readFile(join(repository, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### A Node client that resumes'));
  const code = /```js\n([\s\S]*?)```/.exec(section)?.[1];
  if (!code) throw new Error('README: no js block under "A Node client that resumes"');
  return code;
}

/** Runs the client until it exits or prints `until` (and half a second more); the child is killed after `timeoutMs` at the latest. */
function runClient(script: string, env: Record<string, string>, until?: RegExp, timeoutMs = 20_000) {
  return new Promise<{ exitCode: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [script], { env: { ...process.env, ...env }, stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      // A moment more, for the cursor written after the print.
      if (until?.test(stdout)) setTimeout(() => child.kill('SIGKILL'), 500);
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('exit', (exitCode) => {
      clearTimeout(timer);
      resolve({ exitCode, stdout, stderr });
    });
  });
}

describe.each(backends())("README's resuming client on $name", (backend) => {
  let t: TestApp;
  let url: string;
  let folder: string;
  let script: string;

  beforeAll(async () => {
    t = await createTestApp(backend);
    url = `ws://127.0.0.1:${await t.app.start(0, '127.0.0.1')}/graphql`;
    folder = await mkdtemp(join(tmpdir(), 'auditline-readme-'));
    // The script imports graphql-ws and ws as a reader's project would have them installed.
    await symlink(join(repository, 'node_modules'), join(folder, 'node_modules'));
    script = join(folder, 'stream-client.mjs');
    await writeFile(script, await readmeClient());
  });
  afterAll(async () => {
    await t.close();
    await rm(folder, { recursive: true, force: true });
  });

  const env = (key: string, name: string) => ({
    AUDITLINE_WS_URL: url,
    AUDITLINE_KEY: key,
    CURSOR_FILE: join(folder, `${name}.cursor`),
  });

  it('prints the events and saves its cursor', async () => {
    const tenant = await t.tenant(['events:stream']);
    await writeBatch(t.database.db, [prepared(tenant.organization.id, 'user.login')]);
    const run = await runClient(script, env(tenant.key.secret, 'ok'), /user\.login/);
    expect(run.stdout).toMatch(/user\.login usr_1 evt_/);
    expect(await readFile(join(folder, 'ok.cursor'), 'utf8')).not.toBe('');
  });

  it('stops and says why on an unknown key (4401) instead of retrying', async () => {
    const run = await runClient(script, env('al_live_nope', 'unknown'));
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toMatch(/stream stopped: closed with 4401/);
    expect(run.stderr).not.toContain('resuming');
  });

  it('stops and says why when the subscription is refused (FORBIDDEN without events:stream)', async () => {
    const tenant = await t.tenant(['events:read']);
    const run = await runClient(script, env(tenant.key.secret, 'forbidden'));
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toMatch(/stream stopped: FORBIDDEN: .*events:stream/);
  });
});

describe("README's resuming client against a failing server", () => {
  it('gives up after a few 4500 closes in a row instead of looping forever', async () => {
    const server = createServer();
    const webSocketServer = new WebSocketServer({ server, path: '/graphql' });
    let attempts = 0;
    const transport = serveGraphqlWs(
      {
        onSubscribe: () => {
          attempts += 1;
          throw new Error('a bug');
        },
      },
      webSocketServer,
      { keepAliveMs: 60_000, exposeErrors: false },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const folder = await mkdtemp(join(tmpdir(), 'auditline-readme-'));
    try {
      await symlink(join(repository, 'node_modules'), join(folder, 'node_modules'));
      const script = join(folder, 'stream-client.mjs');
      await writeFile(script, await readmeClient());
      const run = await runClient(script, {
        AUDITLINE_WS_URL: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`,
        AUDITLINE_KEY: 'any',
        CURSOR_FILE: join(folder, 'cursor'),
      });
      expect(run.exitCode).toBe(1);
      expect(run.stderr).toMatch(/stream stopped: closed with 4500 \(server error\) 3 times in a row/);
      expect(attempts).toBe(3);
    } finally {
      await transport.dispose();
      await new Promise((resolve) => webSocketServer.close(resolve));
      await new Promise((resolve) => server.close(resolve));
      await rm(folder, { recursive: true, force: true });
    }
  });
});
