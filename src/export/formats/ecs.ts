import type { AuditEvent } from '../../events/event.ts';
import { type ActionRuleOverride, classifyAction } from '../action-mapping.ts';
import { clientIp, isAccount, nullIfEmpty, withoutNulls } from './fields.ts';

export const ECS_VERSION = '8.11.0';

export interface EcsOptions {
  actionOverrides?: readonly ActionRuleOverride[];
}

export function toEcsLine(event: AuditEvent, options: EcsOptions = {}): string {
  return JSON.stringify(toEcs(event, options));
}

export function toEcs(event: AuditEvent, options: EcsOptions = {}): Record<string, unknown> {
  const classification = classifyAction(event.action, options.actionOverrides);
  const { actor, context } = event;
  const targetAccount = event.targets.find(isAccount) ?? null;
  const ip = clientIp(event)?.address ?? null;
  const labels = withoutNulls({
    actor_type: actor.type,
    session_id: context.sessionId,
    location: context.location,
  });

  return withoutNulls({
    '@timestamp': event.occurredAt.toISOString(),
    ecs: { version: ECS_VERSION },
    event: {
      kind: 'event',
      category: [classification.category],
      type: [...classification.type],
      action: event.action,
      outcome: classification.outcome,
      severity: classification.severity,
      id: event.id,
      created: event.receivedAt.toISOString(),
    },
    user: withoutNulls({
      id: actor.id,
      name: actor.name,
      target:
        targetAccount === null ? null : withoutNulls({ id: targetAccount.id, name: targetAccount.name }),
    }),
    source: ip === null ? null : { ip },
    user_agent: context.userAgent === null ? null : { original: context.userAgent },
    http: context.requestId === null ? null : { request: { id: context.requestId } },
    organization: { id: event.organizationId },
    related: withoutNulls({
      user: distinct([actor.id, actor.name, targetAccount?.id, targetAccount?.name]),
      ip: ip === null ? null : [ip],
    }),
    labels,
    auditline: nullIfEmpty(
      withoutNulls({
        metadata: nullIfEmpty(event.metadata),
        targets:
          event.targets.length === 0 ? null : event.targets.map(({ id, type, name }) => ({ id, type, name })),
        version: event.version,
        idempotency_key: event.idempotencyKey,
      }),
    ),
  });
}

function distinct(values: (string | null | undefined)[]): string[] {
  return [...new Set(values.filter((value): value is string => typeof value === 'string'))];
}
