import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { and, asc, eq, isNull, lt, or, sql } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import { apiKeys } from '../db/tables.ts';
import { AuditlineError, badInput } from '../errors.ts';
import { fromPublicId, toPublicId, uuidv7 } from '../ids.ts';
import type { Scope } from './scopes.ts';

export interface ApiKey {
  id: string;
  name: string;
  /** Null for a platform key. */
  organizationId: string | null;
  scopes: Scope[];
  createdAt: Date;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
}

/** A key as it is handed out, once: the secret exists nowhere else. */
export interface CreatedApiKey extends ApiKey {
  secret: string;
}

/** Tokens look like `al_live_<32 hex key id>_<43 base64url secret>`. */
const TOKEN_PATTERN = /^al_live_([0-9a-f]{32})_([A-Za-z0-9_-]{43})$/;

const hashSecret = (secret: string) => createHash('sha256').update(secret).digest('hex');

const toApiKey = (row: typeof apiKeys.$inferSelect): ApiKey => ({
  id: toPublicId('key', row.id),
  name: row.name,
  organizationId: row.organizationId ? toPublicId('org', row.organizationId) : null,
  scopes: row.scopes as Scope[],
  createdAt: row.createdAt,
  revokedAt: row.revokedAt,
  lastUsedAt: row.lastUsedAt,
});

export async function createApiKey(
  db: Database,
  input: { organizationId: string | null; scopes: Scope[]; name?: string },
): Promise<CreatedApiKey> {
  if (input.organizationId === null && !input.scopes.includes('admin')) {
    throw badInput('A platform key (no organization) must carry the admin scope', ['scopes']);
  }
  const organizationUuid = input.organizationId === null ? null : fromPublicId('org', input.organizationId);
  if (input.organizationId !== null && organizationUuid === null) {
    throw badInput(`"${input.organizationId}" is not an organization id`, ['organizationId']);
  }
  const id = uuidv7();
  // 32 random bytes: a fast hash is enough for a secret this long; bcrypt-style stretching would only slow auth.
  const secretPart = randomBytes(32).toString('base64url');
  const [row] = await db
    .insert(apiKeys)
    .values({
      id,
      organizationId: organizationUuid,
      name: input.name ?? 'api key',
      secretHash: hashSecret(secretPart),
      scopes: input.scopes,
    })
    .returning();
  return { ...toApiKey(row!), secret: `al_live_${id.replaceAll('-', '')}_${secretPart}` };
}

export async function listApiKeys(db: Database, organizationId: string | null): Promise<ApiKey[]> {
  const uuid = organizationId === null ? null : fromPublicId('org', organizationId);
  const rows = await db
    .select()
    .from(apiKeys)
    .where(uuid === null ? isNull(apiKeys.organizationId) : eq(apiKeys.organizationId, uuid))
    .orderBy(asc(apiKeys.createdAt));
  return rows.map(toApiKey);
}

export async function revokeApiKey(db: Database, keyId: string): Promise<ApiKey> {
  const uuid = fromPublicId('key', keyId);
  if (!uuid) throw badInput(`"${keyId}" is not an API key id`, ['id']);
  const [row] = await db
    .update(apiKeys)
    .set({ revokedAt: new Date() })
    .where(and(eq(apiKeys.id, uuid), isNull(apiKeys.revokedAt)))
    .returning();
  if (row) return toApiKey(row);
  const [existing] = await db.select().from(apiKeys).where(eq(apiKeys.id, uuid));
  if (!existing) throw new AuditlineError('NOT_FOUND', `No API key with id ${keyId}`, ['id']);
  return toApiKey(existing);
}

/** The key with this id (`key_…`), revoked or not; null when there is none. */
export async function findApiKey(db: Database, keyId: string): Promise<ApiKey | null> {
  const uuid = fromPublicId('key', keyId);
  if (!uuid) return null;
  const [row] = await db.select().from(apiKeys).where(eq(apiKeys.id, uuid));
  return row ? toApiKey(row) : null;
}

export type KeyCheck = { ok: true; key: ApiKey } | { ok: false; reason: 'malformed' | 'unknown' | 'revoked' };

/** Checks a presented token against the stored hash in constant time. */
export async function verifyApiKeyToken(db: Database, token: string): Promise<KeyCheck> {
  const match = TOKEN_PATTERN.exec(token);
  if (!match) return { ok: false, reason: 'malformed' };
  const [, idHex, secretPart] = match;
  const [row] = await db
    .select()
    .from(apiKeys)
    .where(eq(apiKeys.id, fromPublicId('key', `key_${idHex}`)!));
  if (!row) return { ok: false, reason: 'unknown' };
  const presented = Buffer.from(hashSecret(secretPart!), 'hex');
  const stored = Buffer.from(row.secretHash, 'hex');
  if (presented.length !== stored.length || !timingSafeEqual(presented, stored))
    return { ok: false, reason: 'unknown' };
  if (row.revokedAt) return { ok: false, reason: 'revoked' };
  return { ok: true, key: toApiKey(row) };
}

/** Records that a key was used, at most once a minute per key so busy keys do not write on every request. */
export async function touchApiKey(db: Database, keyId: string): Promise<void> {
  const uuid = fromPublicId('key', keyId);
  if (!uuid) return;
  await db
    .update(apiKeys)
    .set({ lastUsedAt: new Date() })
    .where(
      and(
        eq(apiKeys.id, uuid),
        or(isNull(apiKeys.lastUsedAt), lt(apiKeys.lastUsedAt, sql`now() - interval '1 minute'`)),
      ),
    );
}
