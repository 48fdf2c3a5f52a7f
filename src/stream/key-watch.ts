import { and, inArray, isNull } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import { apiKeys } from '../db/tables.ts';
import { fromPublicId } from '../ids.ts';

/** Which of these keys (`key_…`) still exist and are not revoked. */
export async function activeKeyIds(db: Database, keyIds: Iterable<string>): Promise<Set<string>> {
  const byUuid = new Map<string, string>();
  for (const keyId of keyIds) {
    const uuid = fromPublicId('key', keyId);
    if (uuid) byUuid.set(uuid, keyId);
  }
  if (byUuid.size === 0) return new Set();
  const rows = await db
    .select({ id: apiKeys.id })
    .from(apiKeys)
    .where(and(inArray(apiKeys.id, [...byUuid.keys()]), isNull(apiKeys.revokedAt)));
  return new Set(rows.map((row) => byUuid.get(row.id)!));
}
