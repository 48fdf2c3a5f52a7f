import DataLoader from 'dataloader';
import { AuditlineError } from '../errors.ts';
import { builder } from '../graphql/builder.ts';
import type { GraphQLContext } from '../graphql/context.ts';
import { fromPublicId } from '../ids.ts';
import { actorOf } from '../retention/audit-trail.ts';
import { OrganizationRef } from '../tenancy/organization.graphql.ts';
import type { Organization } from '../tenancy/organizations.ts';
import { organizationFor, requireScope, type Viewer } from '../tenancy/viewer.ts';
import {
  ACTION_CATEGORIES,
  ACTION_OUTCOMES,
  ACTION_TYPES,
  type ActionRuleOverride,
} from './action-mapping.ts';
import { DEFAULT_MAPPINGS, MAX_ACTION_MAPPING_RULES } from './action-mapping-rules.ts';
import { actionOverridesOf, setActionMappings } from './action-mapping-store.ts';

/** A GraphQL enum whose names are the upper-cased values the formats write (`iam` is IAM). */
function enumOf<Value extends string>(name: string, description: string, values: readonly Value[]) {
  return builder.enumType(name, {
    description,
    values: Object.fromEntries(values.map((value) => [value.toUpperCase(), { value }])) as Record<
      Uppercase<Value>,
      { value: Value }
    >,
  });
}

const ActionCategoryEnum = enumOf(
  'ActionCategory',
  'ECS event.category; also the LEEF cat attribute.',
  ACTION_CATEGORIES,
);
const ActionTypeEnum = enumOf('ActionType', 'ECS event.type.', ACTION_TYPES);
const ActionOutcomeEnum = enumOf(
  'ActionOutcome',
  'ECS event.outcome, CEF/LEEF outcome and OCSF status_id.',
  ACTION_OUTCOMES,
);

const OcsfClassificationRef = builder
  .objectRef<NonNullable<ActionRuleOverride['ocsf']>>('OcsfClassification')
  .implement({
    fields: (t) => ({
      classUid: t.exposeInt('classUid', {
        description: '3001 Account Change, 3002 Authentication or 6003 API Activity.',
      }),
      activityId: t.exposeInt('activityId', { description: 'An activity of that class; 99 is Other.' }),
    }),
  });

const ActionMappingRuleRef = builder.objectRef<ActionRuleOverride>('ActionMappingRule').implement({
  description:
    'How the actions matching pattern are classified in CEF, LEEF, OCSF, ECS and syslog. In an organization’s own rules a null field keeps the default classification’s value.',
  fields: (t) => ({
    pattern: t.exposeString('pattern', {
      description: 'Matched against the whole action: * is any run of characters, {a,b} either alternative.',
    }),
    category: t.expose('category', { type: ActionCategoryEnum, nullable: true }),
    type: t.field({
      type: [ActionTypeEnum],
      nullable: true,
      resolve: (rule) => (rule.type ? [...rule.type] : null),
    }),
    outcome: t.expose('outcome', { type: ActionOutcomeEnum, nullable: true }),
    severity: t.exposeInt('severity', {
      nullable: true,
      description: '0 (informational) to 10 (most severe): the CEF scale, mapped onto OCSF and syslog.',
    }),
    ocsf: t.expose('ocsf', { type: OcsfClassificationRef, nullable: true }),
  }),
});

const OcsfClassificationInput = builder.inputType('OcsfClassificationInput', {
  fields: (t) => ({
    classUid: t.int({
      required: true,
      description: '3001 Account Change, 3002 Authentication or 6003 API Activity.',
    }),
    activityId: t.int({ required: true, description: 'An activity of that class; 99 is Other.' }),
  }),
});

const ActionMappingRuleInput = builder.inputType('ActionMappingRuleInput', {
  description: 'The fields given replace those of the default classification for matching actions.',
  fields: (t) => ({
    pattern: t.string({
      required: true,
      description: 'Lower-case action characters, * and {a,b} groups; up to 200 characters.',
    }),
    category: t.field({ type: ActionCategoryEnum }),
    type: t.field({ type: [ActionTypeEnum] }),
    outcome: t.field({ type: ActionOutcomeEnum }),
    severity: t.int({ description: '0 to 10.' }),
    ocsf: t.field({ type: OcsfClassificationInput }),
  }),
});

const overrideLoaders = new WeakMap<GraphQLContext, DataLoader<string, ActionRuleOverride[]>>();

function overridesLoader(ctx: GraphQLContext): DataLoader<string, ActionRuleOverride[]> {
  let loader = overrideLoaders.get(ctx);
  if (!loader) {
    loader = new DataLoader((ids) =>
      actionOverridesOf(
        ctx.services.database.db,
        ids.map((id) => fromPublicId('org', id)!),
      ),
    );
    overrideLoaders.set(ctx, loader);
  }
  return loader;
}

/** Admins may read what they set; anyone with events:read may see how exports classify. */
function readableOrganization(ctx: GraphQLContext, organization: Organization): string {
  const viewer: Viewer = ctx.auth.viewer?.scopes.has('admin')
    ? ctx.auth.viewer
    : requireScope(ctx.auth, 'events:read');
  return organizationFor(viewer, organization.id, [], true)!;
}

builder.objectFields(OrganizationRef, (t) => ({
  actionMappings: t.field({
    type: [ActionMappingRuleRef],
    description:
      'The organization’s own action mapping rules, checked in order before defaultActionMappings; the first matching rule wins. Scope events:read or admin.',
    resolve: (organization, _args, ctx) => overridesLoader(ctx).load(readableOrganization(ctx, organization)),
  }),
}));

builder.queryField('defaultActionMappings', (t) =>
  t.field({
    type: [ActionMappingRuleRef],
    description:
      'How actions are classified unless an organization overrides it (setActionMappings): checked in order, the first matching rule wins; the last rule (*) catches the rest. Any API key.',
    resolve: (_root, _args, ctx) => {
      if (!ctx.auth.viewer) throw new AuditlineError('UNAUTHENTICATED', ctx.auth.problem);
      return DEFAULT_MAPPINGS;
    },
  }),
);

builder.mutationField('setActionMappings', (t) =>
  t.field({
    type: OrganizationRef,
    description: `Replaces the organization’s action mapping rules (at most ${MAX_ACTION_MAPPING_RULES}; an empty list goes back to the defaults). They apply to every export, destination delivery and testDestination from then on. Recorded as auditline.action_mappings_changed. Scope admin.`,
    args: {
      organizationId: t.arg.id({ required: true }),
      rules: t.arg({ type: [ActionMappingRuleInput], required: true }),
    },
    resolve: async (_root, args, ctx) => {
      const viewer = requireScope(ctx.auth, 'admin');
      const organizationId = organizationFor(viewer, args.organizationId, ['organizationId'], true)!;
      await setActionMappings(ctx.services.database.db, {
        organizationId,
        rules: args.rules,
        actor: actorOf(viewer),
      });
      overridesLoader(ctx).clear(organizationId);
      return (await ctx.loaders.organization.load(organizationId))!;
    },
  }),
);
