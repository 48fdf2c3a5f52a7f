import { sql } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import { rowsOf } from '../db/rows.ts';
import type { Logger } from '../logger.ts';
import { generateSigningKey, verifierKeyFromSignerKey } from './signed-note.ts';

export interface SigningIdentity {
  /** `PRIVATE+KEY+…`: signs checkpoints. */
  signerKey: string;
  /** `<name>+<id>+<key>`: what auditors verify checkpoints with. */
  verifierKey: string;
  /** True when no SIGNING_KEY is configured and the key was generated and stored in the database. */
  generated: boolean;
}

export const GENERATED_KEY_WARNING =
  'SIGNING_KEY is not set: checkpoints are signed with a key generated on first start and stored in the ' +
  'database, so whoever can write the database can also re-sign a rewritten history. Set SIGNING_KEY in ' +
  'production (create one with `auditline signing-key`) and keep it outside the database.';

/** The identity of SIGNING_KEY. */
export function configuredIdentity(signerKey: string): SigningIdentity {
  return { signerKey, verifierKey: verifierKeyFromSignerKey(signerKey), generated: false };
}

/**
 * The configured key, or else the one generated on first start (created here if there is none yet;
 * concurrent starters agree on the first one stored).
 */
export async function loadSigningKey(
  db: Database,
  configured: string | null,
  keyName: string,
  logger?: Logger,
): Promise<SigningIdentity> {
  if (configured) return configuredIdentity(configured);
  let stored = await readGeneratedKey(db);
  if (!stored) {
    const fresh = generateSigningKey(keyName);
    await db.execute(sql`
      insert into integrity_signing_key (id, signer_key, verifier_key)
      values (1, ${fresh.signerKey}, ${fresh.verifierKey}) on conflict (id) do nothing`);
    stored = await readGeneratedKey(db);
  }
  logger?.warn(GENERATED_KEY_WARNING, { verifierKey: stored!.verifierKey });
  return { ...stored!, generated: true };
}

async function readGeneratedKey(db: Database) {
  const [row] = rowsOf<{ signer_key: string; verifier_key: string }>(
    await db.execute(sql`select signer_key, verifier_key from integrity_signing_key where id = 1`),
  );
  return row ? { signerKey: row.signer_key, verifierKey: row.verifier_key } : null;
}
