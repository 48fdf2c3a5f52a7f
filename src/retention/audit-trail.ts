import type { Database } from '../db/client.ts';
import { prepareEvent } from '../events/emit-input.ts';
import { writeBatch } from '../events/writer.ts';
import { uuidv7 } from '../ids.ts';
import type { Viewer } from '../tenancy/viewer.ts';

/** Who changed retention: an API key, or the server itself (scheduled purge, CLI). */
export interface RetentionActor {
  id: string;
  type: 'api_key' | 'system';
  name?: string;
}

export const SYSTEM_ACTOR: RetentionActor = { id: 'system', type: 'system' };
export const CLI_ACTOR: RetentionActor = { id: 'system', type: 'system', name: 'auditline cli' };
export const actorOf = (viewer: Viewer): RetentionActor => ({ id: viewer.keyId, type: 'api_key' });

export type RetentionAction =
  | 'auditline.retention_policy_changed'
  | 'auditline.legal_hold_placed'
  | 'auditline.legal_hold_released'
  | 'auditline.events_purged';

export interface RetentionRecord {
  organizationUuid: string;
  action: RetentionAction;
  actor: RetentionActor;
  target: { id: string; type: string; name?: string };
  metadata: Record<string, unknown>;
}

/**
 * Writes retention actions into the organizations' own logs. Pass the transaction that made the
 * change, so the change and its record commit together (the writer nests as a savepoint).
 */
export async function recordRetentionEvents(db: Database, records: RetentionRecord[]): Promise<void> {
  if (records.length === 0) return;
  const now = new Date();
  const prepared = records.map((record) => {
    const result = prepareEvent(
      {
        action: record.action,
        actor: { id: record.actor.id, type: record.actor.type, name: record.actor.name ?? null },
        targets: [record.target],
        metadata: record.metadata,
      },
      { id: uuidv7(now.getTime()), organizationId: record.organizationUuid },
      now,
    );
    if (!result.ok) throw new Error(`${record.action} record is invalid: ${result.error.message}`);
    return result.event;
  });
  await writeBatch(db, prepared);
}
