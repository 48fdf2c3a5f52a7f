import SchemaBuilder from '@pothos/core';
import type { GraphQLContext } from './context.ts';
import { DateTimeScalar, JsonScalar } from './scalars.ts';

/** Configures Pothos; defines no types. Feature files under src/* add theirs. */
export const builder = new SchemaBuilder<{
  Context: GraphQLContext;
  DefaultFieldNullability: false;
  Scalars: {
    ID: { Input: string; Output: string };
    DateTime: { Input: Date; Output: Date };
    JSON: { Input: unknown; Output: unknown };
  };
}>({ defaultFieldNullability: false });

builder.addScalarType('DateTime', DateTimeScalar);
builder.addScalarType('JSON', JsonScalar);

builder.queryType({});
builder.mutationType({});

export const NodeInterface = builder.interfaceRef<{ id: string }>('Node').implement({
  description: 'An object with a globally unique id (`org_…`, `evt_…`).',
  fields: (t) => ({ id: t.exposeID('id') }),
});
