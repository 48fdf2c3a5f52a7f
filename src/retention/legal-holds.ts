import { and, desc, eq, isNull } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import { AuditlineError, badInput } from '../errors.ts';
import { fromPublicId, toPublicId, uuidv7 } from '../ids.ts';
import { requireOrganizationRow } from '../tenancy/organizations.ts';
import { type RetentionActor, recordRetentionEvents } from './audit-trail.ts';
import { legalHolds } from './tables.ts';

/**
 * Keeps the organization's events whose occurredAt lies in [from, to) — null ends are open — from
 * being purged until released, whatever the retention window says.
 */
export interface LegalHold {
  id: string;
  organizationId: string;
  reason: string;
  from: Date | null;
  to: Date | null;
  placedAt: Date;
  placedBy: string;
  releasedAt: Date | null;
  releasedBy: string | null;
}

export const REASON_MAX_LENGTH = 1000;

const toLegalHold = (row: typeof legalHolds.$inferSelect): LegalHold => ({
  id: toPublicId('hold', row.id),
  organizationId: toPublicId('org', row.organizationId),
  reason: row.reason,
  from: row.fromAt,
  to: row.toAt,
  placedAt: row.placedAt,
  placedBy: row.placedBy,
  releasedAt: row.releasedAt,
  releasedBy: row.releasedBy,
});

const holdTarget = (hold: LegalHold) => ({ id: hold.id, type: 'legal_hold' });

const holdMetadata = (hold: LegalHold) => ({
  holdId: hold.id,
  reason: hold.reason,
  from: hold.from?.toISOString() ?? null,
  to: hold.to?.toISOString() ?? null,
});

export async function placeLegalHold(
  db: Database,
  input: {
    organizationId: string;
    reason: string;
    from?: Date | null;
    to?: Date | null;
    actor: RetentionActor;
  },
): Promise<LegalHold> {
  const reason = input.reason.trim();
  if (reason === '') throw badInput('reason must not be empty', ['reason']);
  if (reason.length > REASON_MAX_LENGTH) {
    throw badInput(`reason is ${reason.length} characters long; the limit is ${REASON_MAX_LENGTH}`, [
      'reason',
    ]);
  }
  const from = input.from ?? null;
  const to = input.to ?? null;
  if (from && to && from.getTime() >= to.getTime()) {
    throw badInput(`to (${to.toISOString()}) must be later than from (${from.toISOString()})`, ['to']);
  }
  return db.transaction(async (tx) => {
    const organization = await requireOrganizationRow(tx, input.organizationId);
    const uuid = organization.id;
    const [row] = await tx
      .insert(legalHolds)
      .values({
        id: uuidv7(),
        organizationId: uuid,
        reason,
        fromAt: from,
        toAt: to,
        placedBy: input.actor.id,
      })
      .returning();
    const hold = toLegalHold(row!);
    await recordRetentionEvents(tx, [
      {
        organizationUuid: uuid,
        action: 'auditline.legal_hold_placed',
        actor: input.actor,
        target: holdTarget(hold),
        metadata: holdMetadata(hold),
      },
    ]);
    return hold;
  });
}

/**
 * Releases a hold and records `auditline.legal_hold_released`. `organizationScope` is the caller's
 * organization (null for a platform key): a hold of another organization is reported as not found.
 * Releasing a released hold returns it unchanged and records nothing.
 */
export async function releaseLegalHold(
  db: Database,
  input: { id: string; organizationScope: string | null; actor: RetentionActor },
): Promise<LegalHold> {
  const uuid = fromPublicId('hold', input.id);
  const notFound = () => new AuditlineError('NOT_FOUND', `No legal hold ${input.id}`, ['id']);
  if (!uuid) throw notFound();
  return db.transaction(async (tx) => {
    const [existing] = await tx.select().from(legalHolds).where(eq(legalHolds.id, uuid)).for('update');
    if (!existing) throw notFound();
    const current = toLegalHold(existing);
    if (input.organizationScope !== null && current.organizationId !== input.organizationScope)
      throw notFound();
    if (current.releasedAt) return current;
    const [row] = await tx
      .update(legalHolds)
      .set({ releasedAt: new Date(), releasedBy: input.actor.id })
      .where(and(eq(legalHolds.id, uuid), isNull(legalHolds.releasedAt)))
      .returning();
    const hold = toLegalHold(row!);
    await recordRetentionEvents(tx, [
      {
        organizationUuid: existing.organizationId,
        action: 'auditline.legal_hold_released',
        actor: input.actor,
        target: holdTarget(hold),
        metadata: { ...holdMetadata(hold), placedAt: hold.placedAt.toISOString() },
      },
    ]);
    return hold;
  });
}

/** An organization's holds, newest first; released ones too unless `activeOnly`. */
export async function listLegalHolds(
  db: Database,
  organizationId: string,
  options: { activeOnly?: boolean } = {},
): Promise<LegalHold[]> {
  const uuid = fromPublicId('org', organizationId);
  if (!uuid) return [];
  const rows = await db
    .select()
    .from(legalHolds)
    .where(
      options.activeOnly
        ? and(eq(legalHolds.organizationId, uuid), isNull(legalHolds.releasedAt))
        : eq(legalHolds.organizationId, uuid),
    )
    .orderBy(desc(legalHolds.placedAt), desc(legalHolds.id));
  return rows.map(toLegalHold);
}
