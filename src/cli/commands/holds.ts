import { DateTimeScalar } from '../../graphql/scalars.ts';
import { CLI_ACTOR } from '../../retention/audit-trail.ts';
import {
  type LegalHold,
  listLegalHolds,
  placeLegalHold,
  releaseLegalHold,
} from '../../retention/legal-holds.ts';
import type { CliIo, Command, CommandContext } from '../command.ts';
import { parseFlags, takePositionals } from '../flags.ts';
import { formatTable, formatTime, writeJson, writeLines } from '../output.ts';
import { runSubcommand } from '../subcommands.ts';
import { UsageError } from '../usage-error.ts';
import { resolveOrganization } from './retention.ts';

export const holdsCommand: Command = {
  name: 'holds',
  summary: 'Place, release and list legal holds',
  usage: `Usage:
  auditline holds place ORG --reason TEXT [--from TIME] [--to TIME] [--json]
  auditline holds release HOLD_ID [--json]
  auditline holds list ORG [--active] [--json]

A legal hold keeps the organization's events whose occurredAt lies in [--from, --to) from being
purged until it is released, whatever the retention policy says. Leave out --from or --to for an
open end; leave out both to hold everything. Placing and releasing are recorded in the
organization's log (auditline.legal_hold_placed, auditline.legal_hold_released).

Options:
  --reason TEXT   why (a case name, a ticket); required
  --from TIME     RFC 3339, e.g. 2026-01-01T00:00:00Z
  --to TIME       RFC 3339; must be later than --from
  --active        list only holds still in force
  --json          print the hold (an array of holds for list) as JSON`,

  run: (args, io, ctx) => runSubcommand('holds', { place, release, list }, args, io, ctx),
};

function timeFlag(name: string, value: string | undefined): Date | null {
  if (value === undefined) return null;
  try {
    return DateTimeScalar.parseValue(value) as Date;
  } catch (error) {
    throw new UsageError(`--${name}: ${(error as Error).message}`);
  }
}

async function place(args: string[], io: CliIo, ctx: CommandContext) {
  const { flags, positionals } = parseFlags(args, {
    reason: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
  });
  const [org] = takePositionals(positionals, ['ORG']);
  if (flags.reason === undefined) throw new UsageError('missing --reason TEXT');
  const from = timeFlag('from', flags.from);
  const to = timeFlag('to', flags.to);
  const { db } = await ctx.database();
  const organization = await resolveOrganization(db, org!);
  const hold = await placeLegalHold(db, {
    organizationId: organization.id,
    reason: flags.reason,
    from,
    to,
    actor: CLI_ACTOR,
  });
  if (flags.json) writeJson(io, holdJson(hold));
  else writeLines(io, `Placed legal hold ${hold.id} on ${organization.name}: ${describeRange(hold)}`);
}

async function release(args: string[], io: CliIo, ctx: CommandContext) {
  const { flags, positionals } = parseFlags(args, {});
  const [id] = takePositionals(positionals, ['HOLD_ID']);
  const { db } = await ctx.database();
  const hold = await releaseLegalHold(db, { id: id!, organizationScope: null, actor: CLI_ACTOR });
  if (flags.json) writeJson(io, holdJson(hold));
  else writeLines(io, `Released legal hold ${hold.id} (released at ${formatTime(hold.releasedAt)})`);
}

async function list(args: string[], io: CliIo, ctx: CommandContext) {
  const { flags, positionals } = parseFlags(args, { active: { type: 'boolean' } });
  const [org] = takePositionals(positionals, ['ORG']);
  const { db } = await ctx.database();
  const organization = await resolveOrganization(db, org!);
  const holds = await listLegalHolds(db, organization.id, { activeOnly: flags.active ?? false });
  if (flags.json) {
    writeJson(io, holds.map(holdJson));
  } else if (holds.length === 0) {
    writeLines(io, `No legal holds on ${organization.name}`);
  } else {
    const rows = holds.map((hold) => [
      hold.id,
      formatTime(hold.from, 'beginning'),
      formatTime(hold.to, 'no end'),
      formatTime(hold.placedAt),
      hold.releasedAt ? `released ${formatTime(hold.releasedAt)}` : 'active',
      hold.reason,
    ]);
    writeLines(io, formatTable(['ID', 'FROM', 'TO', 'PLACED', 'STATUS', 'REASON'], rows));
  }
}

const describeRange = (hold: LegalHold) =>
  `events that occurred from ${formatTime(hold.from, 'the beginning')} to ${formatTime(hold.to, 'no end')} are kept until it is released`;

const holdJson = (hold: LegalHold) => ({
  id: hold.id,
  organizationId: hold.organizationId,
  reason: hold.reason,
  from: hold.from?.toISOString() ?? null,
  to: hold.to?.toISOString() ?? null,
  placedAt: hold.placedAt.toISOString(),
  placedBy: hold.placedBy,
  releasedAt: hold.releasedAt?.toISOString() ?? null,
  releasedBy: hold.releasedBy,
});
