import { AuditlineError, badInput } from '../errors.ts';
import { builder, NodeInterface } from '../graphql/builder.ts';
import type { GraphQLContext } from '../graphql/context.ts';
import { fromPublicId } from '../ids.ts';
import { organizationFor, requireScope, requireScopes } from '../tenancy/viewer.ts';
import { addDestination, changeDestination } from './destination-admin.ts';
import {
  type Destination,
  destinationLag,
  findDestination,
  listDestinations,
  removeDestination,
  setDestinationStatus,
} from './destination-store.ts';
import { testDestination } from './destination-test.ts';
import { DESTINATION_TYPES, type DestinationType } from './destinations/index.ts';
import { ExportFormatEnum } from './export.graphql.ts';
import type { ExportFormat } from './formats/index.ts';

const DestinationTypeEnum = builder.enumType('DestinationType', {
  description: 'Where a destination sends events.',
  values: Object.fromEntries(
    DESTINATION_TYPES.map((type) => [type.toUpperCase().replace('-', '_'), { value: type }]),
  ) as Record<string, { value: DestinationType }>,
});

const DestinationStatusEnum = builder.enumType('DestinationStatus', {
  values: {
    ACTIVE: { description: 'Delivering (or waiting for events).' },
    PAUSED: { description: 'Stopped by an admin; the cursor waits where it is.' },
    FAILING: { description: 'Several deliveries in a row failed; still retrying at the longest backoff.' },
  },
});

