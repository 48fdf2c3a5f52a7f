import type { Database } from '../db/client.ts';
import { badInput } from '../errors.ts';
import type { OutboundConnector } from '../network/connector.ts';
import { destinationRefusal } from './destination-network.ts';
import {
  createDestination,
  type Destination,
  type DestinationChanges,
  updateDestination,
} from './destination-store.ts';
import { checkDestinationFilter } from './destination-test.ts';
import { type DestinationType, validateDestinationSettings } from './destinations/index.ts';
import type { ExportFormat } from './formats/index.ts';
import type { SecretBox } from './secrets.ts';

export interface DestinationInput {
  organizationUuid: string;
  name: string;
  type: DestinationType;
  url: string;
  format: ExportFormat;
  actions?: string[] | null;
  query?: string | null;
  secret?: string | null;
  options?: unknown;
  fromBeginning?: boolean | null;
}

function checkName(name: string): string {
  const trimmed = name.trim();
  if (trimmed.length === 0 || trimmed.length > 100)
    throw badInput('name must be 1 to 100 characters', ['input', 'name']);
  return trimmed;
}

/** Refuses, as a BAD_USER_INPUT on the field naming it, a host the destination network policy refuses. */
async function checkReach(
  connector: OutboundConnector,
  destination: { type: DestinationType; url: string; options: Record<string, unknown> },
): Promise<void> {
  const refused = await destinationRefusal(connector, destination);
  if (refused) throw badInput(`${refused.field.join('.')} ${refused.reason}`, ['input', ...refused.field]);
}

/**
 * Validates and stores a new destination (GraphQL and CLI alike); the secret is sealed, never kept
 * plain. A host the network policy refuses is refused here already.
 */
export async function addDestination(
  db: Database,
  secrets: SecretBox,
  input: DestinationInput,
  connector: OutboundConnector,
): Promise<Destination> {
  const url = input.url.trim();
  const options = validateDestinationSettings(
    {
      type: input.type,
      url,
      format: input.format,
      options: input.options,
      secret: input.secret,
      hasStoredSecret: false,
    },
    ['input'],
  );
  const actions = input.actions ?? [];
  const query = input.query?.trim() || null;
  checkDestinationFilter(input.organizationUuid, actions, query);
  await checkReach(connector, { type: input.type, url, options });
  return createDestination(db, {
    organizationUuid: input.organizationUuid,
    name: checkName(input.name),
    type: input.type,
    url,
    format: input.format,
    actions,
    query,
    options,
    sealedSecret: input.secret ? secrets.seal(input.secret) : null,
    fromBeginning: input.fromBeginning ?? false,
  });
}

export interface DestinationUpdate {
  name?: string | null;
  url?: string | null;
  format?: ExportFormat | null;
  actions?: string[] | null;
  query?: string | null;
  secret?: string | null;
  options?: unknown;
}

/** Changes what is given; the cursor stays where it is. A new URL or options pass the network policy again. */
export async function changeDestination(
  db: Database,
  secrets: SecretBox,
  current: Destination,
  input: DestinationUpdate,
  connector: OutboundConnector,
): Promise<Destination> {
  const changes: DestinationChanges = {};
  if (input.name != null) changes.name = checkName(input.name);
  if (input.url != null) changes.url = input.url.trim();
  if (input.format != null) changes.format = input.format;
  if (input.actions != null) changes.actions = input.actions;
  if (input.query !== undefined) changes.query = input.query?.trim() || null;
  if (input.secret != null) changes.sealedSecret = secrets.seal(input.secret);
  changes.options = validateDestinationSettings(
    {
      type: current.type,
      url: changes.url ?? current.url,
      format: changes.format ?? current.format,
      options: input.options ?? current.options,
      secret: input.secret ?? undefined,
      hasStoredSecret: current.sealedSecret !== null,
    },
    ['input'],
  );
  checkDestinationFilter(
    current.organizationUuid,
    changes.actions ?? current.actions,
    changes.query !== undefined ? changes.query : current.query,
  );
  if (input.url != null || input.options != null) {
    await checkReach(connector, {
      type: current.type,
      url: changes.url ?? current.url,
      options: changes.options,
    });
  }
  return updateDestination(db, current, changes);
}

/** A destination as the CLI prints it: everything but the secret. */
export function destinationJson(destination: Destination, lag: { events: number; seconds: number }) {
  return {
    id: destination.id,
    organizationId: destination.organizationId,
    name: destination.name,
    type: destination.type,
    url: destination.url,
    format: destination.format,
    actions: destination.actions,
    query: destination.query,
    options: destination.options,
    hasSecret: destination.sealedSecret !== null,
    status: destination.status,
    lagEvents: lag.events,
    lagSeconds: lag.seconds,
    lastSuccessAt: destination.lastSuccessAt?.toISOString() ?? null,
    lastError: destination.lastError,
    lastErrorAt: destination.lastErrorAt?.toISOString() ?? null,
    attempts: destination.attempts,
    deliveredCount: destination.deliveredCount,
    duplicatesCount: destination.duplicatesCount,
    createdAt: destination.createdAt.toISOString(),
  };
}
