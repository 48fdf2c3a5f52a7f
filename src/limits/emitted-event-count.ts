import {
  type DocumentNode,
  type FragmentDefinitionNode,
  getOperationAST,
  Kind,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';

/**
 * How many events a mutation asks to emit: 1 per `emitEvent`, the length of `input` per `emitEvents`
 * (aliases count each time). Read from the document before execution, so a batch over the rate limit
 * is refused whole, before any of it is written.
 */
export function emittedEventCount(
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Readonly<Record<string, unknown>> | null | undefined,
): number {
  const operation = getOperationAST(document, operationName);
  if (operation?.operation !== 'mutation') return 0;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  let count = 0;
  const visited = new Set<string>();
  const pending: SelectionSetNode[] = [operation.selectionSet];
  for (let set = pending.pop(); set; set = pending.pop()) {
    for (const selection of set.selections) {
      if (selection.kind === Kind.INLINE_FRAGMENT) pending.push(selection.selectionSet);
      else if (selection.kind === Kind.FRAGMENT_SPREAD) {
        const fragment = fragments.get(selection.name.value);
        if (fragment && !visited.has(fragment.name.value)) {
          visited.add(fragment.name.value);
          pending.push(fragment.selectionSet);
        }
      } else if (selection.name.value === 'emitEvent') count += 1;
      else if (selection.name.value === 'emitEvents') {
        const input = selection.arguments?.find((argument) => argument.name.value === 'input');
        count += input ? listLength(input.value, variables) : 0;
      }
    }
  }
  return count;
}

/** A list's length; a single value where a list is expected counts as a list of one (GraphQL input coercion). */
function listLength(
  value: ValueNode,
  variables: Readonly<Record<string, unknown>> | null | undefined,
): number {
  if (value.kind === Kind.LIST) return value.values.length;
  if (value.kind === Kind.NULL) return 0;
  if (value.kind === Kind.VARIABLE) {
    const given = variables?.[value.name.value];
    if (given === null || given === undefined) return 0;
    return Array.isArray(given) ? given.length : 1;
  }
  return 1;
}
