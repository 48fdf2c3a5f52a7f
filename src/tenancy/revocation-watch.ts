import type { DatabaseHandle } from '../db/client.ts';
import { toPublicId } from '../ids.ts';
import type { Logger } from '../logger.ts';

/** The trigger on `api_keys` (migration 0015) NOTIFYs the key's uuid here when it is revoked or deleted. */
export const KEY_REVOKED_CHANNEL = 'auditline_key_revoked';

/** Something that holds on to keys (verdict caches, open connections and streams) and must let go. */
export interface HoldsKeys {
  /** The key (`key_…`) was revoked: refuse it and close what it opened, now. */
  keyRevoked(keyId: string): void;
  /** Revocations may have been missed (the LISTEN was down): check every held key again. */
  recheckKeys(): unknown;
}

/**
 * Every process LISTENs for revocations, so a key revoked anywhere (the CLI, another instance, psql)
 * is refused here within a round trip. Short cache lifetimes and the periodic key re-check remain the
 * fallback for a notification that never arrives.
 */
export async function watchKeyRevocations(
  database: DatabaseHandle,
  holders: HoldsKeys[],
  logger: Logger,
): Promise<() => Promise<void>> {
  const each = (act: (holder: HoldsKeys) => unknown) => {
    for (const holder of holders) {
      try {
        void Promise.resolve(act(holder)).catch((error) =>
          logger.error('key revocation handling failed', { error: String(error) }),
        );
      } catch (error) {
        logger.error('key revocation handling failed', { error: String(error) });
      }
    }
  };
  return database.listen(
    KEY_REVOKED_CHANNEL,
    (uuid) => each((holder) => holder.keyRevoked(toPublicId('key', uuid))),
    () => each((holder) => holder.recheckKeys()),
  );
}
