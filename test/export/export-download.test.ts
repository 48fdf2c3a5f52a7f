import { request } from 'node:http';
import { Writable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileEventWhere } from '../../src/events/filter.ts';
import { signExportGrant } from '../../src/export/export-link.ts';
import { exportChunks, writeExport } from '../../src/export/exporter.ts';
import { fromPublicId } from '../../src/ids.ts';
import { backends } from '../support/backends.ts';
import { createTestApp, type Tenant, type TestApp } from '../support/test-app.ts';
import { emitNumbered } from './support/emit.ts';

const EXPORT = /* GraphQL */ `
  query Export($filter: EventFilter, $query: String, $format: ExportFormat!) {
    exportEvents(filter: $filter, query: $query, format: $format) { url path expiresAt format mediaType }
  }
`;

function download(port: number, path: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }>(
    (resolve, reject) => {
      request({ host: '127.0.0.1', port, path, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }),
        );
        res.on('error', reject);
      })
        .on('error', reject)
        .end();
    },
  );
}

describe.each(backends())('one-shot export on $name', (backend) => {
  let t: TestApp;
  let port: number;
  let tenant: Tenant;
  let ids: string[];
  beforeAll(async () => {
    t = await createTestApp(backend);
    port = await t.app.start(0, '127.0.0.1');
    tenant = await t.tenant();
    ids = await emitNumbered(tenant, 120);
    // Another tenant's events must never leak into this one's export.
    await emitNumbered(await t.tenant(), 5);
  });
  afterAll(() => t.close());

  it('serves every matching event, oldest first, gzipped when the client accepts it', async () => {
    const link = await tenant.gql(EXPORT, { format: 'JSONL' });
    expect(link.errors).toBeUndefined();
    const { path, url, format, mediaType } = link.data!.exportEvents;
    expect(format).toBe('JSONL');
    expect(mediaType).toBe('application/x-ndjson');
    expect(url).toBe(`http://auditline.test${path}`);
    const response = await download(port, path, { 'accept-encoding': 'gzip, deflate' });
    expect(response.status).toBe(200);
    expect(response.headers['content-encoding']).toBe('gzip');
    expect(response.headers['content-disposition']).toMatch(/attachment; filename="auditline-.*\.jsonl"/);
    const lines = gunzipSync(response.body).toString('utf8').trimEnd().split('\n');
    expect(lines.map((line) => JSON.parse(line).id)).toEqual(ids);
    expect(lines.map((line) => JSON.parse(line).metadata.seq)).toEqual(ids.map((_, index) => index));
  });

  it('sends plain text without Accept-Encoding, with the CSV header first', async () => {
    const { path } = (await tenant.gql(EXPORT, { format: 'CSV', query: 'action:user.login_failed' })).data!
      .exportEvents;
    const response = await download(port, path);
    expect(response.status).toBe(200);
    expect(response.headers['content-encoding']).toBeUndefined();
    expect(response.headers['content-type']).toBe('text/csv; charset=utf-8');
    const rows = response.body.toString('utf8').split('\r\n');
    expect(rows[0]).toMatch(/^id,/);
    expect(rows.slice(1, -1)).toHaveLength(40);
    expect(rows.at(-1)).toBe('');
  });

  it('applies the filter and the query the link was made for', async () => {
    const { path } = (
      await tenant.gql(EXPORT, {
        format: 'CEF',
        filter: { occurredAfter: '2026-01-01T00:01:00Z' },
        query: '-action:user.login_failed',
      })
    ).data!.exportEvents;
    const lines = (await download(port, path)).body.toString('utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(40);
    expect(lines.every((line) => line.startsWith('CEF:0|Auditline|Auditline|1.0|document.updated|'))).toBe(
      true,
    );
  });

  it('refuses a tampered link (403) and an expired one (410)', async () => {
    const { path } = (await tenant.gql(EXPORT, { format: 'JSONL' })).data!.exportEvents as { path: string };
    const [body, signature] = path.slice('/exports/'.length).split('.');
    const forged = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(body!, 'base64url').toString()), o: null }),
    ).toString('base64url');
    expect((await download(port, `/exports/${forged}.${signature}`)).status).toBe(403);
    expect((await download(port, '/exports/nonsense')).status).toBe(403);
    const expired = signExportGrant(t.app.services.exports.linkKey, {
      keyId: tenant.key.id,
      organizationUuid: fromPublicId('org', tenant.organization.id),
      filter: null,
      query: null,
      format: 'jsonl',
      expiresAt: new Date(Date.now() - 1000),
    });
    const response = await download(port, `/exports/${expired}`);
    expect(response.status).toBe(410);
    expect(response.body.toString()).toMatch(/expired/);
  });

  it('needs events:read and names a bad query', async () => {
    const writer = await t.tenant(['events:write']);
    const denied = await writer.gql(EXPORT, { format: 'JSONL' });
    expect(denied.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const bad = await tenant.gql(EXPORT, { format: 'JSONL', query: 'created:>=yesterday-ish' });
    expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(bad.errors?.[0]?.extensions?.path).toEqual(['query']);
  });

  it('reads the next page only when the consumer asks for more', async () => {
    const where = compileEventWhere(fromPublicId('org', tenant.organization.id), null, null);
    let pagesRead = 0;
    const stalled = new Writable({ highWaterMark: 1, write: () => {} });
    void writeExport(t.database.db, where, 'jsonl', stalled, {
      pageSize: 5,
      onPage: () => {
        pagesRead += 1;
      },
    }).catch(() => {});
    await new Promise((resolve) => setTimeout(resolve, 300));
    // 24 pages exist; a stalled sink holds the writer at a couple of pages in flight.
    expect(pagesRead).toBeGreaterThan(0);
    expect(pagesRead).toBeLessThanOrEqual(3);
    stalled.destroy();

    const chunks: string[] = [];
    for await (const chunk of exportChunks(t.database.db, where, 'jsonl', { pageSize: 50 }))
      chunks.push(chunk);
    expect(chunks.map((chunk) => chunk.split('\n').length - 1)).toEqual([50, 50, 20]);
  });
});
