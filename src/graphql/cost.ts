import {
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLSchema,
  getNamedType,
  getNullableType,
  isCompositeType,
  isListType,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';
import { MAX_GROUPS } from '../events/counts.ts';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../events/query.ts';

/**
 * What a field costs on top of the objects it returns. A whole-organization scan is priced flat,
 * since its size is unknown before it runs; `verifyIntegrity` (reads and hashes every event) costs
 * two fifths of the default limit (and is allowed once per request, see ONCE_PER_REQUEST).
 */
export const FIELD_PRICES: Readonly<Record<string, number>> = {
  'Query.events': 10,
  'EventConnection.totalCount': 1000,
  'Query.eventCounts': 1000,
  'Query.exportEvents': 1000,
  'Query.verifyIntegrity': 4000,
  'Query.consistencyProof': 100,
  'Query.integrityStatus': 1000,
  'Organization.retentionStatus': 1000,
  'Destination.lagEvents': 1000,
  'Destination.lagSeconds': 1000,
  'Event.proof': 5,
  'Mutation.testDestination': 100,
  'Subscription.eventStream': 100,
};

/** Fields of which a request may hold only one, however aliased. */
export const ONCE_PER_REQUEST = ['Query.verifyIntegrity'];

export interface OperationCost {
  cost: number;
  /** How often each ONCE_PER_REQUEST field appears in the operation (fragments included). */
  occurrences: Map<string, number>;
}

type Variables = Record<string, unknown> | null | undefined;

interface Walk {
  schema: GraphQLSchema;
  fragments: Map<string, FragmentDefinitionNode>;
  variables: Variables;
  /** Defaults declared in the operation (`$first: Int = 1000`), used when a variable is not sent. */
  variableDefaults: Map<string, ValueNode>;
  occurrences: Map<string, number>;
}

/**
 * Prices an operation: every field returning an object costs 1 plus its own price (FIELD_PRICES),
 * leaves cost nothing, and what a list returns is multiplied by how many items it may hold: a
 * connection's `edges` by its page size (`first`/`last`, default 50, at most 1000), `eventCounts`
 * by its `limit`. Other lists (targets, legal holds, destinations…) are short, bounded by their
 * inputs, and count once. Selections on an abstract type add up every fragment (an upper bound).
 */
export function operationCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Variables,
): OperationCost | null {
  const operation = selectOperation(document, operationName);
  const root = operation && schema.getRootType(operation.operation);
  if (!operation || !root) return null;
  const walk: Walk = {
    schema,
    variables,
    variableDefaults: new Map(
      (operation.variableDefinitions ?? []).flatMap((definition) =>
        definition.defaultValue ? [[definition.variable.name.value, definition.defaultValue] as const] : [],
      ),
    ),
    occurrences: new Map(),
    fragments: new Map(
      document.definitions
        .filter((definition) => definition.kind === Kind.FRAGMENT_DEFINITION)
        .map((definition) => [definition.name.value, definition]),
    ),
  };
  const cost = selectionCost(walk, operation.selectionSet, root, 1, new Set());
  return { cost, occurrences: walk.occurrences };
}

function selectOperation(document: DocumentNode, name: string | null | undefined) {
  const operations = document.definitions.filter(
    (definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION,
  );
  if (name) return operations.find((operation) => operation.name?.value === name) ?? null;
  return operations.length === 1 ? operations[0]! : null;
}

function selectionCost(
  walk: Walk,
  selectionSet: SelectionSetNode,
  parent: GraphQLCompositeType,
  pageSize: number,
  fragmentsOnPath: Set<string>,
): number {
  let total = 0;
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      total += fieldCost(walk, selection, parent, pageSize, fragmentsOnPath);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      const type = selection.typeCondition ? walk.schema.getType(selection.typeCondition.name.value) : parent;
      if (isCompositeType(type))
        total += selectionCost(walk, selection.selectionSet, type, pageSize, fragmentsOnPath);
    } else {
      const name = selection.name.value;
      const fragment = walk.fragments.get(name);
      // A cycle is refused by standard validation; here it only must not recurse forever.
      if (!fragment || fragmentsOnPath.has(name)) continue;
      const type = walk.schema.getType(fragment.typeCondition.name.value);
      if (!isCompositeType(type)) continue;
      fragmentsOnPath.add(name);
      total += selectionCost(walk, fragment.selectionSet, type, pageSize, fragmentsOnPath);
      fragmentsOnPath.delete(name);
    }
  }
  return total;
}

function fieldCost(
  walk: Walk,
  node: FieldNode,
  parent: GraphQLCompositeType,
  pageSize: number,
  fragmentsOnPath: Set<string>,
): number {
  if (!('getFields' in parent)) return 0;
  const field = parent.getFields()[node.name.value];
  if (!field) return 0;
  const coordinate = `${parent.name}.${field.name}`;
  if (ONCE_PER_REQUEST.includes(coordinate)) {
    walk.occurrences.set(coordinate, (walk.occurrences.get(coordinate) ?? 0) + 1);
  }
  const type = getNamedType(field.type);
  const price = FIELD_PRICES[coordinate] ?? 0;
  if (!isCompositeType(type) || !node.selectionSet) return price;
  const childPageSize = type.name.endsWith('Connection') ? connectionPageSize(walk, node, field) : pageSize;
  const items = isListType(getNullableType(field.type)) ? listLength(walk, node, field, pageSize) : 1;
  return price + items * (1 + selectionCost(walk, node.selectionSet, type, childPageSize, fragmentsOnPath));
}

function connectionPageSize(walk: Walk, node: FieldNode, field: GraphQLField<unknown, unknown>): number {
  const first = intArgument(walk, node, field, 'first');
  const last = intArgument(walk, node, field, 'last');
  if (first === null && last === null) return DEFAULT_PAGE_SIZE;
  // Sizes out of range are refused when the field runs (BAD_USER_INPUT naming the argument).
  return clamp(Math.max(first ?? 0, last ?? 0), MAX_PAGE_SIZE);
}

function listLength(
  walk: Walk,
  node: FieldNode,
  field: GraphQLField<unknown, unknown>,
  pageSize: number,
): number {
  if (field.name === 'edges') return pageSize;
  if (field.name === 'eventCounts') return clamp(intArgument(walk, node, field, 'limit') ?? 20, MAX_GROUPS);
  return 1;
}

const clamp = (value: number, max: number) => Math.min(Math.max(value, 0), max);

/** An Int argument's value: literal, variable (or the variable's default), or the argument's default. */
function intArgument(
  walk: Walk,
  node: FieldNode,
  field: GraphQLField<unknown, unknown>,
  name: string,
): number | null {
  const argument = node.arguments?.find((candidate) => candidate.name.value === name);
  const value = argument
    ? argumentValue(walk, argument.value)
    : field.args.find((a) => a.name === name)?.defaultValue;
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function argumentValue(walk: Walk, value: ValueNode): unknown {
  if (value.kind === Kind.INT) return Number.parseInt(value.value, 10);
  if (value.kind !== Kind.VARIABLE) return null;
  const name = value.name.value;
  if (walk.variables && Object.hasOwn(walk.variables, name)) return walk.variables[name];
  const fallback = walk.variableDefaults.get(name);
  return fallback?.kind === Kind.INT ? Number.parseInt(fallback.value, 10) : null;
}
