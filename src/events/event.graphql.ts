import { builder, NodeInterface } from '../graphql/builder.ts';
import type { GraphQLContext } from '../graphql/context.ts';
import { fromPublicId } from '../ids.ts';
import { OrganizationRef } from '../tenancy/organization.graphql.ts';
import { organizationFor, requireScope } from '../tenancy/viewer.ts';
import { countEventsBy, type EventCount, MAX_GROUPS } from './counts.ts';
import type { AuditEvent, EventActor, EventContext, EventTarget } from './event.ts';
import { compileEventQuery, compileEventWhere, type EventFilter, requestedOrganization } from './filter.ts';
import {
  MAX_FILTER_METADATA_BYTES,
  MAX_FILTER_METADATA_DEPTH,
  MAX_FILTER_SEARCH_LENGTH,
  MAX_FILTER_VALUE_LENGTH,
  MAX_FILTER_VALUES,
} from './input-limits.ts';
import { countEvents, type EventPage, findEventsPage } from './query.ts';

const ActorRef = builder.objectRef<EventActor>('Actor').implement({
  description: 'Who did it.',
  fields: (t) => ({
    id: t.exposeString('id'),
    type: t.exposeString('type', { description: 'user, service, system, api_key or an app-defined type.' }),
    name: t.exposeString('name', { nullable: true }),
    metadata: t.expose('metadata', { type: 'JSON', nullable: true }),
  }),
});

const TargetRef = builder.objectRef<EventTarget>('Target').implement({
  description: 'What it was done to.',
  fields: (t) => ({
    id: t.exposeString('id'),
    type: t.exposeString('type'),
    name: t.exposeString('name', { nullable: true }),
    metadata: t.expose('metadata', { type: 'JSON', nullable: true }),
  }),
});

const EventContextRef = builder.objectRef<EventContext>('EventContext').implement({
  description: 'Where it came from.',
  fields: (t) => ({
    ipAddress: t.exposeString('ipAddress', { nullable: true }),
    userAgent: t.exposeString('userAgent', { nullable: true }),
    location: t.exposeString('location', { nullable: true }),
    requestId: t.exposeString('requestId', { nullable: true }),
    sessionId: t.exposeString('sessionId', { nullable: true }),
  }),
});

export const EventRef = builder.objectRef<AuditEvent>('Event').implement({
  description: 'One audit event: who did what to which thing, from where, when. Immutable once stored.',
  interfaces: [NodeInterface],
  isTypeOf: (value) =>
    typeof (value as AuditEvent).id === 'string' && (value as AuditEvent).id.startsWith('evt_'),
  fields: (t) => ({
    id: t.exposeID('id'),
    organizationId: t.exposeID('organizationId'),
    organization: t.field({
      type: OrganizationRef,
      resolve: async (event, _args, ctx) => (await ctx.loaders.organization.load(event.organizationId))!,
    }),
    action: t.exposeString('action'),
    actor: t.expose('actor', { type: ActorRef }),
    targets: t.expose('targets', { type: [TargetRef] }),
    context: t.expose('context', { type: EventContextRef }),
    metadata: t.expose('metadata', { type: 'JSON' }),
    occurredAt: t.expose('occurredAt', {
      type: 'DateTime',
      description: 'When it happened, by the app’s clock.',
    }),
    receivedAt: t.expose('receivedAt', {
      type: 'DateTime',
      description: 'When Auditline stored it; drives retention.',
    }),
    version: t.exposeInt('version', { nullable: true }),
    idempotencyKey: t.exposeString('idempotencyKey', { nullable: true }),
  }),
});

export const EventFilterInput = builder.inputType('EventFilter', {
  description: `All given conditions must hold. Lists match any of their values; each takes at most ${MAX_FILTER_VALUES} values of at most ${MAX_FILTER_VALUE_LENGTH} characters.`,
  fields: (t) => ({
    organizationId: t.id({ description: 'Platform keys only; an organization key always reads its own.' }),
    actions: t.stringList({ description: 'Exact actions, or prefixes ending in * (user.*).' }),
    actorIds: t.stringList(),
    actorTypes: t.stringList(),
    targetIds: t.stringList(),
    targetTypes: t.stringList(),
    occurredAfter: t.field({ type: 'DateTime', description: 'Inclusive.' }),
    occurredBefore: t.field({ type: 'DateTime', description: 'Exclusive.' }),
    ipAddress: t.string({ description: 'An address or a CIDR range (10.0.0.0/8).' }),
    search: t.string({
      description: `Case-insensitive text in action, actor and target ids and names, metadata values (≤ ${MAX_FILTER_SEARCH_LENGTH} characters).`,
    }),
    metadata: t.field({
      type: 'JSON',
      description: `Matches events whose metadata contains this JSON object (≤ ${MAX_FILTER_METADATA_BYTES / 1024} KiB, ≤ ${MAX_FILTER_METADATA_DEPTH} levels deep).`,
    }),
  }),
});

