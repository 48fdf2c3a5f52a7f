import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { openDatabase } from '../../src/db/client.ts';
import { prepareEvent } from '../../src/events/emit-input.ts';
import { writeBatch } from '../../src/events/writer.ts';
import { fromPublicId, uuidv7 } from '../../src/ids.ts';
import { auditline, auditlineJson, type CliEnv } from '../cli/captured-cli.ts';
import { databaseBackends } from '../cli/database-backends.ts';
import { LOOPBACK_DESTINATIONS } from './support/delivery.ts';
import { type HttpReceiver, startHttpReceiver } from './support/receivers.ts';

// Each CLI run opens its own database (PGlite loads it from disk each time): one backend, PostgreSQL when set.
describe.each(databaseBackends().slice(-1))('auditline export and destinations on $name', (backend) => {
  let env: CliEnv;
  let organizationId: string;
  let receiver: HttpReceiver;
  const scratch = mkdtempSync(join(tmpdir(), 'auditline-export-cli-'));
  beforeAll(async () => {
    env = { ...(await backend.setUp()), ...LOOPBACK_DESTINATIONS };
    organizationId = (await auditlineJson<{ id: string }>(env, 'orgs', 'create', 'acme')).id;
    const handle = await openDatabase(loadConfig(env).database);
    const now = new Date();
    const prepared = Array.from({ length: 30 }, (_, index) => {
      const result = prepareEvent(
        {
          action: index % 2 === 0 ? 'user.login_failed' : 'document.updated',
          actor: { id: `usr_${index}` },
          metadata: { seq: index },
          occurredAt: new Date(Date.UTC(2026, 10, 1) + index * 1000),
        },
        { id: uuidv7(now.getTime()), organizationId: fromPublicId('org', organizationId)! },
        now,
      );
      if (!result.ok) throw new Error(JSON.stringify(result.error));
      return result.event;
    });
    await writeBatch(handle.db, prepared);
    await handle.close();
    receiver = await startHttpReceiver();
  });
  afterAll(async () => {
    await receiver.close();
    await backend.tearDown();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('exports to a file or stdout, with progress on stderr', async () => {
    const output = join(scratch, `out-${backend.name}.cef`);
    const toFile = await auditline(
      env,
      'export',
      '--org',
      'acme',
      '--format',
      'cef',
      '--query',
      'created:>=2026-11-01',
      '--output',
      output,
    );
    expect(toFile.code).toBe(0);
    expect(toFile.stdout).toBe('');
    expect(toFile.stderr).toMatch(/^exported 30 events \([\d,]+\/s\), done in [\d.]+s\n$/);
    const lines = readFileSync(output, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(30);
    expect(lines[0]).toMatch(/^CEF:0\|Auditline\|Auditline\|1\.0\|user\.login_failed\|/);

    const toStdout = await auditline(
      env,
      'export',
      '--org',
      organizationId,
      '--format',
      'jsonl',
      '--query',
      'action:user.login_failed',
    );
    expect(toStdout.code).toBe(0);
    const events = toStdout.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(events.map((event) => event.metadata.seq)).toEqual([
      0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28,
    ]);

    const badFormat = await auditline(env, 'export', '--org', 'acme', '--format', 'xml');
    expect(badFormat.code).toBe(2);
    expect(badFormat.stderr).toMatch(/--format must be one of jsonl, csv, cef, leef, ocsf, ecs/);
    const badQuery = await auditline(
      env,
      'export',
      '--org',
      'acme',
      '--format',
      'csv',
      '--query',
      'created:>=soon',
    );
    expect(badQuery.code).toBe(2);
    expect(badQuery.stderr).toMatch(/--query:/);
  });

  it('adds, lists, pauses, resumes, tests and removes destinations without ever printing a secret', async () => {
    const secret = `whsec_${randomBytes(32).toString('base64')}`;
    const added = await auditlineJson<{ id: string; status: string; hasSecret: boolean }>(
      env,
      'destinations',
      'add',
      'siem',
      '--org',
      'acme',
      '--type',
      'webhook',
      '--url',
      `${receiver.url}/hook`,
      '--format',
      'ecs',
      '--secret',
      secret,
      '--query',
      'action:user.*',
    );
    expect(added).toMatchObject({ status: 'ACTIVE', hasSecret: true });
    expect(added.id).toMatch(/^dst_[0-9a-f]{32}$/);

    const pem = join(scratch, 'ca.pem');
    writeFileSync(pem, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    const syslog = await auditlineJson<{ options: { caCertificate: string } }>(
      env,
      'destinations',
      'add',
      'qradar',
      '--org',
      'acme',
      '--type',
      'syslog',
      '--url',
      'tls://127.0.0.1:6514',
      '--format',
      'leef',
      '--ca',
      pem,
      '--option',
      'hostname=auditline-1',
    );
    expect(syslog.options).toMatchObject({
      hostname: 'auditline-1',
      caCertificate: expect.stringContaining('BEGIN CERTIFICATE'),
    });

    const list = await auditline(env, 'destinations', 'list', '--org', 'acme', '--json');
    expect(list.stdout).not.toContain(secret.slice(6));
    const listed = JSON.parse(list.stdout) as {
      name: string;
      status: string;
      lagEvents: number;
      lastError: string | null;
    }[];
    expect(
      listed.map(({ name, status, lagEvents, lastError }) => ({ name, status, lagEvents, lastError })),
    ).toEqual([
      { name: 'siem', status: 'ACTIVE', lagEvents: 0, lastError: null },
      { name: 'qradar', status: 'ACTIVE', lagEvents: 0, lastError: null },
    ]);

    expect((await auditlineJson<{ status: string }>(env, 'destinations', 'pause', added.id)).status).toBe(
      'PAUSED',
    );
    expect((await auditlineJson<{ status: string }>(env, 'destinations', 'resume', added.id)).status).toBe(
      'ACTIVE',
    );

    const tested = await auditline(env, 'destinations', 'test', added.id);
    expect(tested.code).toBe(0);
    expect(tested.stdout).toMatch(/^Sent sample event evt_[0-9a-f]{32} to "siem" in \d+ ms\n$/);
    const [request] = receiver.requests;
    expect(JSON.parse(request!.body).data.events[0]).toMatchObject({
      event: { action: 'auditline.destination_tested' },
    });

    const unreachable = await auditline(
      env,
      'destinations',
      'test',
      (listed as unknown as { id: string }[])[1]!.id,
    );
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(/^error: the receiver did not take the sample event: /);

    const bad = await auditline(
      env,
      'destinations',
      'add',
      'x',
      '--org',
      'acme',
      '--type',
      'webhook',
      '--url',
      'https://siem.example',
      '--format',
      'jsonl',
      '--secret',
      'plain',
    );
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/secret must be whsec_/);

    const removed = await auditline(env, 'destinations', 'remove', added.id);
    expect(removed.stdout).toBe(`Removed destination ${added.id} "siem"\n`);
    expect((await auditlineJson<unknown[]>(env, 'destinations', 'list', '--org', 'acme')).length).toBe(1);
  }, 180_000);
});
