import DataLoader from 'dataloader';
import type { Config } from '../config.ts';
import type { DatabaseHandle } from '../db/client.ts';
import type { AuditEvent } from '../events/event.ts';
import { loadEvents } from '../events/query.ts';
import type { EventWriter } from '../events/writer.ts';
import type { ExportService } from '../export/service.ts';
import { fromPublicId } from '../ids.ts';
import type { IntegrityService } from '../integrity/service.ts';
import type { StreamHub } from '../stream/stream-hub.ts';
import type { Authenticator } from '../tenancy/authenticate.ts';
import { loadOrganizations, type Organization } from '../tenancy/organizations.ts';
import type { ViewerState } from '../tenancy/viewer.ts';

/** Long-lived collaborators the resolvers use; built once by the app. */
export interface Services {
  database: DatabaseHandle;
  writer: EventWriter;
  authenticator: Authenticator;
  /** DEFAULT_RETENTION_DAYS and the purge schedule. */
  retention: Config['retention'];
  /** Checkpoint settings and the signing key (sealer, proofs, `integrityPublicKey`). */
  integrity: IntegrityService;
  /** Export link signing, destination secrets and delivery settings. */
  exports: ExportService;
  /** Live event streams (the `eventStream` subscription). */
  stream: StreamHub;
}

export interface Loaders {
  organization: DataLoader<string, Organization | null>;
  /** Scoped to the viewer's organization: another tenant's event loads as null. */
  event: DataLoader<string, AuditEvent | null>;
}

export interface GraphQLContext {
  services: Services;
  auth: ViewerState;
  loaders: Loaders;
}

export function createLoaders(services: Services, auth: ViewerState): Loaders {
  const db = services.database.db;
  const organizationUuid = auth.viewer?.organizationId
    ? fromPublicId('org', auth.viewer.organizationId)
    : null;
  return {
    organization: new DataLoader((ids) => loadOrganizations(db, ids)),
    event: new DataLoader((ids) => loadEvents(db, ids, organizationUuid)),
  };
}

/**
 * Per-operation context. Over HTTP the key comes from the Authorization header; over WebSockets it was
 * checked at connection_init and arrives as `auth`.
 */
export async function createContext(
  services: Services,
  initial: { request: Request; auth?: ViewerState },
): Promise<GraphQLContext> {
  const auth =
    initial.auth ??
    (await services.authenticator.fromAuthorizationHeader(initial.request.headers.get('authorization')));
  return { services, auth, loaders: createLoaders(services, auth) };
}
