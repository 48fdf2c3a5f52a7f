import type { IncomingMessage, ServerResponse } from 'node:http';
import { createGzip } from 'node:zlib';
import type { Config } from '../config.ts';
import type { DatabaseHandle } from '../db/client.ts';
import { AuditlineError } from '../errors.ts';
import { compileEventWhere } from '../events/filter.ts';
import type { Logger } from '../logger.ts';
import { findApiKey } from '../tenancy/api-keys.ts';
import { linkSigningKey, verifyExportToken } from './export-link.ts';
import { writeExport } from './exporter.ts';
import { EXPORT_FORMAT_DESCRIPTORS, type ExportFormat } from './formats/index.ts';

export const EXPORTS_PATH = '/exports/';

const FILE_EXTENSIONS: Record<ExportFormat, string> = {
  jsonl: 'jsonl',
  csv: 'csv',
  cef: 'cef',
  leef: 'leef',
  ocsf: 'ocsf.jsonl',
  ecs: 'ecs.jsonl',
};

interface DownloadDependencies {
  config: Config;
  database: DatabaseHandle;
  logger: Logger;
}

/** `GET /exports/<token>`: streams the export a signed link grants, gzipped when the client accepts it. */
export async function serveExportDownload(
  req: IncomingMessage,
  res: ServerResponse,
  { config, database, logger }: DownloadDependencies,
): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD' });
    return void res.end();
  }
  const token = decodeURIComponent((req.url ?? '').split('?')[0]!.slice(EXPORTS_PATH.length));
  const check = verifyExportToken(linkSigningKey(config.export.signingSecret), token);
  if (!check.ok) {
    return problem(
      res,
      check.reason === 'expired' ? 410 : 403,
      check.reason === 'expired'
        ? 'This export link has expired; ask exportEvents for a new one'
        : 'This export link is not valid',
    );
  }
  const { grant } = check;
  const holderProblem = await linkHolderProblem(database, grant.keyId);
  if (holderProblem) return problem(res, 403, holderProblem);
  let where: ReturnType<typeof compileEventWhere>;
  try {
    where = compileEventWhere(grant.organizationUuid, grant.filter, grant.query);
  } catch (error) {
    if (error instanceof AuditlineError) return problem(res, 400, error.message);
    throw error;
  }
  const gzip = acceptsGzip(req.headers['accept-encoding']);
  const stamp = `${new Date().toISOString().replaceAll(':', '').slice(0, 17)}Z`;
  res.writeHead(200, {
    'content-type': EXPORT_FORMAT_DESCRIPTORS[grant.format].mediaType,
    'content-disposition': `attachment; filename="auditline-${stamp}.${FILE_EXTENSIONS[grant.format]}"`,
    'cache-control': 'no-store',
    vary: 'accept-encoding',
    ...(gzip ? { 'content-encoding': 'gzip' } : {}),
  });
  if (req.method === 'HEAD') return void res.end();
  try {
    await writeExport(database.db, where, grant.format, res, { transforms: gzip ? [createGzip()] : [] });
  } catch (error) {
    // The status line is gone already: cut the connection so the client sees an incomplete download.
    if (!res.destroyed) logger.error('export download failed', { error: String(error) });
    res.destroy();
  }
}

/** Why the key that made a link may no longer download it, or null while it still may. */
async function linkHolderProblem(database: DatabaseHandle, keyId: string): Promise<string | null> {
  const key = await findApiKey(database.db, keyId);
  if (!key || key.revokedAt)
    return 'The API key that made this export link was revoked; the link no longer works';
  if (!key.scopes.includes('events:read')) return 'The API key that made this export link lacks events:read';
  return null;
}

/** True unless the client did not list gzip (or `*`) or gave it q=0. */
export function acceptsGzip(header: string | undefined): boolean {
  if (!header) return false;
  for (const part of header.split(',')) {
    const [coding, ...params] = part.trim().toLowerCase().split(';');
    if (coding !== 'gzip' && coding !== 'x-gzip' && coding !== '*') continue;
    const q = params.map((param) => param.trim()).find((param) => param.startsWith('q='));
    return !q || Number(q.slice(2)) > 0;
  }
  return false;
}

function problem(res: ServerResponse, status: number, message: string) {
  res
    .writeHead(status, { 'content-type': 'application/json' })
    .end(JSON.stringify({ errors: [{ message }] }));
}
