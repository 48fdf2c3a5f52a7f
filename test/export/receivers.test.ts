import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex, signV4 } from '../../src/export/destinations/sigv4.ts';
import type { Tenant, TestApp } from '../support/test-app.ts';
import {
  CREATE_DESTINATION,
  DESTINATION,
  isolatedTestApp,
  oneBackend,
  startDeliveryWorker,
} from './support/delivery.ts';
import { emitNumbered } from './support/emit.ts';
import { startFakeDatadog, startFakeSentinel, startFakeSplunkHec } from './support/fakes.ts';
import { waitFor } from './support/receivers.ts';

describe.each(oneBackend())('HTTP receivers on $name', (backend) => {
  let t: TestApp;
  let worker: ReturnType<typeof startDeliveryWorker>;
  const closers: (() => Promise<unknown>)[] = [];
  beforeAll(async () => {
    t = await isolatedTestApp(backend);
    worker = startDeliveryWorker(t);
  });
  afterAll(async () => {
    await worker.stop();
    for (const close of closers) await close();
    await t.close();
  });

  async function create(tenant: Tenant, input: Record<string, unknown>) {
    const result = await tenant.gql(CREATE_DESTINATION, { input: { name: String(input.type), ...input } });
    expect(result.errors).toBeUndefined();
    return result.data!.createDestination as { id: string };
  }

  const seqs = (values: unknown[]) => values as { metadata: { seq: number } }[];

  it('Splunk HEC (fake) gets envelopes and confirms them through indexer acknowledgement', async () => {
    const hec = await startFakeSplunkHec('hec-token-1', true);
    closers.push(() => hec.close());
    const tenant = await t.tenant();
    await create(tenant, {
      type: 'SPLUNK_HEC',
      url: hec.url,
      format: 'JSONL',
      secret: 'hec-token-1',
      options: { ack: true, index: 'audit', sourcetype: 'auditline:json' },
    });
    const ids = await emitNumbered(tenant, 25);
    await waitFor(() => hec.indexed.length >= 25, 'Splunk acknowledgements');
    expect(hec.indexed.map((envelope) => (envelope.event as { id: string }).id)).toEqual(ids);
    expect(hec.indexed[0]).toMatchObject({
      index: 'audit',
      sourcetype: 'auditline:json',
      source: 'auditline',
    });
    expect(hec.indexed[0]!.time).toBe(Date.UTC(2026, 0, 1) / 1000);
    expect(hec.requests.some((request) => request.url.startsWith('/services/collector/ack?channel='))).toBe(
      true,
    );
  });

  it('Sentinel (fake) gets OCSF records with a bearer token from client credentials', async () => {
    const sentinel = await startFakeSentinel('client-1', 'client-secret-1');
    closers.push(() => sentinel.close());
    const tenant = await t.tenant();
    await create(tenant, {
      type: 'SENTINEL',
      url: sentinel.ingestionUrl,
      format: 'OCSF',
      secret: 'client-secret-1',
      options: { tokenUrl: sentinel.tokenUrl, clientId: 'client-1' },
    });
    await emitNumbered(tenant, 12);
    await waitFor(() => sentinel.records.length >= 12, 'Sentinel records');
    expect(sentinel.records[0]).toMatchObject({ TimeGenerated: '2026-01-01T00:00:00.000Z', class_uid: 3002 });
    expect(sentinel.records[1]).toMatchObject({ class_uid: 6003, TimeGenerated: '2026-01-01T00:00:01.000Z' });
    expect(sentinel.tokensIssued).toBe(1);
  });

  it('Datadog (fake) gets CEF messages, and a wrong API key shows up as lastError', async () => {
    const datadog = await startFakeDatadog('dd-key-1');
    closers.push(() => datadog.close());
    const tenant = await t.tenant();
    await create(tenant, {
      type: 'DATADOG',
      url: `${datadog.url}/api/v2/logs`,
      format: 'CEF',
      secret: 'dd-key-1',
      options: { service: 'billing', tags: 'env:test' },
    });
    const wrong = await create(tenant, {
      name: 'wrong key',
      type: 'DATADOG',
      url: `${datadog.url}/api/v2/logs`,
      format: 'CEF',
      secret: 'not-the-key',
    });
    await emitNumbered(tenant, 6);
    await waitFor(() => datadog.logs.length >= 6, 'Datadog logs');
    expect(datadog.logs[0]).toMatchObject({ ddsource: 'auditline', service: 'billing', ddtags: 'env:test' });
    expect(String(datadog.logs[0]!.message)).toMatch(
      /^CEF:0\|Auditline\|Auditline\|1\.0\|user\.login_failed\|/,
    );
    await waitFor(
      async () => (await tenant.gql(DESTINATION, { id: wrong.id })).data!.destination.lastError !== null,
      'error',
    );
    const failed = (await tenant.gql(DESTINATION, { id: wrong.id })).data!.destination;
    expect(failed.lastError).toMatch(/Datadog answered 403/);
    expect(failed.deliveredCount).toBe(0);
  });

  it('S3 (s3rver) gets gzip JSON-lines objects under org/YYYY/MM/DD/HH/', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'auditline-s3-'));
    const s3 = new S3rver({
      address: '127.0.0.1',
      port: 0,
      silent: true,
      directory,
      configureBuckets: [{ name: 'audit' }],
    });
    const { port } = (await s3.run()) as { port: number };
    closers.push(async () => {
      await s3.close();
      rmSync(directory, { recursive: true, force: true });
    });
    const endpoint = `http://127.0.0.1:${port}`;
    const tenant = await t.tenant();
    await create(tenant, {
      type: 'S3',
      url: `${endpoint}/audit/auditline`,
      format: 'JSONL',
      secret: 'S3RVER:S3RVER',
    });
    const ids = await emitNumbered(tenant, 40);

    const credentials = {
      accessKeyId: 'S3RVER',
      secretAccessKey: 'S3RVER',
      region: 'us-east-1',
      service: 's3',
    };
    const signedGet = async (url: URL) => {
      const headers = signV4(
        { method: 'GET', url, headers: {}, payloadHash: sha256Hex('') },
        credentials,
        new Date(),
      );
      delete headers.host;
      const response = await fetch(url, { headers });
      expect(response.status).toBe(200);
      return Buffer.from(await response.arrayBuffer());
    };
    const listed = async () => {
      const url = new URL(`${endpoint}/audit`);
      url.searchParams.set('list-type', '2');
      url.searchParams.set('prefix', `auditline/${tenant.organization.id}/`);
      const xml = (await signedGet(url)).toString('utf8');
      return [...xml.matchAll(/<Key>([^<]+)<\/Key>/g)].map((match) => match[1]!);
    };
    const received = async () => {
      const events: { id: string }[] = [];
      for (const key of (await listed()).sort()) {
        const body = gunzipSync(await signedGet(new URL(`${endpoint}/audit/${key}`))).toString('utf8');
        events.push(
          ...body
            .trimEnd()
            .split('\n')
            .map((line) => JSON.parse(line)),
        );
      }
      return events;
    };
    await waitFor(async () => (await received()).length >= 40, 'S3 objects');
    const keys = await listed();
    const hour = new Date().toISOString().slice(0, 13).replace('T', '/').replaceAll('-', '/');
    for (const key of keys) {
      expect(key).toMatch(
        new RegExp(
          `^auditline/${tenant.organization.id}/\\d{4}/\\d{2}/\\d{2}/\\d{2}/evt_[0-9a-f]{32}-evt_[0-9a-f]{32}\\.jsonl\\.gz$`,
        ),
      );
    }
    expect(keys.some((key) => key.includes(`/${hour}/`))).toBe(true);
    expect((await received()).map((event) => event.id)).toEqual(ids);
    expect(seqs(await received()).map((event) => event.metadata.seq)).toEqual(ids.map((_, index) => index));
  });
});
