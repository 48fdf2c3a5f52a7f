import { prefixOf } from '../ids.ts';
import { requireScope } from '../tenancy/viewer.ts';
import { builder, NodeInterface } from './builder.ts';

builder.queryField('node', (t) =>
  t.field({
    type: NodeInterface,
    nullable: true,
    description: 'Any object by its global id. Scope events:read; other organizations’ objects are null.',
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => {
      const viewer = requireScope(ctx.auth, 'events:read');
      switch (prefixOf(args.id)) {
        case 'evt':
          return ctx.loaders.event.load(args.id);
        case 'org':
          if (viewer.organizationId !== null && viewer.organizationId !== args.id) return null;
          return ctx.loaders.organization.load(args.id);
        default:
          return null;
      }
    },
  }),
);
