import { builder, NodeInterface } from '../graphql/builder.ts';
import type { Organization } from './organizations.ts';
import { organizationFor, requireScope } from './viewer.ts';

export const OrganizationRef = builder.objectRef<Organization>('Organization').implement({
  description: 'A tenant: one customer of the app whose audit log this is.',
  interfaces: [NodeInterface],
  isTypeOf: (value) =>
    typeof (value as Organization).id === 'string' && (value as Organization).id.startsWith('org_'),
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

builder.queryField('organization', (t) =>
  t.field({
    type: OrganizationRef,
    nullable: true,
    description: "An organization; without an id, the API key's own. Scope events:read.",
    args: { id: t.arg.id() },
    resolve: async (_root, args, ctx) => {
      const viewer = requireScope(ctx.auth, 'events:read');
      const id = organizationFor(viewer, args.id, ['id'], true)!;
      return ctx.loaders.organization.load(id);
    },
  }),
);

const ViewerRef = builder
  .objectRef<{ keyId: string; organizationId: string | null; scopes: string[] }>('Viewer')
  .implement({
    description: 'The API key making the request.',
    fields: (t) => ({
      keyId: t.exposeID('keyId'),
      organizationId: t.exposeID('organizationId', {
        nullable: true,
        description: 'Null for a platform key.',
      }),
      organization: t.field({
        type: OrganizationRef,
        nullable: true,
        resolve: (viewer, _args, ctx) =>
          viewer.organizationId ? ctx.loaders.organization.load(viewer.organizationId) : null,
      }),
      scopes: t.exposeStringList('scopes'),
    }),
  });

builder.queryField('viewer', (t) =>
  t.field({
    type: ViewerRef,
    description: 'Who the API key is; needs a valid key but no scope.',
    resolve: (_root, _args, ctx) => {
      if (!ctx.auth.viewer) return requireScope(ctx.auth, 'events:read') as never;
      const { keyId, organizationId, scopes } = ctx.auth.viewer;
      return { keyId, organizationId, scopes: [...scopes] };
    },
  }),
);
