import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { EventFilter } from '../events/filter.ts';
import { type ExportFormat, isExportFormat } from './formats/index.ts';

/**
 * What a signed download link grants: one export of one organization's events (null: every
 * organization), for as long as the key that asked for it (`keyId`, `key_…`) stays active.
 */
export interface ExportGrant {
  keyId: string;
  organizationUuid: string | null;
  filter: EventFilter | null;
  query: string | null;
  format: ExportFormat;
  expiresAt: Date;
}

export type LinkCheck = { ok: true; grant: ExportGrant } | { ok: false; reason: 'invalid' | 'expired' };

let processSecret: Buffer | undefined;

/** The configured secret, or one made for this process (links then work only against this process). */
export function linkSigningKey(configured: string | null): Buffer {
  if (configured) return Buffer.from(configured, 'utf8');
  processSecret ??= randomBytes(32);
  return processSecret;
}

const sign = (key: Buffer, body: string) => createHmac('sha256', key).update(body).digest();

export function signExportGrant(key: Buffer, grant: ExportGrant): string {
  const body = Buffer.from(
    JSON.stringify({
      k: grant.keyId,
      o: grant.organizationUuid,
      f: grant.filter,
      q: grant.query,
      t: grant.format,
      e: Math.floor(grant.expiresAt.getTime() / 1000),
    }),
  ).toString('base64url');
  return `${body}.${sign(key, body).toString('base64url')}`;
}

export function verifyExportToken(key: Buffer, token: string, now = new Date()): LinkCheck {
  const [body, signature, extra] = token.split('.');
  if (!body || !signature || extra !== undefined) return { ok: false, reason: 'invalid' };
  const expected = sign(key, body);
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, reason: 'invalid' };
  }
  const claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  // Links signed before they carried their key's id cannot be tied to a key: they fail closed.
  if (!isExportFormat(claims.t) || typeof claims.k !== 'string') return { ok: false, reason: 'invalid' };
  const expiresAt = new Date(claims.e * 1000);
  if (expiresAt.getTime() <= now.getTime()) return { ok: false, reason: 'expired' };
  return {
    ok: true,
    grant: {
      keyId: claims.k,
      organizationUuid: claims.o,
      filter: reviveFilter(claims.f),
      query: claims.q,
      format: claims.t,
      expiresAt,
    },
  };
}

function reviveFilter(filter: EventFilter | null): EventFilter | null {
  if (!filter) return null;
  return {
    ...filter,
    occurredAfter: filter.occurredAfter ? new Date(filter.occurredAfter) : null,
    occurredBefore: filter.occurredBefore ? new Date(filter.occurredBefore) : null,
  };
}
