import { type ExecutionResult, GraphQLError, getOperationAST } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { isCancelledStatement, type QueryScope, runInQueryScope } from '../db/query-scope.ts';
import type { ErrorCode } from '../errors.ts';

const QUERY_TIMEOUT: ErrorCode = 'QUERY_TIMEOUT';

/**
 * Runs each query operation's SQL in a query scope (see db/query-scope.ts): every statement is
 * cancelled once it runs longer than `statementTimeoutMs`, and all of them when the HTTP client
 * disconnects. A statement cut short by the timeout answers QUERY_TIMEOUT instead of a masked error.
 * Mutations are left alone: their writes are short, and a batched write serves several requests.
 */
export function useQueryScope(options: { statementTimeoutMs: number }): Plugin {
  return {
    onExecute({ args, executeFn, setExecuteFn }) {
      if (getOperationAST(args.document, args.operationName)?.operation !== 'query') return;
      const request = (args.contextValue as { request?: Request } | undefined)?.request;
      const scope: QueryScope = {
        signal: request?.signal,
        statementTimeoutMs: options.statementTimeoutMs,
        timedOut: false,
      };
      setExecuteFn((executionArgs) => runInQueryScope(scope, () => executeFn(executionArgs)));
      return {
        onExecuteDone({ result, setResult }) {
          if (!scope.timedOut || Symbol.asyncIterator in result) return;
          const errors = (result as ExecutionResult).errors;
          if (!errors?.some(isCancelledStatement)) return;
          setResult({
            ...(result as ExecutionResult),
            errors: errors.map((error) =>
              isCancelledStatement(error) ? timeoutError(error, options) : error,
            ),
          });
        },
      };
    },
  };
}

function timeoutError(error: GraphQLError, options: { statementTimeoutMs: number }): GraphQLError {
  return new GraphQLError(
    `The query ran longer than STATEMENT_TIMEOUT_MS (${options.statementTimeoutMs} ms) and was cancelled; narrow the filter or ask for less`,
    { nodes: error.nodes, path: error.path, extensions: { code: QUERY_TIMEOUT } },
  );
}
