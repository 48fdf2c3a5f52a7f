import DataLoader from 'dataloader';
import { builder } from '../graphql/builder.ts';
import type { GraphQLContext } from '../graphql/context.ts';
import { OrganizationRef } from '../tenancy/organization.graphql.ts';
import type { Organization } from '../tenancy/organizations.ts';
import { organizationFor, requireScope } from '../tenancy/viewer.ts';
import { actorOf } from './audit-trail.ts';
import { type LegalHold, listLegalHolds, placeLegalHold, releaseLegalHold } from './legal-holds.ts';
import { retentionDaysOf, setRetentionPolicy } from './policies.ts';
import { type RetentionStatus, retentionStatus } from './status.ts';

const retentionLoaders = new WeakMap<GraphQLContext, DataLoader<string, number>>();

function retentionDaysLoader(ctx: GraphQLContext): DataLoader<string, number> {
  let loader = retentionLoaders.get(ctx);
  if (!loader) {
    loader = new DataLoader((ids) =>
      retentionDaysOf(ctx.services.database.db, ids, ctx.services.retention.defaultDays),
    );
    retentionLoaders.set(ctx, loader);
  }
  return loader;
}

/** Reading retention needs events:read, and an organization key sees only its own organization. */
function readableOrganization(ctx: GraphQLContext, organization: Organization): string {
  const viewer = requireScope(ctx.auth, 'events:read');
  return organizationFor(viewer, organization.id, [], true)!;
}

const LegalHoldRef = builder.objectRef<LegalHold>('LegalHold').implement({
  description:
    'Keeps an organization’s events whose occurredAt lies in [from, to) from being purged until it is released, whatever the retention policy says.',
  fields: (t) => ({
    id: t.exposeID('id'),
    organizationId: t.exposeID('organizationId'),
    reason: t.exposeString('reason'),
    from: t.expose('from', {
      type: 'DateTime',
      nullable: true,
      description: 'Events that occurred at or after this are held; null: since the beginning.',
    }),
    to: t.expose('to', {
      type: 'DateTime',
      nullable: true,
      description: 'Events that occurred before this are held; null: with no end.',
    }),
    placedAt: t.expose('placedAt', { type: 'DateTime' }),
    placedBy: t.exposeString('placedBy', { description: 'The API key id that placed it, or "system".' }),
    releasedAt: t.expose('releasedAt', {
      type: 'DateTime',
      nullable: true,
      description: 'Null while the hold is in force.',
    }),
    releasedBy: t.exposeString('releasedBy', { nullable: true }),
  }),
});

const PurgeSummaryRef = builder.objectRef<{ at: Date; deletedCount: number }>('PurgeSummary').implement({
  description: 'The most recent completed purge and what it removed from this organization.',
  fields: (t) => ({
    at: t.expose('at', { type: 'DateTime', description: 'When it finished.' }),
    deletedCount: t.exposeInt('deletedCount'),
  }),
});

const RetentionStatusRef = builder.objectRef<RetentionStatus>('RetentionStatus').implement({
  fields: (t) => ({
    oldestEventAt: t.expose('oldestEventAt', {
      type: 'DateTime',
      nullable: true,
      description: 'receivedAt of the oldest stored event; null when there is none.',
    }),
    eventCount: t.exposeInt('eventCount'),
    nextPurgeAt: t.expose('nextPurgeAt', {
      type: 'DateTime',
      description: 'When the scheduled purge is next due (every PURGE_INTERVAL).',
    }),
    lastPurge: t.expose('lastPurge', { type: PurgeSummaryRef, nullable: true }),
  }),
});

builder.objectFields(OrganizationRef, (t) => ({
  retentionDays: t.int({
    description:
      'Events are purged once their receivedAt is more than this many days old (24-hour days). Scope events:read.',
    resolve: (organization, _args, ctx) =>
      retentionDaysLoader(ctx).load(readableOrganization(ctx, organization)),
  }),
  legalHolds: t.field({
    type: [LegalHoldRef],
    description: 'Legal holds, newest first, released ones included. Scope events:read.',
    args: { activeOnly: t.arg.boolean({ defaultValue: false, description: 'Only holds still in force.' }) },
    resolve: (organization, args, ctx) =>
      listLegalHolds(ctx.services.database.db, readableOrganization(ctx, organization), {
        activeOnly: args.activeOnly ?? false,
      }),
  }),
  retentionStatus: t.field({
    type: RetentionStatusRef,
    description: 'What is stored and when it is purged. Scope events:read.',
    resolve: (organization, _args, ctx) =>
      retentionStatus(ctx.services.database.db, readableOrganization(ctx, organization), {
        purgeIntervalMs: ctx.services.retention.purgeIntervalMs,
      }),
  }),
}));

builder.mutationField('setRetentionPolicy', (t) =>
  t.field({
    type: OrganizationRef,
    description:
      'Sets how many days (1 to 3650) the organization’s events are kept; recorded as auditline.retention_policy_changed. Scope admin.',
    args: {
      organizationId: t.arg.id({ required: true }),
      retentionDays: t.arg.int({ required: true }),
    },
    resolve: async (_root, args, ctx) => {
      const viewer = requireScope(ctx.auth, 'admin');
      const organizationId = organizationFor(viewer, args.organizationId, ['organizationId'], true)!;
      await setRetentionPolicy(ctx.services.database.db, {
        organizationId,
        retentionDays: args.retentionDays,
        actor: actorOf(viewer),
      });
      retentionDaysLoader(ctx).clear(organizationId);
      return (await ctx.loaders.organization.load(organizationId))!;
    },
  }),
);

builder.mutationField('placeLegalHold', (t) =>
  t.field({
    type: LegalHoldRef,
    description:
      'Stops the purge of the organization’s events that occurred in [from, to) (open ends when null) until released; recorded as auditline.legal_hold_placed. Scope admin.',
    args: {
      organizationId: t.arg.id({ required: true }),
      reason: t.arg.string({ required: true }),
      from: t.arg({ type: 'DateTime' }),
      to: t.arg({ type: 'DateTime' }),
    },
    resolve: (_root, args, ctx) => {
      const viewer = requireScope(ctx.auth, 'admin');
      const organizationId = organizationFor(viewer, args.organizationId, ['organizationId'], true)!;
      return placeLegalHold(ctx.services.database.db, {
        organizationId,
        reason: args.reason,
        from: args.from,
        to: args.to,
        actor: actorOf(viewer),
      });
    },
  }),
);

builder.mutationField('releaseLegalHold', (t) =>
  t.field({
    type: LegalHoldRef,
    description:
      'Ends a legal hold; the next purge may remove what it kept. Recorded as auditline.legal_hold_released; releasing twice changes nothing. Scope admin.',
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => {
      const viewer = requireScope(ctx.auth, 'admin');
      return releaseLegalHold(ctx.services.database.db, {
        id: args.id,
        organizationScope: viewer.organizationId,
        actor: actorOf(viewer),
      });
    },
  }),
);
