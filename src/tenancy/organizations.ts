import { asc, eq, inArray } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import { organizations } from '../db/tables.ts';
import { AuditlineError, badInput } from '../errors.ts';
import { fromPublicId, toPublicId, uuidv7 } from '../ids.ts';

export interface Organization {
  id: string;
  name: string;
  createdAt: Date;
}

const NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,62}$/;

const toOrganization = (row: typeof organizations.$inferSelect): Organization => ({
  id: toPublicId('org', row.id),
  name: row.name,
  createdAt: row.createdAt,
});

export async function createOrganization(db: Database, name: string): Promise<Organization> {
  if (!NAME_PATTERN.test(name)) {
    throw badInput(
      `Organization name "${name}" is invalid: use 1-63 lower-case letters, digits, ".", "_" or "-"`,
      ['name'],
    );
  }
  const existing = await db.select().from(organizations).where(eq(organizations.name, name));
  if (existing.length > 0) throw badInput(`An organization named "${name}" already exists`, ['name']);
  const [row] = await db.insert(organizations).values({ id: uuidv7(), name }).returning();
  return toOrganization(row!);
}

export async function listOrganizations(db: Database): Promise<Organization[]> {
  const rows = await db
    .select()
    .from(organizations)
    .orderBy(asc(organizations.createdAt), asc(organizations.name));
  return rows.map(toOrganization);
}

/** Finds an organization by public id, uuid or name (the CLI accepts any of them). */
export async function findOrganization(db: Database, idOrName: string): Promise<Organization | null> {
  const uuid = fromPublicId('org', idOrName);
  const [row] = await db
    .select()
    .from(organizations)
    .where(uuid ? eq(organizations.id, uuid) : eq(organizations.name, idOrName));
  return row ? toOrganization(row) : null;
}

export async function loadOrganizations(
  db: Database,
  publicIds: readonly string[],
): Promise<(Organization | null)[]> {
  const uuids = publicIds.map((id) => fromPublicId('org', id)).filter((id): id is string => id !== null);
  const rows = uuids.length
    ? await db.select().from(organizations).where(inArray(organizations.id, uuids))
    : [];
  const byId = new Map(rows.map((row) => [toPublicId('org', row.id), toOrganization(row)]));
  return publicIds.map((id) => byId.get(id) ?? null);
}

/** The stored row behind an organization's public id, or NOT_FOUND naming `organizationId`. */
export async function requireOrganizationRow(db: Database, publicId: string) {
  const uuid = fromPublicId('org', publicId);
  const [row] = uuid ? await db.select().from(organizations).where(eq(organizations.id, uuid)) : [];
  if (!row) throw new AuditlineError('NOT_FOUND', `No organization ${publicId}`, ['organizationId']);
  return row;
}
