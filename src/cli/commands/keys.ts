import type { Database } from '../../db/client.ts';
import { AuditlineError } from '../../errors.ts';
import { type ApiKey, createApiKey, listApiKeys, revokeApiKey } from '../../tenancy/api-keys.ts';
import { findOrganization, type Organization } from '../../tenancy/organizations.ts';
import { parseScopes, SCOPES, type Scope } from '../../tenancy/scopes.ts';
import type { CliIo, Command, CommandContext } from '../command.ts';
import { parseFlags, takePositionals } from '../flags.ts';
import { formatTable, formatTime, writeJson, writeLines } from '../output.ts';
import { runSubcommand } from '../subcommands.ts';
import { UsageError } from '../usage-error.ts';

export const keysCommand: Command = {
  name: 'keys',
  summary: 'Create, list and revoke API keys',
  usage: `Usage:
  auditline keys create (--org ORG | --platform) --scopes SCOPES [--name NAME] [--json]
  auditline keys list (--org ORG | --platform) [--json]
  auditline keys revoke KEY_ID [--json]

Options:
  --org ORG         the organization, by id (org_…) or by name
  --platform        a platform key, acting across organizations (needs the admin scope)
  --scopes SCOPES   comma-separated: ${SCOPES.join(',')}
  --name NAME       a label for the key (default "api key")
  --json            print one JSON document: the key, or an array of keys for list

The secret is printed by "keys create" only; it is stored hashed and cannot be shown again.
Lists never include secrets.`,

  run: (args, io, ctx) => runSubcommand('keys', { create, list, revoke }, args, io, ctx),
};

const ownerFlags = { org: { type: 'string' }, platform: { type: 'boolean' } } as const;

async function create(args: string[], io: CliIo, ctx: CommandContext) {
  const { flags, positionals } = parseFlags(args, {
    ...ownerFlags,
    scopes: { type: 'string' },
    name: { type: 'string' },
  });
  takePositionals(positionals, []);
  const owner = ownerOf(flags);
  if (flags.scopes === undefined) throw new UsageError('missing --scopes');
  const scopes = scopesFrom(flags.scopes);
  const { db } = await ctx.database();
  const organization = owner.platform ? null : await resolveOrganization(db, owner.org);
  const key = await createApiKey(db, { organizationId: organization?.id ?? null, scopes, name: flags.name });
  if (flags.json) {
    writeJson(io, {
      id: key.id,
      secret: key.secret,
      scopes: key.scopes,
      organizationId: key.organizationId,
      name: key.name,
      createdAt: key.createdAt.toISOString(),
    });
    return;
  }
  writeLines(
    io,
    `Created API key ${key.id} "${key.name}" for ${describeOwner(organization)}`,
    `scopes: ${key.scopes.join(', ')}`,
    '',
    `    ${key.secret}`,
    '',
    'This secret will not be shown again: store it now.',
  );
}

async function list(args: string[], io: CliIo, ctx: CommandContext) {
  const { flags, positionals } = parseFlags(args, ownerFlags);
  takePositionals(positionals, []);
  const owner = ownerOf(flags);
  const { db } = await ctx.database();
  const organization = owner.platform ? null : await resolveOrganization(db, owner.org);
  const keys = await listApiKeys(db, organization?.id ?? null);
  if (flags.json) {
    writeJson(io, keys.map(apiKeyJson));
  } else if (keys.length === 0) {
    writeLines(io, `No API keys for ${describeOwner(organization)}`);
  } else {
    const rows = keys.map((key) => [
      key.id,
      key.name,
      key.scopes.join(','),
      formatTime(key.createdAt),
      formatTime(key.lastUsedAt, 'never'),
      key.revokedAt ? `revoked ${formatTime(key.revokedAt)}` : 'active',
    ]);
    writeLines(io, formatTable(['ID', 'NAME', 'SCOPES', 'CREATED', 'LAST USED', 'STATUS'], rows));
  }
}

async function revoke(args: string[], io: CliIo, ctx: CommandContext) {
  const { flags, positionals } = parseFlags(args, {});
  const [keyId] = takePositionals(positionals, ['KEY_ID']);
  const { db } = await ctx.database();
  const key = await revokeApiKey(db, keyId!);
  if (flags.json) writeJson(io, apiKeyJson(key));
  else writeLines(io, `Revoked API key ${key.id} "${key.name}" (revoked at ${formatTime(key.revokedAt)})`);
}

type Owner = { platform: true } | { platform: false; org: string };

function ownerOf(flags: { org?: string; platform?: boolean }): Owner {
  if (flags.org !== undefined && flags.platform)
    throw new UsageError('give either --org or --platform, not both');
  if (flags.platform) return { platform: true };
  if (flags.org === undefined) throw new UsageError('missing --org ORG (or --platform for a platform key)');
  return { platform: false, org: flags.org };
}

function scopesFrom(list: string): Scope[] {
  try {
    return parseScopes(list);
  } catch (error) {
    throw new UsageError(`--scopes: ${(error as Error).message}`);
  }
}

async function resolveOrganization(db: Database, idOrName: string): Promise<Organization> {
  const organization = await findOrganization(db, idOrName);
  if (!organization) throw new AuditlineError('NOT_FOUND', `no organization "${idOrName}"`);
  return organization;
}

const describeOwner = (organization: Organization | null) =>
  organization ? `organization ${organization.name} (${organization.id})` : 'the platform';

const apiKeyJson = (key: ApiKey) => ({
  id: key.id,
  name: key.name,
  organizationId: key.organizationId,
  scopes: key.scopes,
  createdAt: key.createdAt.toISOString(),
  revokedAt: key.revokedAt?.toISOString() ?? null,
  lastUsedAt: key.lastUsedAt?.toISOString() ?? null,
});
