import { count } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import { organizations } from '../db/tables.ts';
import { type CreatedApiKey, createApiKey } from './api-keys.ts';
import { createOrganization, type Organization } from './organizations.ts';
import { SCOPES } from './scopes.ts';

/** On an empty database: an organization `default` and one key with every scope. Null otherwise. */
export async function bootstrapFirstRun(
  db: Database,
): Promise<{ organization: Organization; key: CreatedApiKey } | null> {
  const [row] = await db.select({ n: count() }).from(organizations);
  if ((row?.n ?? 0) > 0) return null;
  const organization = await createOrganization(db, 'default');
  const key = await createApiKey(db, {
    organizationId: organization.id,
    scopes: [...SCOPES],
    name: 'first-run key',
  });
  return { organization, key };
}
