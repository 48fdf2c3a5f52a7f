import { AuditlineError } from '../errors.ts';
import type { ApiKey } from './api-keys.ts';
import type { Scope } from './scopes.ts';

/** Who is calling: the API key behind a request or a WebSocket connection. */
export interface Viewer {
  keyId: string;
  /** Null for a platform key, which may act on any organization. */
  organizationId: string | null;
  scopes: ReadonlySet<Scope>;
}

export const viewerOf = (key: ApiKey): Viewer => ({
  keyId: key.id,
  organizationId: key.organizationId,
  scopes: new Set(key.scopes),
});

export type ViewerState = { viewer: Viewer } | { viewer: null; problem: string };

export function requireScope(state: ViewerState, scope: Scope): Viewer {
  if (!state.viewer) throw new AuditlineError('UNAUTHENTICATED', state.problem);
  if (!state.viewer.scopes.has(scope)) {
    throw new AuditlineError('FORBIDDEN', `This API key lacks the "${scope}" scope`);
  }
  return state.viewer;
}

/**
 * Scopes compose, never imply: anything that makes events leave the service needs `events:read` as
 * well as the scope that manages it, so a key that cannot read events cannot have them sent anywhere.
 */
export function requireScopes(state: ViewerState, scopes: readonly Scope[], why: string): Viewer {
  if (!state.viewer) throw new AuditlineError('UNAUTHENTICATED', state.problem);
  const missing = scopes.filter((scope) => !state.viewer!.scopes.has(scope));
  if (missing.length > 0) {
    const needed = scopes.map((scope) => `"${scope}"`).join(' and ');
    const lacking = missing.map((scope) => `"${scope}"`).join(' and ');
    throw new AuditlineError(
      'FORBIDDEN',
      `${why} needs both the ${needed} scopes; this API key lacks ${lacking}`,
    );
  }
  return state.viewer;
}

/**
 * The organization a call acts on. An organization key always acts on its own organization and may
 * name it, but never another; a platform key must name one when `required`.
 */
export function organizationFor(
  viewer: Viewer,
  requested: string | null | undefined,
  inputPath: string[],
  required: boolean,
): string | null {
  if (viewer.organizationId !== null) {
    if (requested && requested !== viewer.organizationId) {
      throw new AuditlineError(
        'FORBIDDEN',
        `This API key belongs to organization ${viewer.organizationId} and cannot act on ${requested}`,
        inputPath,
      );
    }
    return viewer.organizationId;
  }
  if (!requested && required) {
    throw new AuditlineError('BAD_USER_INPUT', 'A platform key must name the organizationId', inputPath);
  }
  return requested ?? null;
}
