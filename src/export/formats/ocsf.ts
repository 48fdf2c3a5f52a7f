import type { AuditEvent, EventActor, EventTarget } from '../../events/event.ts';
import {
  type ActionOutcome,
  type ActionRuleOverride,
  classifyAction,
  OCSF_CLASS,
  type OcsfClassUid,
} from '../action-mapping.ts';
import { clientIp, nullIfEmpty, subjectAccount, withoutNulls } from './fields.ts';

export const OCSF_SCHEMA_VERSION = '1.3.0';

export interface OcsfOptions {
  actionOverrides?: readonly ActionRuleOverride[];
}

interface OcsfClassInfo {
  name: string;
  activities: Readonly<Record<number, string>>;
}

const OTHER_ACTIVITY = 99;

/** The classes Auditline writes and the activities each has (ids are OCSF 1.3's). */
export const OCSF_CLASSES: Readonly<Record<OcsfClassUid, OcsfClassInfo>> = {
  [OCSF_CLASS.authentication]: {
    name: 'Authentication',
    activities: { 0: 'Unknown', 1: 'Logon', 2: 'Logoff', 99: 'Other' },
  },
  [OCSF_CLASS.accountChange]: {
    name: 'Account Change',
    activities: {
      0: 'Unknown',
      1: 'Create',
      2: 'Enable',
      3: 'Password Change',
      4: 'Password Reset',
      5: 'Disable',
      6: 'Delete',
      7: 'Attach Policy',
      8: 'Detach Policy',
      9: 'Lock',
      10: 'MFA Factor Enable',
      11: 'MFA Factor Disable',
      99: 'Other',
    },
  },
  [OCSF_CLASS.apiActivity]: {
    name: 'API Activity',
    activities: { 0: 'Unknown', 1: 'Create', 2: 'Read', 3: 'Update', 4: 'Delete', 99: 'Other' },
  },
};

const OCSF_CATEGORIES: Record<number, string> = {
  3: 'Identity & Access Management',
  6: 'Application Activity',
};

const OCSF_STATUS: Record<ActionOutcome, { id: number; name: string }> = {
  unknown: { id: 0, name: 'Unknown' },
  success: { id: 1, name: 'Success' },
  failure: { id: 2, name: 'Failure' },
};

const OCSF_SEVERITY_NAMES: Record<number, string> = {
  1: 'Informational',
  2: 'Low',
  3: 'Medium',
  4: 'High',
  5: 'Critical',
};

/** OCSF user `type_id`: 1 User, 3 System; other actor types are 99 with the type as the source value. */
const OCSF_USER_TYPES: Record<string, { id: number; name: string }> = {
  user: { id: 1, name: 'User' },
  system: { id: 3, name: 'System' },
};

export function toOcsfLine(event: AuditEvent, options: OcsfOptions = {}): string {
  return JSON.stringify(toOcsf(event, options));
}

export function toOcsf(event: AuditEvent, options: OcsfOptions = {}): Record<string, unknown> {
  const classification = classifyAction(event.action, options.actionOverrides);
  const { classUid, activityId } = classification.ocsf;
  const ocsfClass = OCSF_CLASSES[classUid];
  const activityCaption = ocsfClass.activities[activityId] ?? ocsfClass.activities[OTHER_ACTIVITY];
  // OCSF: the class_uid's thousands digit is its category; type_uid = class_uid * 100 + activity_id.
  const categoryUid = Math.floor(classUid / 1000);
  const status = OCSF_STATUS[classification.outcome];
  const severityId = ocsfSeverityId(classification.severity);
  const isApiActivity = classUid === OCSF_CLASS.apiActivity;
  const ip = clientIp(event)?.address ?? null;

  return withoutNulls({
    activity_id: activityId,
    // OCSF: for activity 99 (Other), activity_name carries the source's own value.
    activity_name: activityId === OTHER_ACTIVITY ? event.action : activityCaption,
    category_uid: categoryUid,
    category_name: OCSF_CATEGORIES[categoryUid],
    class_uid: classUid,
    class_name: ocsfClass.name,
    type_uid: classUid * 100 + activityId,
    type_name: `${ocsfClass.name}: ${activityCaption}`,
    severity_id: severityId,
    severity: OCSF_SEVERITY_NAMES[severityId],
    status_id: status.id,
    status: status.name,
    time: event.occurredAt.getTime(),
    metadata: withoutNulls({
      version: OCSF_SCHEMA_VERSION,
      product: { name: 'Auditline', vendor_name: 'Auditline' },
      uid: event.id,
      tenant_uid: event.organizationId,
      event_code: event.action,
      correlation_uid: event.context.requestId,
      original_time: event.occurredAt.toISOString(),
      logged_time: event.receivedAt.getTime(),
    }),
    actor: withoutNulls({
      user: ocsfUser(event.actor),
      session: event.context.sessionId === null ? null : { uid: event.context.sessionId },
    }),
    user: isApiActivity ? null : ocsfUser(subjectAccount(event)),
    api: isApiActivity ? { operation: event.action } : null,
    resources: isApiActivity && event.targets.length > 0 ? event.targets.map(ocsfResource) : null,
    src_endpoint: ip === null ? null : { ip },
    http_request: event.context.userAgent === null ? null : { user_agent: event.context.userAgent },
    unmapped: unmapped(event, isApiActivity),
  });
}

function ocsfUser(entity: EventActor | EventTarget): Record<string, unknown> {
  const type = OCSF_USER_TYPES[entity.type] ?? { id: 99, name: entity.type };
  return withoutNulls({ uid: entity.id, name: entity.name, type: type.name, type_id: type.id });
}

function ocsfResource(target: EventTarget): Record<string, unknown> {
  return withoutNulls({ uid: target.id, name: target.name, type: target.type });
}

function unmapped(event: AuditEvent, targetsMapped: boolean): Record<string, unknown> | null {
  return nullIfEmpty(
    withoutNulls({
      metadata: nullIfEmpty(event.metadata),
      location: event.context.location,
      targets: targetsMapped || event.targets.length === 0 ? null : event.targets.map(ocsfResource),
    }),
  );
}

/** Maps the 0-10 scale onto OCSF severity_id 1 (Informational) to 5 (Critical). */
function ocsfSeverityId(severity: number): number {
  if (severity <= 1) return 1;
  if (severity <= 3) return 2;
  if (severity <= 6) return 3;
  if (severity <= 8) return 4;
  return 5;
}
