import type { Database } from '../db/client.ts';
import { touchApiKey, verifyApiKeyToken } from './api-keys.ts';
import type { HoldsKeys } from './revocation-watch.ts';
import { type ViewerState, viewerOf } from './viewer.ts';

/**
 * Revocations reach every process at once through NOTIFY (revocation-watch.ts); this lifetime bounds
 * how long a process that missed the notification keeps accepting a revoked key.
 */
export const CACHE_TTL_MS = 1_000;
const CACHE_LIMIT = 10_000;

/**
 * Resolves `Authorization: Bearer …` to a viewer. Verdicts are cached for a moment so a busy key does
 * not cost a database read per request; a revocation notice makes the process forget the key at once.
 */
export class Authenticator implements HoldsKeys {
  private readonly cache = new Map<
    string,
    { state: Promise<ViewerState>; expiresAt: number; keyId?: string }
  >();

  constructor(private readonly db: Database) {}

  async fromAuthorizationHeader(header: string | null | undefined): Promise<ViewerState> {
    if (!header) return { viewer: null, problem: 'Missing API key: send "Authorization: Bearer <key>"' };
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) return { viewer: null, problem: 'Malformed Authorization header: expected "Bearer <key>"' };
    return this.fromToken(match[1]!);
  }

  fromToken(token: string): Promise<ViewerState> {
    const cached = this.cache.get(token);
    if (cached && cached.expiresAt > Date.now()) return cached.state;
    // Requests that arrive together after an entry expired share one check instead of one each.
    const state = this.check(token);
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    const entry: { state: Promise<ViewerState>; expiresAt: number; keyId?: string } = {
      state,
      expiresAt: Date.now() + CACHE_TTL_MS,
    };
    this.cache.set(token, entry);
    state.then(
      (settled) => {
        entry.keyId = settled.viewer?.keyId;
      },
      () => {},
    );
    return state;
  }

  private async check(token: string): Promise<ViewerState> {
    try {
      const check = await verifyApiKeyToken(this.db, token);
      if (!check.ok) {
        return {
          viewer: null,
          problem: check.reason === 'revoked' ? 'This API key was revoked' : 'Unknown API key',
        };
      }
      // Bookkeeping only: a failed write must not fail the request.
      touchApiKey(this.db, check.key.id).catch(() => {});
      return { viewer: viewerOf(check.key) };
    } catch (error) {
      this.cache.delete(token);
      throw error;
    }
  }

  /** Forgets the key's verdicts, and any still being checked, which may have read the row before the revocation. */
  forget(keyId: string): void {
    for (const [token, entry] of this.cache) {
      if (entry.keyId === keyId || entry.keyId === undefined) this.cache.delete(token);
    }
  }

  keyRevoked(keyId: string): void {
    this.forget(keyId);
  }

  recheckKeys(): void {
    this.cache.clear();
  }
}
