import { AuditlineError } from '../../errors.ts';
import { CLI_ACTOR } from '../../retention/audit-trail.ts';
import { listLegalHolds } from '../../retention/legal-holds.ts';
import { retentionDaysOf, setRetentionPolicy } from '../../retention/policies.ts';
import { retentionStatus } from '../../retention/status.ts';
import { findOrganization, type Organization } from '../../tenancy/organizations.ts';
import type { CliIo, Command, CommandContext } from '../command.ts';
import { parseFlags, takePositionals } from '../flags.ts';
import { formatTime, writeJson, writeLines } from '../output.ts';
import { runSubcommand } from '../subcommands.ts';
import { UsageError } from '../usage-error.ts';

export const retentionCommand: Command = {
  name: 'retention',
  summary: 'Set and show how long an organization’s events are kept',
  usage: `Usage:
  auditline retention set ORG DAYS [--json]
  auditline retention show ORG [--json]

ORG is an organization id (org_…) or name. DAYS is 1 to 3650 (2555 is seven years); without a
policy an organization gets DEFAULT_RETENTION_DAYS (90 unless configured). An event is purged once
its receivedAt is more than DAYS × 24 hours old; one exactly that old is still kept. The change is
recorded in the organization's own log as auditline.retention_policy_changed.

Options:
  --json   print the result as one JSON document`,

  run: (args, io, ctx) => runSubcommand('retention', { set, show }, args, io, ctx),
};

async function set(args: string[], io: CliIo, ctx: CommandContext) {
  const { flags, positionals } = parseFlags(args, {});
  const [org, daysText] = takePositionals(positionals, ['ORG', 'DAYS']);
  if (!/^-?\d+$/.test(daysText!)) throw new UsageError(`DAYS must be a whole number, got "${daysText}"`);
  const { db } = await ctx.database();
  const organization = await resolveOrganization(db, org!);
  const change = await setRetentionPolicy(db, {
    organizationId: organization.id,
    retentionDays: Number(daysText),
    actor: CLI_ACTOR,
  });
  if (flags.json) {
    writeJson(io, change);
    return;
  }
  const before =
    change.previousRetentionDays === null ? 'the server default' : `${change.previousRetentionDays} days`;
  writeLines(
    io,
    `Organization ${organization.name} (${organization.id}) now keeps events for ${change.retentionDays} days (was ${before}).`,
  );
}

async function show(args: string[], io: CliIo, ctx: CommandContext) {
  const { flags, positionals } = parseFlags(args, {});
  const [org] = takePositionals(positionals, ['ORG']);
  const { db, config } = await ctx.database();
  const organization = await resolveOrganization(db, org!);
  const [retentionDays] = await retentionDaysOf(db, [organization.id], config.retention.defaultDays);
  const status = await retentionStatus(db, organization.id, {
    purgeIntervalMs: config.retention.purgeIntervalMs,
  });
  const holds = await listLegalHolds(db, organization.id, { activeOnly: true });
  if (flags.json) {
    writeJson(io, {
      organizationId: organization.id,
      retentionDays,
      activeLegalHolds: holds.length,
      oldestEventAt: status.oldestEventAt?.toISOString() ?? null,
      eventCount: status.eventCount,
      nextPurgeAt: status.nextPurgeAt.toISOString(),
      lastPurge: status.lastPurge
        ? { at: status.lastPurge.at.toISOString(), deletedCount: status.lastPurge.deletedCount }
        : null,
    });
    return;
  }
  writeLines(
    io,
    `organization:   ${organization.name} (${organization.id})`,
    `retention:      ${retentionDays} days`,
    `legal holds:    ${holds.length} active`,
    `events:         ${status.eventCount}, oldest received ${formatTime(status.oldestEventAt, 'never')}`,
    `last purge:     ${status.lastPurge ? `${formatTime(status.lastPurge.at)}, removed ${status.lastPurge.deletedCount}` : 'never'}`,
    `next purge due: ${formatTime(status.nextPurgeAt)}`,
  );
}

export async function resolveOrganization(
  db: Parameters<typeof findOrganization>[0],
  idOrName: string,
): Promise<Organization> {
  const organization = await findOrganization(db, idOrName);
  if (!organization) throw new AuditlineError('NOT_FOUND', `no organization "${idOrName}"`);
  return organization;
}
