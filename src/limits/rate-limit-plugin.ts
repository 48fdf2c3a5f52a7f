import type { IncomingMessage } from 'node:http';
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { GraphQLContext } from '../graphql/context.ts';
import type { Authenticator } from '../tenancy/authenticate.ts';
import type { ViewerState } from '../tenancy/viewer.ts';
import { emittedEventCount } from './emitted-event-count.ts';
import type { RateLimits } from './rate-limits.ts';

/**
 * Checks one request against the limits before anything else is done for it: a client address locked
 * out by failed authentications is refused whatever key it sends; a failed authentication counts
 * against its address; a request counts against its key. Resolves with the key's verdict, so the key
 * is checked once; rejects with RATE_LIMITED, or with the authenticator's fault (the context then
 * authenticates again and reports it as usual: `null`).
 */
export async function admitRequest(
  limits: RateLimits,
  authenticator: Authenticator,
  address: string | undefined,
  header: string | null | undefined,
): Promise<ViewerState | null> {
  await limits.refuseLockedOut(address);
  let auth: ViewerState;
  try {
    auth = await authenticator.fromAuthorizationHeader(header);
  } catch {
    return null;
  }
  if (!auth.viewer && header) await limits.recordAuthFailure(address);
  if (auth.viewer) await limits.consumeRequest(auth.viewer.keyId);
  return auth;
}

/** What the HTTP route hands Yoga once it has admitted a request itself. */
export type AdmittedRequest = {
  req: IncomingMessage;
  auth?: ViewerState;
  admitted: true;
};

/**
 * Rate limits for requests that did not come through the HTTP route (`yoga.fetch`), and for emitted
 * events per key before execution (also over WebSockets, which execute through the same plugins).
 */
export function useRateLimits(limits: RateLimits, authenticator: Authenticator): Plugin<GraphQLContext> {
  return {
    async onRequest({ request, serverContext, endResponse, fetchAPI }) {
      const context = serverContext as Partial<AdmittedRequest>;
      if (context.admitted) return;
      try {
        const auth = await admitRequest(
          limits,
          authenticator,
          context.req?.socket.remoteAddress,
          request.headers.get('authorization'),
        );
        if (auth) context.auth = auth;
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
  const { status, headers, body } = refusalParts(error, request.headers.get('accept'));
  return new Response(body, { status, headers });
}

/** The status, headers and body that answer a refused request. */
export function refusalParts(error: GraphQLError, accept: string | null | undefined) {
  const { http, ...extensions } = error.extensions as {
    http?: { status?: number; headers?: Record<string, string> };
  };
  const contentType = accept?.includes('application/graphql-response+json')
    ? 'application/graphql-response+json; charset=utf-8'
    : 'application/json; charset=utf-8';
  return {
    status: http?.status ?? 400,
    headers: { 'content-type': contentType, ...http?.headers },
    body: JSON.stringify({ errors: [{ message: error.message, extensions }] }),
  };
}
