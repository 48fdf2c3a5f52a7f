import { asc, eq, inArray, sql } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import { prepareEvent } from '../events/emit-input.ts';
import { writeBatch } from '../events/writer.ts';
import { toPublicId, uuidv7 } from '../ids.ts';
import type { RetentionActor } from '../retention/audit-trail.ts';
import { requireOrganizationRow } from '../tenancy/organizations.ts';
import type { ActionRuleOverride, OcsfClassUid } from './action-mapping.ts';
import { checkActionRules } from './action-mapping-rules.ts';
import { actionMappingRules } from './tables.ts';

type RuleRow = typeof actionMappingRules.$inferSelect;

function ruleFromRow(row: RuleRow): ActionRuleOverride {
  const rule: ActionRuleOverride = { pattern: row.pattern };
  if (row.category !== null) rule.category = row.category as ActionRuleOverride['category'];
  if (row.types !== null) rule.type = row.types as ActionRuleOverride['type'];
  if (row.outcome !== null) rule.outcome = row.outcome as ActionRuleOverride['outcome'];
  if (row.severity !== null) rule.severity = row.severity;
  if (row.ocsfClassUid !== null && row.ocsfActivityId !== null) {
    rule.ocsf = { classUid: row.ocsfClassUid as OcsfClassUid, activityId: row.ocsfActivityId };
  }
  return rule;
}

/** Each organization's override rules (by uuid), in the order they are checked. */
export async function actionOverridesOf(
  db: Database,
  organizationUuids: readonly string[],
): Promise<ActionRuleOverride[][]> {
  const rows = organizationUuids.length
    ? await db
        .select()
        .from(actionMappingRules)
        .where(inArray(actionMappingRules.organizationId, [...new Set(organizationUuids)]))
        .orderBy(asc(actionMappingRules.organizationId), asc(actionMappingRules.position))
    : [];
  const byOrganization = new Map<string, ActionRuleOverride[]>();
  for (const row of rows) {
    const list = byOrganization.get(row.organizationId) ?? [];
    list.push(ruleFromRow(row));
    byOrganization.set(row.organizationId, list);
  }
  return organizationUuids.map((uuid) => byOrganization.get(uuid) ?? []);
}

/** One organization's override rules: what to pass as `actionOverrides` when formatting its events. */
export async function actionOverridesFor(
  db: Database,
  organizationUuid: string,
): Promise<ActionRuleOverride[]> {
  const [rules] = await actionOverridesOf(db, [organizationUuid]);
  return rules!;
}

export interface ActionMappingChange {
  organizationId: string;
  rules: ActionRuleOverride[];
  previousRuleCount: number;
}

/** Rules (as JSON) up to this size go into the change record in full; beyond, only their patterns. */
const RECORDED_RULES_BYTES = 24 * 1024;

/**
 * Replaces an organization's override rules with `rules` (checked first; nothing is stored when one
 * is invalid) and records `auditline.action_mappings_changed` in its log, in one transaction.
 */
export async function setActionMappings(
  db: Database,
  input: { organizationId: string; rules: unknown; actor: RetentionActor },
): Promise<ActionMappingChange> {
  const rules = checkActionRules(input.rules);
  return db.transaction(async (tx) => {
    const organization = await requireOrganizationRow(tx, input.organizationId);
    const uuid = organization.id;
    // Two replacements of one organization's list run one after the other, never interleaved.
    await tx.execute(
      sql`select pg_advisory_xact_lock(hashtextextended(${`action_mapping_rules/${uuid}`}, 0))`,
    );
    const previous = await tx
      .delete(actionMappingRules)
      .where(eq(actionMappingRules.organizationId, uuid))
      .returning({ position: actionMappingRules.position });
    if (rules.length > 0) {
      await tx.insert(actionMappingRules).values(
        rules.map((rule, position) => ({
          organizationId: uuid,
          position,
          pattern: rule.pattern,
          category: rule.category ?? null,
          types: rule.type ? [...rule.type] : null,
          outcome: rule.outcome ?? null,
          severity: rule.severity ?? null,
          ocsfClassUid: rule.ocsf?.classUid ?? null,
          ocsfActivityId: rule.ocsf?.activityId ?? null,
        })),
      );
    }
    const change = { organizationId: toPublicId('org', uuid), rules, previousRuleCount: previous.length };
    await recordChange(tx, organization.name, uuid, change, input.actor);
    return change;
  });
}

async function recordChange(
  tx: Database,
  organizationName: string,
  organizationUuid: string,
  change: ActionMappingChange,
  actor: RetentionActor,
): Promise<void> {
  const now = new Date();
  const rulesFit = Buffer.byteLength(JSON.stringify(change.rules)) <= RECORDED_RULES_BYTES;
  const result = prepareEvent(
    {
      action: 'auditline.action_mappings_changed',
      actor: { id: actor.id, type: actor.type, name: actor.name ?? null },
      targets: [{ id: change.organizationId, type: 'organization', name: organizationName }],
      metadata: {
        ruleCount: change.rules.length,
        previousRuleCount: change.previousRuleCount,
        ...(rulesFit ? { rules: change.rules } : { patterns: change.rules.map((rule) => rule.pattern) }),
      },
    },
    { id: uuidv7(now.getTime()), organizationId: organizationUuid },
    now,
  );
  if (!result.ok)
    throw new Error(`auditline.action_mappings_changed record is invalid: ${result.error.message}`);
  await writeBatch(tx, [result.event]);
}