const EventOrderEnum = builder.enumType('EventOrder', {
  values: {
    OCCURRED_AT_DESC: { description: 'Newest first.' },
    OCCURRED_AT_ASC: { description: 'Oldest first.' },
  },
});

const PageInfoRef = builder.objectRef<EventPage['pageInfo']>('PageInfo').implement({
  fields: (t) => ({
    hasNextPage: t.exposeBoolean('hasNextPage'),
    hasPreviousPage: t.exposeBoolean('hasPreviousPage'),
    startCursor: t.exposeString('startCursor', { nullable: true }),
    endCursor: t.exposeString('endCursor', { nullable: true }),
  }),
});

const EventEdgeRef = builder.objectRef<EventPage['edges'][number]>('EventEdge').implement({
  fields: (t) => ({
    cursor: t.exposeString('cursor'),
    node: t.expose('node', { type: EventRef }),
  }),
});

type EventConnection = EventPage & { totalCount: () => Promise<number> };

const EventConnectionRef = builder.objectRef<EventConnection>('EventConnection').implement({
  fields: (t) => ({
    edges: t.expose('edges', { type: [EventEdgeRef] }),
    pageInfo: t.expose('pageInfo', { type: PageInfoRef }),
    totalCount: t.int({
      description: 'Exact number of events matching the filter and query (computed only when asked for).',
      resolve: (connection) => connection.totalCount(),
    }),
  }),
});

/** The organization (uuid) a read is confined to: the key's own, or for a platform key the one it names. */
export function readScope(
  ctx: GraphQLContext,
  filter: EventFilter | null | undefined,
  scope: 'events:read' | 'events:stream',
) {
  const viewer = requireScope(ctx.auth, scope);
  const organizationId = organizationFor(
    viewer,
    requestedOrganization(filter),
    ['filter', 'organizationId'],
    false,
  );
  return organizationId ? fromPublicId('org', organizationId) : null;
}

builder.queryField('events', (t) =>
  t.field({
    type: EventConnectionRef,
    description:
      'Audit events, newest first by default, keyset-paginated (first/after, last/before). Scope events:read.',
    args: {
      filter: t.arg({ type: EventFilterInput }),
      query: t.arg.string({
        description: 'Search syntax, e.g. `action:user.* -actor:svc_1 created:>=2026-11-01`.',
      }),
      orderBy: t.arg({ type: EventOrderEnum, defaultValue: 'OCCURRED_AT_DESC' }),
      first: t.arg.int({ description: 'Page size, default 50, at most 1000.' }),
      after: t.arg.string(),
      last: t.arg.int(),
      before: t.arg.string(),
    },
    resolve: async (_root, args, ctx) => {
      const { where, planFitsEveryValue } = compileEventQuery(
        readScope(ctx, args.filter, 'events:read'),
        args.filter,
        args.query,
      );
      const db = ctx.services.database.db;
      const page = await findEventsPage(db, where, args.orderBy ?? 'OCCURRED_AT_DESC', args, {
        reusePlan: planFitsEveryValue,
      });
      return { ...page, totalCount: () => countEvents(db, where) };
    },
  }),
);

builder.queryField('event', (t) =>
  t.field({
    type: EventRef,
    nullable: true,
    description:
      'One event by id; null when it does not exist or belongs to another organization. Scope events:read.',
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => {
      requireScope(ctx.auth, 'events:read');
      return ctx.loaders.event.load(args.id);
    },
  }),
);

const EventGroupingEnum = builder.enumType('EventGrouping', {
  values: {
    ACTION: {},
    ACTOR: { description: 'Actor id.' },
    ACTOR_TYPE: {},
    IP_ADDRESS: {},
    HOUR: { description: 'UTC hour of occurredAt, e.g. 2026-11-28T14:00:00Z.' },
    DAY: { description: 'UTC day of occurredAt, e.g. 2026-11-28.' },
  },
});

const EventCountRef = builder.objectRef<EventCount>('EventCount').implement({
  fields: (t) => ({
    key: t.exposeString('key', {
      nullable: true,
      description: 'The group; null for events without it (no IP, say).',
    }),
    count: t.exposeInt('count'),
  }),
});

builder.queryField('eventCounts', (t) =>
  t.field({
    type: [EventCountRef],
    description:
      'Counts of matching events per group (busiest first; time buckets oldest first). Same filter and query as `events`. Scope events:read.',
    args: {
      filter: t.arg({ type: EventFilterInput }),
      query: t.arg.string(),
      groupBy: t.arg({ type: EventGroupingEnum, required: true }),
      limit: t.arg.int({ defaultValue: 20, description: `At most ${MAX_GROUPS}.` }),
    },
    resolve: (_root, args, ctx) => {
      const where = compileEventWhere(readScope(ctx, args.filter, 'events:read'), args.filter, args.query);
      return countEventsBy(ctx.services.database.db, where, args.groupBy, args.limit ?? 20);
    },
  }),
);
