import { readFile } from 'node:fs/promises';
import type { ActionRuleOverride } from '../../export/action-mapping.ts';
import { DEFAULT_MAPPINGS, MAX_ACTION_MAPPING_RULES } from '../../export/action-mapping-rules.ts';
import { actionOverridesFor, setActionMappings } from '../../export/action-mapping-store.ts';
import { fromPublicId } from '../../ids.ts';
import { CLI_ACTOR } from '../../retention/audit-trail.ts';
import type { CliIo, Command, CommandContext } from '../command.ts';
import { parseFlags, takePositionals } from '../flags.ts';
import { formatTable, writeJson, writeLines } from '../output.ts';
import { runSubcommand } from '../subcommands.ts';
import { UsageError } from '../usage-error.ts';
import { resolveOrganization } from './retention.ts';

export const mappingsCommand: Command = {
  name: 'mappings',
  summary: 'Show and override how actions map to categories, outcomes and severity in exports',
  usage: `Usage:
  auditline mappings list --org ORG [--json]
  auditline mappings list --defaults [--json]
  auditline mappings set --org ORG --file RULES.json [--json]
  auditline mappings clear --org ORG [--json]

An organization's rules are checked in order before the defaults; the first rule whose pattern
matches the action wins, and the fields it sets replace the default classification's. They apply
to every export (CEF, LEEF, OCSF, ECS), destination delivery and syslog severity from then on.
RULES.json is a JSON array (at most ${MAX_ACTION_MAPPING_RULES}) of rules like
  {"pattern": "billing.*", "category": "configuration", "type": ["change"], "outcome": "success",
   "severity": 6, "ocsf": {"classUid": 6003, "activityId": 3}}
where only pattern is required; "list --json" prints the same shape. Patterns match the whole
action: * is any run of characters, {a,b} either alternative. set replaces the whole list, clear
empties it; both are recorded in the organization's log as auditline.action_mappings_changed.

Options:
  --org ORG     the organization, by id (org_…) or by name
  --file FILE   the rules, a JSON array
  --defaults    list the built-in rules instead (the last, *, catches every other action)
  --json        print the rules as one JSON array`,

  run: (args, io, ctx) => runSubcommand('mappings', { list, set, clear }, args, io, ctx),
};

async function list(args: string[], io: CliIo, ctx: CommandContext) {
  const { flags, positionals } = parseFlags(args, { org: { type: 'string' }, defaults: { type: 'boolean' } });
  takePositionals(positionals, []);
  if (flags.defaults) {
    if (flags.org !== undefined) throw new UsageError('give either --org ORG or --defaults, not both');
    return printRules(io, DEFAULT_MAPPINGS, flags.json, 'built-in');
  }
  if (flags.org === undefined) throw new UsageError('missing --org ORG (or --defaults)');
  const { db } = await ctx.database();
  const organization = await resolveOrganization(db, flags.org);
  const rules = await actionOverridesFor(db, fromPublicId('org', organization.id)!);
  printRules(io, rules, flags.json, `Organization ${organization.name} (${organization.id})`);
}

async function set(args: string[], io: CliIo, ctx: CommandContext) {
  const { flags, positionals } = parseFlags(args, { org: { type: 'string' }, file: { type: 'string' } });
  takePositionals(positionals, []);
  if (flags.org === undefined) throw new UsageError('missing --org ORG');
  if (flags.file === undefined) throw new UsageError('missing --file RULES.json');
  let rules: unknown;
  try {
    rules = JSON.parse(await readFile(flags.file, 'utf8'));
  } catch (error) {
    throw new UsageError(`--file ${flags.file}: ${(error as Error).message}`);
  }
  await replace(io, ctx, flags.org, rules, flags.json);
}

async function clear(args: string[], io: CliIo, ctx: CommandContext) {
  const { flags, positionals } = parseFlags(args, { org: { type: 'string' } });
  takePositionals(positionals, []);
  if (flags.org === undefined) throw new UsageError('missing --org ORG');
  await replace(io, ctx, flags.org, [], flags.json);
}

async function replace(io: CliIo, ctx: CommandContext, org: string, rules: unknown, json?: boolean) {
  const { db } = await ctx.database();
  const organization = await resolveOrganization(db, org);
  const change = await setActionMappings(db, { organizationId: organization.id, rules, actor: CLI_ACTOR });
  if (json) return writeJson(io, change);
  writeLines(
    io,
    `Organization ${organization.name} (${organization.id}) now has ${plural(change.rules.length)} (had ${change.previousRuleCount}).`,
  );
}

function printRules(
  io: CliIo,
  rules: readonly ActionRuleOverride[],
  json: boolean | undefined,
  owner: string,
) {
  if (json) return writeJson(io, rules);
  if (rules.length === 0) return writeLines(io, `${owner} has no rules of its own: the defaults apply.`);
  const rows = rules.map((rule, index) => [
    String(index),
    rule.pattern,
    rule.category ?? '-',
    rule.type?.join(',') ?? '-',
    rule.outcome ?? '-',
    rule.severity === undefined ? '-' : String(rule.severity),
    rule.ocsf ? `${rule.ocsf.classUid}/${rule.ocsf.activityId}` : '-',
  ]);
  writeLines(io, formatTable(['#', 'PATTERN', 'CATEGORY', 'TYPE', 'OUTCOME', 'SEVERITY', 'OCSF'], rows));
}

const plural = (count: number) => (count === 1 ? '1 rule' : `${count} rules`);
