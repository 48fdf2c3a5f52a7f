import { toPublicId } from '../ids.ts';

/** The log identity in an organization's checkpoints: `<CHECKPOINT_ORIGIN>/org_…`. */
export function checkpointOrigin(prefix: string, organizationUuid: string): string {
  return `${prefix}/${toPublicId('org', organizationUuid)}`;
}
