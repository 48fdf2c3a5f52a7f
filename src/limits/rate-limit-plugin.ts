import type { IncomingMessage } from 'node:http';
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { GraphQLContext } from '../graphql/context.ts';
import type { Authenticator } from '../tenancy/authenticate.ts';
import type { ViewerState } from '../tenancy/viewer.ts';
import { emittedEventCount } from './emitted-event-count.ts';
import type { RateLimits } from './rate-limits.ts';

/**
 * Rate limits over HTTP, before Yoga reads the body (a refused request costs little): a client address
 * locked out by failed authentications is refused whatever key it sends; a failed authentication
 * counts against its address; a request counts against its key. The verdict is handed to the context
 * as `auth`, so the key is checked once. Emitted events count per key before execution (also over
 * WebSockets, which execute through the same plugins).
 */
export function useRateLimits(limits: RateLimits, authenticator: Authenticator): Plugin<GraphQLContext> {
  return {
    async onRequest({ request, serverContext, endResponse, fetchAPI }) {
      const context = serverContext as { req?: IncomingMessage; auth?: ViewerState };
      const address = context.req?.socket.remoteAddress;
      const header = request.headers.get('authorization');
      try {
        await limits.refuseLockedOut(address);
        let auth: ViewerState;
        try {
          auth = await authenticator.fromAuthorizationHeader(header);
        } catch {
          return; // The context authenticates again and reports the fault as usual.
        }
        if (!auth.viewer && header) await limits.recordAuthFailure(address);
        if (auth.viewer) await limits.consumeRequest(auth.viewer.keyId);
        context.auth = auth;
      } catch (error) {
        if (!(error instanceof GraphQLError)) throw error;
        endResponse(refusal(fetchAPI.Response, request, error));
      }
    },
    async onExecute({ args, setResultAndStopExecution }) {
      const viewer = (args.contextValue as Partial<GraphQLContext>).auth?.viewer;
      if (!viewer) return;
      const count = emittedEventCount(args.document, args.operationName, args.variableValues);
      try {
        await limits.consumeEvents(viewer.keyId, count);
      } catch (error) {
        if (!(error instanceof GraphQLError)) throw error;
        setResultAndStopExecution({ errors: [error] });
      }
    },
  };
}

/** A GraphQL response carrying only `error`, with the status and headers of its `http` extension. */
function refusal(Response: typeof globalThis.Response, request: Request, error: GraphQLError): Response {
  const { http, ...extensions } = error.extensions as {
    http?: { status?: number; headers?: Record<string, string> };
  };
  const contentType = request.headers.get('accept')?.includes('application/graphql-response+json')
    ? 'application/graphql-response+json; charset=utf-8'
    : 'application/json; charset=utf-8';
  return new Response(JSON.stringify({ errors: [{ message: error.message, extensions }] }), {
    status: http?.status ?? 400,
    headers: { 'content-type': contentType, ...http?.headers },
  });
}
