import { BREAK, type DocumentNode, Kind, visit } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Config } from '../config.ts';
import { AuditlineError } from '../errors.ts';
import type { GraphQLContext } from './context.ts';

const INTROSPECTION_FIELDS = new Set(['__schema', '__type']);

/** Whether any selection, in any operation or fragment, asks for `__schema` or `__type` (`__typename` is no introspection). */
export function asksForIntrospection(document: DocumentNode): boolean {
  let found = false;
  visit(document, {
    [Kind.FIELD](field) {
      if (!INTROSPECTION_FIELDS.has(field.name.value)) return undefined;
      found = true;
      return BREAK;
    },
  });
  return found;
}

/**
 * GRAPHQL_INTROSPECTION=authenticated: an operation that introspects the schema runs only with a
 * valid API key (any scope), and is otherwise refused as UNAUTHENTICATED like every keyless request.
 * It is checked at execution, where the context (and so the key) is known. WebSocket connections
 * always carry a valid key, checked at connection_init.
 */
export function useIntrospectionPolicy(mode: Config['introspection']): Plugin<GraphQLContext> {
  if (mode === 'public') return {};
  return {
    onExecute({ args, setResultAndStopExecution }) {
      if (args.contextValue.auth.viewer || !asksForIntrospection(args.document)) return;
      setResultAndStopExecution({
        errors: [
          new AuditlineError(
            'UNAUTHENTICATED',
            `Introspection needs an API key on this server (GRAPHQL_INTROSPECTION=authenticated): ${args.contextValue.auth.problem}`,
          ),
        ],
      });
    },
  };
}
