import { eq, inArray, sql } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import { badInput } from '../errors.ts';
import { fromPublicId, toPublicId } from '../ids.ts';
import { requireOrganizationRow } from '../tenancy/organizations.ts';
import { type RetentionActor, recordRetentionEvents } from './audit-trail.ts';
import { retentionPolicies } from './tables.ts';

export const RETENTION_DAYS = { min: 1, max: 3650 } as const;
export const DAY_MS = 86_400_000;

export function checkRetentionDays(days: number, inputPath: string[] = ['retentionDays']): number {
  if (!Number.isInteger(days) || days < RETENTION_DAYS.min || days > RETENTION_DAYS.max) {
    throw badInput(
      `retentionDays must be a whole number of days from ${RETENTION_DAYS.min} to ${RETENTION_DAYS.max} (3650 is ten years); got ${days}`,
      inputPath,
    );
  }
  return days;
}

/** The organizations' windows by public id; those without a policy get `defaultDays`. */
export async function retentionDaysOf(
  db: Database,
  organizationIds: readonly string[],
  defaultDays: number,
): Promise<number[]> {
  const uuids = organizationIds
    .map((id) => fromPublicId('org', id))
    .filter((id): id is string => id !== null);
  const rows = uuids.length
    ? await db.select().from(retentionPolicies).where(inArray(retentionPolicies.organizationId, uuids))
    : [];
  const byId = new Map(rows.map((row) => [toPublicId('org', row.organizationId), row.retentionDays]));
  return organizationIds.map((id) => byId.get(id) ?? defaultDays);
}

export interface PolicyChange {
  organizationId: string;
  retentionDays: number;
  /** Null when the organization was on the server default. */
  previousRetentionDays: number | null;
}

/** Sets an organization's window and records `auditline.retention_policy_changed` in the same transaction. */
export async function setRetentionPolicy(
  db: Database,
  input: { organizationId: string; retentionDays: number; actor: RetentionActor },
): Promise<PolicyChange> {
  const retentionDays = checkRetentionDays(input.retentionDays);
  return db.transaction(async (tx) => {
    const organization = await requireOrganizationRow(tx, input.organizationId);
    const uuid = organization.id;
    const [previous] = await tx
      .select({ retentionDays: retentionPolicies.retentionDays })
      .from(retentionPolicies)
      .where(eq(retentionPolicies.organizationId, uuid))
      .for('update');
    await tx
      .insert(retentionPolicies)
      .values({ organizationId: uuid, retentionDays })
      .onConflictDoUpdate({
        target: retentionPolicies.organizationId,
        set: { retentionDays, updatedAt: sql`now()` },
      });
    const change = {
      organizationId: toPublicId('org', uuid),
      retentionDays,
      previousRetentionDays: previous?.retentionDays ?? null,
    };
    await recordRetentionEvents(tx, [
      {
        organizationUuid: uuid,
        action: 'auditline.retention_policy_changed',
        actor: input.actor,
        target: { id: change.organizationId, type: 'organization', name: organization.name },
        metadata: { retentionDays, previousRetentionDays: change.previousRetentionDays },
      },
    ]);
    return change;
  });
}
