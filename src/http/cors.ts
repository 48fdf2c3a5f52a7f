import type { Plugin } from 'graphql-yoga';

/** Headers a browser script may read besides the CORS-safelisted ones. */
const EXPOSED_HEADERS = 'Retry-After, RateLimit, RateLimit-Policy, X-Request-Id';
const PREFLIGHT_MAX_AGE_SECONDS = '600';

/**
 * CORS from CORS_ORIGINS: a listed origin gets itself back in `Access-Control-Allow-Origin`, `*` in the
 * list lets any other origin in as `*`, anything else gets no CORS headers at all (the browser then
 * keeps the answer from the page). Credentials are never allowed: keys travel in the Authorization
 * header, which needs no cookies. Replaces Yoga's default, which reflects any origin with credentials.
 */
export function useCorsPolicy(configured: readonly string[]): Plugin {
  const listed = new Set(configured.filter((origin) => origin !== '*').map(normalizeOrigin));
  const anyOrigin = configured.includes('*');
  const allowedOrigin = (request: Request): string | null => {
    const origin = request.headers.get('origin');
    if (origin === null) return null;
    if (listed.has(origin)) return origin;
    return anyOrigin ? '*' : null;
  };
  const applyTo = (request: Request, headers: Headers) => {
    // The answer depends on Origin whenever a specific origin may be echoed: caches must keep them apart.
    if (listed.size > 0) headers.append('vary', 'Origin');
    const origin = allowedOrigin(request);
    if (origin === null) return;
    headers.set('access-control-allow-origin', origin);
    headers.set('access-control-expose-headers', EXPOSED_HEADERS);
    if (request.method !== 'OPTIONS') return;
    headers.set('access-control-allow-methods', 'GET, POST, OPTIONS');
    const requested = request.headers.get('access-control-request-headers');
    if (requested) {
      headers.set('access-control-allow-headers', requested);
      headers.append('vary', 'Access-Control-Request-Headers');
    }
    headers.set('access-control-max-age', PREFLIGHT_MAX_AGE_SECONDS);
  };
  return {
    onRequest({ request, fetchAPI, endResponse }) {
      if (request.method !== 'OPTIONS') return;
      endResponse(new fetchAPI.Response(null, { status: 204, headers: { 'content-length': '0' } }));
    },
    onResponse({ request, response }) {
      applyTo(request, response.headers);
    },
  };
}

/** `https://App.Example.com:443` → `https://app.example.com`, the form browsers send. */
function normalizeOrigin(origin: string): string {
  return URL.canParse(origin) ? new URL(origin).origin : origin;
}
