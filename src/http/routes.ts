import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendError } from './respond.ts';

export type RouteHandler = (req: IncomingMessage, res: ServerResponse) => unknown;

export interface Route {
  /** Names the route in logs instead of the path, which may hold a credential (an export link's token). */
  name: string;
  /** An exact path, or a prefix when it ends with `/`. */
  path: string;
  methods: readonly string[];
  handle: RouteHandler;
}

/** The request target's path, without the query string (`*` and absolute-form targets stay as they are). */
export function pathOf(url: string | undefined): string {
  const target = url ?? '';
  const query = target.indexOf('?');
  return query === -1 ? target : target.slice(0, query);
}

export function hasValidPercentEncoding(path: string): boolean {
  if (!path.includes('%')) return true;
  try {
    decodeURIComponent(path);
    return true;
  } catch {
    return false;
  }
}

const HOST_NAME = /^[A-Za-z0-9._~-]+(:\d{1,5})?$/;
const HOST_IP_LITERAL = /^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;

/**
 * A Host header that makes a URL. GraphQL requests become fetch `Request`s whose URL is built from it,
 * and a host such as `a b` would fail there as a server error.
 */
export function isUsableHost(host: string | undefined): boolean {
  if (host === undefined) return true; // HTTP/1.0 may omit it; Node refuses HTTP/1.1 requests without one
  if (HOST_NAME.test(host)) return true;
  return HOST_IP_LITERAL.test(host) && URL.canParse(`http://${host}/`);
}

export function findRoute(routes: readonly Route[], path: string): Route | undefined {
  return routes.find((route) =>
    route.path.endsWith('/')
      ? path.startsWith(route.path) && path.length > route.path.length
      : path === route.path,
  );
}

/**
 * Dispatches to the route whose path matches: 400 for a malformed path or Host header, 404 for an
 * unknown path, 405 (with `Allow`) for a method the route does not take.
 */
export function createRouter(routes: readonly Route[]): RouteHandler {
  return (req, res) => {
    const path = pathOf(req.url);
    if (!hasValidPercentEncoding(path)) {
      return sendError(res, 400, 'BAD_REQUEST', 'The request path has malformed percent-encoding');
    }
    if (!isUsableHost(req.headers.host)) {
      return sendError(res, 400, 'BAD_REQUEST', 'The Host header is not a host name or address');
    }
    const route = findRoute(routes, path);
    if (!route)
      return sendError(res, 404, 'NOT_FOUND', 'There is nothing at this path; the API is at /graphql');
    if (!route.methods.includes(req.method ?? '')) {
      const allow = route.methods.join(', ');
      return sendError(res, 405, 'METHOD_NOT_ALLOWED', `This path takes ${allow}`, { headers: { allow } });
    }
    return route.handle(req, res);
  };
}

/** The name of the route a request went to, for logs. */
export function routeNameOf(routes: readonly Route[], req: IncomingMessage): string {
  return findRoute(routes, pathOf(req.url))?.name ?? 'unknown';
}
