import { lexicographicSortSchema } from 'graphql';
import { builder } from './builder.ts';
import './node.graphql.ts';
import '../tenancy/organization.graphql.ts';
import '../events/event.graphql.ts';
import '../events/emit.graphql.ts';
import '../stream/event-stream.graphql.ts';
import '../integrity/integrity.graphql.ts';
import '../retention/retention.graphql.ts';
import '../export/export.graphql.ts';
import '../export/destination.graphql.ts';
import '../export/action-mapping.graphql.ts';

export const schema = builder.toSchema();

/** What `schema/schema.graphql` holds: sorted so the file diffs cleanly. */
export const printableSchema = lexicographicSortSchema(schema);
