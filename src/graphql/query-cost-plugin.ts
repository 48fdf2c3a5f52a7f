import type { ExecutionArgs, GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { AuditlineError } from '../errors.ts';
import { operationCost } from './cost.ts';

/** Refused before execution: the operation costs more than the limit, or repeats a once-per-request field. */
export class QueryTooCostlyError extends AuditlineError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('QUERY_TOO_COSTLY', message);
    Object.assign(this.extensions, details);
  }
}

/**
 * Prices each operation with its variables (see cost.ts) and refuses it before it runs when it is
 * over `maxCost`. Done at execute/subscribe rather than as a validation rule because Yoga caches
 * validation per document, and the price depends on variables such as `$first`.
 */
export function useQueryCost(options: { maxCost: number }): Plugin {
  const refusal = (args: ExecutionArgs): GraphQLError | null => {
    const priced = operationCost(args.schema, args.document, args.operationName, args.variableValues);
    if (!priced) return null;
    if (priced.cost > options.maxCost) {
      return new QueryTooCostlyError(
        `Query cost ${priced.cost} exceeds the limit of ${options.maxCost} (MAX_QUERY_COST): ask for smaller pages (first/last), fewer aliases or fewer expensive fields, or split the request`,
        { cost: priced.cost, maxCost: options.maxCost },
      );
    }
    for (const [coordinate, count] of priced.occurrences) {
      if (count > 1) {
        const field = coordinate.split('.')[1];
        return new QueryTooCostlyError(
          `${field} may be asked once per request; this operation asks for it ${count} times`,
          { field, occurrences: count },
        );
      }
    }
    return null;
  };
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const error = refusal(args);
      if (error) setResultAndStopExecution({ errors: [error] });
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const error = refusal(args);
      if (error) setResultAndStopExecution({ errors: [error] });
    },
  };
}
