import type { Config } from '../config.ts';
import type { DatabaseHandle } from '../db/client.ts';
import type { Logger } from '../logger.ts';
import { OnePerOrganization } from './one-per-organization.ts';
import { checkpointOrigin } from './origin.ts';
import { loadSigningKey, type SigningIdentity } from './signing-key.ts';

export type IntegritySettings = Config['integrity'];

/** What resolvers and the sealer share: settings and the signing key, loaded once per process. */
export interface IntegrityService {
  settings: IntegritySettings;
  identity(): Promise<SigningIdentity>;
  origin(organizationUuid: string): string;
  /** verifyIntegrity runs one at a time per organization. */
  verifications: OnePerOrganization;
}

export function createIntegrityService(
  settings: IntegritySettings,
  database: DatabaseHandle,
  logger?: Logger,
): IntegrityService {
  let loading: Promise<SigningIdentity> | undefined;
  return {
    settings,
    identity() {
      loading ??= loadSigningKey(database.db, settings.signingKey, settings.originPrefix, logger).catch(
        (error) => {
          loading = undefined;
          throw error;
        },
      );
      return loading;
    },
    origin: (organizationUuid) => checkpointOrigin(settings.originPrefix, organizationUuid),
    verifications: new OnePerOrganization('verifyIntegrity'),
  };
}
