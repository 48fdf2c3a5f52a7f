export const SCOPES = ['events:write', 'events:read', 'events:stream', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

export function isScope(value: string): value is Scope {
  return (SCOPES as readonly string[]).includes(value);
}

/** Parses `events:write,events:read`; throws naming the unknown scope. */
export function parseScopes(list: string): Scope[] {
  const scopes = list
    .split(',')
    .map((scope) => scope.trim())
    .filter(Boolean);
  const unknown = scopes.find((scope) => !isScope(scope));
  if (unknown !== undefined) throw new Error(`Unknown scope "${unknown}"; scopes are ${SCOPES.join(', ')}`);
  if (scopes.length === 0) throw new Error(`At least one scope is needed: ${SCOPES.join(', ')}`);
  return [...new Set(scopes)] as Scope[];
}