const DestinationRef = builder.objectRef<Destination>('Destination').implement({
  description:
    'A continuous log stream to a SIEM or bucket. Delivery is at least once, in stream order; secrets are write-only.',
  interfaces: [NodeInterface],
  isTypeOf: (value) =>
    typeof (value as Destination).id === 'string' && (value as Destination).id.startsWith('dst_'),
  fields: (t) => ({
    id: t.exposeID('id'),
    organizationId: t.exposeID('organizationId'),
    name: t.exposeString('name'),
    type: t.expose('type', { type: DestinationTypeEnum }),
    url: t.exposeString('url'),
    format: t.expose('format', { type: ExportFormatEnum }),
    actions: t.exposeStringList('actions', {
      description: 'Only these actions (prefixes end in *); empty: all.',
    }),
    query: t.exposeString('query', { nullable: true, description: 'Search syntax narrowing what is sent.' }),
    options: t.expose('options', { type: 'JSON', description: 'Transport settings that are not secret.' }),
    hasSecret: t.boolean({ resolve: (destination) => destination.sealedSecret !== null }),
    status: t.expose('status', { type: DestinationStatusEnum }),
    lagEvents: t.int({
      description: 'Matching events not yet acknowledged by the receiver.',
      resolve: async (destination, _args, ctx) =>
        (await destinationLag(ctx.services.database.db, destination)).events,
    }),
    lagSeconds: t.float({
      description: 'How long the oldest unacknowledged event has been waiting; 0 when caught up.',
      resolve: async (destination, _args, ctx) =>
        (await destinationLag(ctx.services.database.db, destination)).seconds,
    }),
    lastSuccessAt: t.expose('lastSuccessAt', { type: 'DateTime', nullable: true }),
    lastError: t.exposeString('lastError', { nullable: true }),
    lastErrorAt: t.expose('lastErrorAt', { type: 'DateTime', nullable: true }),
    attempts: t.exposeInt('attempts', { description: 'Failed attempts since the last success.' }),
    nextAttemptAt: t.expose('nextAttemptAt', { type: 'DateTime', nullable: true }),
    deliveredCount: t.exposeInt('deliveredCount'),
    duplicatesCount: t.exposeInt('duplicatesCount', {
      description:
        'Events in attempts that failed after they may have reached the receiver; each was sent again, so the receiver holds at most this many extra copies.',
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

const CreateDestinationInput = builder.inputType('CreateDestinationInput', {
  fields: (t) => ({
    organizationId: t.id({ description: 'Platform keys only.' }),
    name: t.string({ required: true }),
    type: t.field({ type: DestinationTypeEnum, required: true }),
    url: t.string({
      required: true,
      description:
        'https:// for HTTP receivers, tcp://, tls:// or relp:// for syslog, https://endpoint/bucket[/prefix] for S3.',
    }),
    format: t.field({ type: ExportFormatEnum, required: true }),
    actions: t.stringList(),
    query: t.string(),
    secret: t.string({ description: 'Write-only: never returned.' }),
    options: t.field({ type: 'JSON', description: 'Transport settings, per type (see the README).' }),
    fromBeginning: t.boolean({ description: 'Also send the events already stored (default: from now on).' }),
  }),
});

const UpdateDestinationInput = builder.inputType('UpdateDestinationInput', {
  description: 'Only the fields given change.',
  fields: (t) => ({
    name: t.string(),
    url: t.string(),
    format: t.field({ type: ExportFormatEnum }),
    actions: t.stringList(),
    query: t.string(),
    secret: t.string({ description: 'Write-only: never returned.' }),
    options: t.field({ type: 'JSON' }),
  }),
});

const DestinationTestRef = builder
  .objectRef<{ ok: boolean; error: string | null; durationMs: number; eventId: string }>(
    'DestinationTestResult',
  )
  .implement({
    fields: (t) => ({
      ok: t.exposeBoolean('ok'),
      error: t.exposeString('error', { nullable: true }),
      durationMs: t.exposeInt('durationMs'),
      eventId: t.exposeID('eventId', { description: 'The sample event sent (not stored).' }),
    }),
  });

/**
 * Creating, changing, resuming or testing a destination makes events leave the service, so it needs
 * `events:read` as well as `admin`. Listing, pausing and removing need only `admin`: an admin who
 * cannot read events can still see where they go and stop them.
 */
const requireSendingScopes = (ctx: GraphQLContext) =>
  requireScopes(ctx.auth, ['admin', 'events:read'], 'Sending events to a destination');

/** The destination behind `id`, provided the viewer is an admin of its organization; NOT_FOUND otherwise. */
async function destinationFor(ctx: GraphQLContext, id: string, sends: boolean): Promise<Destination> {
  const viewer = sends ? requireSendingScopes(ctx) : requireScope(ctx.auth, 'admin');
  const uuid = fromPublicId('dst', id);
  const destination = uuid ? await findDestination(ctx.services.database.db, uuid) : null;
  if (
    !destination ||
    (viewer.organizationId !== null && viewer.organizationId !== destination.organizationId)
  ) {
    throw new AuditlineError('NOT_FOUND', `No destination ${id}`, ['id']);
  }
  return destination;
}

builder.queryField('destinations', (t) =>
  t.field({
    type: [DestinationRef],
    description:
      'The organization’s log-stream destinations (a platform key sees all unless it names one). Scope admin.',
    args: { organizationId: t.arg.id() },
    resolve: (_root, args, ctx) => {
      const viewer = requireScope(ctx.auth, 'admin');
      const organization = organizationFor(viewer, args.organizationId, ['organizationId'], false);
      return listDestinations(
        ctx.services.database.db,
        organization ? fromPublicId('org', organization) : null,
      );
    },
  }),
);

builder.queryField('destination', (t) =>
  t.field({
    type: DestinationRef,
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => destinationFor(ctx, args.id, false).catch(() => null),
  }),
);

builder.mutationField('createDestination', (t) =>
  t.field({
    type: DestinationRef,
    description:
      'Starts a log stream; it delivers events stored from now on unless fromBeginning. Scopes admin and events:read.',
    args: { input: t.arg({ type: CreateDestinationInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const viewer = requireSendingScopes(ctx);
      const organizationId = organizationFor(
        viewer,
        input.organizationId,
        ['input', 'organizationId'],
        true,
      )!;
      const organizationUuid = fromPublicId('org', organizationId);
      if (!organizationUuid)
        throw badInput(`"${organizationId}" is not an organization id`, ['input', 'organizationId']);
      const { secrets, connector } = ctx.services.exports;
      return addDestination(
        ctx.services.database.db,
        secrets,
        { ...input, organizationUuid, format: input.format as ExportFormat },
        connector,
      );
    },
  }),
);

builder.mutationField('updateDestination', (t) =>
  t.field({
    type: DestinationRef,
    description: 'Changes a destination; its cursor stays where it is. Scopes admin and events:read.',
    args: {
      id: t.arg.id({ required: true }),
      input: t.arg({ type: UpdateDestinationInput, required: true }),
    },
    resolve: async (_root, { id, input }, ctx) => {
      const current = await destinationFor(ctx, id, true);
      const { secrets, connector } = ctx.services.exports;
      return changeDestination(
        ctx.services.database.db,
        secrets,
        current,
        { ...input, format: (input.format ?? undefined) as ExportFormat | undefined },
        connector,
      );
    },
  }),
);

for (const [field, status, description] of [
  ['pauseDestination', 'PAUSED', 'Stops delivery; the cursor waits. Scope admin.'],
  [
    'resumeDestination',
    'ACTIVE',
    'Resumes delivery where it stopped, retrying at once. Scopes admin and events:read.',
  ],
] as const) {
  builder.mutationField(field, (t) =>
    t.field({
      type: DestinationRef,
      description,
      args: { id: t.arg.id({ required: true }) },
      resolve: async (_root, args, ctx) => {
        const destination = await destinationFor(ctx, args.id, status === 'ACTIVE');
        return (await setDestinationStatus(ctx.services.database.db, destination.uuid, status))!;
      },
    }),
  );
}

builder.mutationField('removeDestination', (t) =>
  t.field({
    type: 'ID',
    description: 'Deletes a destination and its cursor; returns its id. Scope admin.',
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => {
      const destination = await destinationFor(ctx, args.id, false);
      await removeDestination(ctx.services.database.db, destination.uuid);
      return destination.id;
    },
  }),
);

builder.mutationField('testDestination', (t) =>
  t.field({
    type: DestinationTestRef,
    description:
      'Sends one sample event (not stored, cursor untouched) and tells whether the receiver took it. Scopes admin and events:read.',
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) =>
      testDestination(
        ctx.services.database.db,
        await destinationFor(ctx, args.id, true),
        ctx.services.exports,
      ),
  }),
);
