import { createOrganization, listOrganizations, type Organization } from '../../tenancy/organizations.ts';
import type { CliIo, Command, CommandContext } from '../command.ts';
import { parseFlags, takePositionals } from '../flags.ts';
import { formatTable, formatTime, writeJson, writeLines } from '../output.ts';
import { runSubcommand } from '../subcommands.ts';

export const orgsCommand: Command = {
  name: 'orgs',
  summary: 'Create and list organizations',
  usage: `Usage:
  auditline orgs create NAME [--json]
  auditline orgs list [--json]

NAME is 1-63 lower-case letters, digits, ".", "_" or "-", starting with a letter or digit.

Options:
  --json   print the organization {"id","name","createdAt"} (an array of them for list) as JSON`,

  run: (args, io, ctx) => runSubcommand('orgs', { create, list }, args, io, ctx),
};

async function create(args: string[], io: CliIo, ctx: CommandContext) {
  const { flags, positionals } = parseFlags(args, {});
  const [name] = takePositionals(positionals, ['NAME']);
  const { db } = await ctx.database();
  const organization = await createOrganization(db, name!);
  if (flags.json) writeJson(io, organizationJson(organization));
  else writeLines(io, `Created organization ${organization.name} (${organization.id})`);
}

async function list(args: string[], io: CliIo, ctx: CommandContext) {
  const { flags, positionals } = parseFlags(args, {});
  takePositionals(positionals, []);
  const { db } = await ctx.database();
  const organizations = await listOrganizations(db);
  if (flags.json) {
    writeJson(io, organizations.map(organizationJson));
  } else if (organizations.length === 0) {
    writeLines(io, 'No organizations yet; create one with: auditline orgs create NAME');
  } else {
    const rows = organizations.map((org) => [org.id, org.name, formatTime(org.createdAt)]);
    writeLines(io, formatTable(['ID', 'NAME', 'CREATED'], rows));
  }
}

const organizationJson = (organization: Organization) => ({
  id: organization.id,
  name: organization.name,
  createdAt: organization.createdAt.toISOString(),
});
