import type { Database } from '../db/client.ts';
import { touchApiKey, verifyApiKeyToken } from './api-keys.ts';
import { type ViewerState, viewerOf } from './viewer.ts';

const CACHE_TTL_MS = 10_000;
const CACHE_LIMIT = 10_000;

/**
 * Resolves `Authorization: Bearer …` to a viewer. Verdicts are cached for a few seconds so a busy
 * key does not cost a database read per request; a revocation therefore takes up to CACHE_TTL_MS
 * to reach other processes (this process forgets the key at once through `forget`).
 */
export class Authenticator {
  private readonly cache = new Map<string, { state: ViewerState; expiresAt: number }>();

  constructor(private readonly db: Database) {}

  async fromAuthorizationHeader(header: string | null | undefined): Promise<ViewerState> {
    if (!header) return { viewer: null, problem: 'Missing API key: send "Authorization: Bearer <key>"' };
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) return { viewer: null, problem: 'Malformed Authorization header: expected "Bearer <key>"' };
    return this.fromToken(match[1]!);
  }

  async fromToken(token: string): Promise<ViewerState> {
    const cached = this.cache.get(token);
    if (cached && cached.expiresAt > Date.now()) return cached.state;
    const check = await verifyApiKeyToken(this.db, token);
    const state: ViewerState = check.ok
      ? { viewer: viewerOf(check.key) }
      : {
          viewer: null,
          problem: check.reason === 'revoked' ? 'This API key was revoked' : 'Unknown API key',
        };
    if (check.ok) {
      // Bookkeeping only: a failed write must not fail the request.
      touchApiKey(this.db, check.key.id).catch(() => {});
    }
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(token, { state, expiresAt: Date.now() + CACHE_TTL_MS });
    return state;
  }

  forget(keyId: string): void {
    for (const [token, entry] of this.cache) {
      if (entry.state.viewer?.keyId === keyId) this.cache.delete(token);
    }
  }
}
