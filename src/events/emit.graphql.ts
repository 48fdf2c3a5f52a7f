import { AuditlineError } from '../errors.ts';
import { builder } from '../graphql/builder.ts';
import type { GraphQLContext } from '../graphql/context.ts';
import { requireScope } from '../tenancy/viewer.ts';
import { type EmitDependencies, type EmitResult, emitEvents } from './emit.ts';
import type { InputError } from './emit-input.ts';
import { EventRef } from './event.graphql.ts';
import type { AuditEvent } from './event.ts';
import {
  MAX_ACTION_LENGTH,
  MAX_EVENTS_PER_BATCH,
  MAX_FUTURE_SKEW_MS,
  MAX_METADATA_BYTES,
  MAX_METADATA_DEPTH,
  MAX_TARGETS_PER_EVENT,
} from './input-limits.ts';

const ActorInput = builder.inputType('ActorInput', {
  fields: (t) => ({
    id: t.string({ required: true }),
    type: t.string({ description: 'Defaults to user.' }),
    name: t.string(),
    metadata: t.field({ type: 'JSON' }),
  }),
});

const TargetInput = builder.inputType('TargetInput', {
  fields: (t) => ({
    id: t.string({ required: true }),
    type: t.string({ required: true }),
    name: t.string(),
    metadata: t.field({ type: 'JSON' }),
  }),
});

const ContextInput = builder.inputType('ContextInput', {
  fields: (t) => ({
    ipAddress: t.string({ description: 'IPv4 or IPv6.' }),
    userAgent: t.string(),
    location: t.string(),
    requestId: t.string(),
    sessionId: t.string(),
  }),
});

const EmitEventInputRef = builder.inputType('EmitEventInput', {
  fields: (t) => ({
    action: t.string({
      required: true,
      description: `noun.verb, e.g. user.login_failed (≤ ${MAX_ACTION_LENGTH} chars).`,
    }),
    actor: t.field({ type: ActorInput, required: true }),
    targets: t.field({ type: [TargetInput], description: `At most ${MAX_TARGETS_PER_EVENT}.` }),
    context: t.field({ type: ContextInput }),
    metadata: t.field({
      type: 'JSON',
      description: `A JSON object, ≤ ${MAX_METADATA_BYTES / 1024} KiB, ≤ ${MAX_METADATA_DEPTH} levels deep.`,
    }),
    occurredAt: t.field({
      type: 'DateTime',
      description: `Defaults to now; not before 1970-01-01, at most ${MAX_FUTURE_SKEW_MS / 60_000} minutes ahead.`,
    }),
    version: t.int({ description: 'Schema version of the action.' }),
    idempotencyKey: t.string({ description: 'A retry with the same key returns the first event, forever.' }),
    organizationId: t.id({ description: 'Only platform keys may name it.' }),
  }),
});

const InputErrorRef = builder.objectRef<InputError>('InputError').implement({
  description: 'Why one input was refused; `path` names the field.',
  fields: (t) => ({
    code: t.exposeString('code', { description: 'BAD_USER_INPUT, FORBIDDEN or IDEMPOTENCY_CONFLICT.' }),
    message: t.exposeString('message'),
    path: t.exposeStringList('path'),
  }),
});

const EmitEventPayloadRef = builder
  .objectRef<{ event: AuditEvent; replayed: boolean }>('EmitEventPayload')
  .implement({
    fields: (t) => ({
      event: t.expose('event', { type: EventRef }),
      replayed: t.exposeBoolean('replayed', {
        description: 'True when an earlier call with this idempotencyKey stored it.',
      }),
    }),
  });

const EmitEventResultRef = builder.objectRef<EmitResult>('EmitEventResult').implement({
  fields: (t) => ({
    index: t.exposeInt('index'),
    event: t.expose('event', { type: EventRef, nullable: true }),
    replayed: t.exposeBoolean('replayed', { nullable: true }),
    error: t.expose('error', { type: InputErrorRef, nullable: true }),
  }),
});

const EmitEventsPayloadRef = builder.objectRef<EmitResult[]>('EmitEventsPayload').implement({
  fields: (t) => ({
    results: t.field({ type: [EmitEventResultRef], resolve: (results) => results }),
    acceptedCount: t.int({ resolve: (results) => results.filter((result) => result.error === null).length }),
    rejectedCount: t.int({ resolve: (results) => results.filter((result) => result.error !== null).length }),
  }),
});

const dependenciesOf = (ctx: GraphQLContext): EmitDependencies => ({
  writer: ctx.services.writer,
  organizationExists: async (id) => (await ctx.loaders.organization.load(id)) !== null,
});

builder.mutationField('emitEvent', (t) =>
  t.field({
    type: EmitEventPayloadRef,
    description: 'Records one event. Nothing is stored when the input is refused. Scope events:write.',
    args: { input: t.arg({ type: EmitEventInputRef, required: true }) },
    resolve: async (_root, args, ctx) => {
      const viewer = requireScope(ctx.auth, 'events:write');
      const [result] = await emitEvents(dependenciesOf(ctx), viewer, [args.input]);
      if (result!.error) {
        throw new AuditlineError(result!.error.code, result!.error.message, ['input', ...result!.error.path]);
      }
      return { event: result!.event!, replayed: result!.replayed! };
    },
  }),
);

builder.mutationField('emitEvents', (t) =>
  t.field({
    type: EmitEventsPayloadRef,
    description: `Records up to ${MAX_EVENTS_PER_BATCH} events. Valid ones are stored even when others are refused; each result has its index. Scope events:write.`,
    args: { input: t.arg({ type: [EmitEventInputRef], required: true }) },
    resolve: async (_root, args, ctx) => {
      const viewer = requireScope(ctx.auth, 'events:write');
      const results = await emitEvents(dependenciesOf(ctx), viewer, args.input);
      for (const result of results) {
        if (result.error)
          result.error = { ...result.error, path: ['input', String(result.index), ...result.error.path] };
      }
      return results;
    },
  }),
);
