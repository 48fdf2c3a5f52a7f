import { DateTimeScalar } from '../../graphql/scalars.ts';
import { type PurgeReport, runExclusivePurge } from '../../retention/purge.ts';
import { loadOrganizations } from '../../tenancy/organizations.ts';
import type { CliIo, Command, CommandContext } from '../command.ts';
import { parseFlags, takePositionals } from '../flags.ts';
import { formatTable, writeJson, writeLines } from '../output.ts';
import { UsageError } from '../usage-error.ts';

export const purgeCommand: Command = {
  name: 'purge',
  summary: 'Purge expired events now, or show what a purge would remove',
  usage: `Usage:
  auditline purge [--dry-run [--as-of TIME]] [--json]

Removes, per organization, the events whose receivedAt is older than its retention window and that
no active legal hold covers: whole days are dropped as partitions, the rest deleted in batches.
Partitions for the coming week are created too. The server does the same every PURGE_INTERVAL;
only one process purges at a time. Each purge is recorded in the organizations' logs as
auditline.events_purged.

Options:
  --dry-run      only count what would be removed; change nothing
  --as-of TIME   with --dry-run: count what would be removed at that time (RFC 3339)
  --json         print the report as one JSON document`,

  async run(args: string[], io: CliIo, ctx: CommandContext) {
    const { flags, positionals } = parseFlags(args, {
      'dry-run': { type: 'boolean' },
      'as-of': { type: 'string' },
    });
    takePositionals(positionals, []);
    const dryRun = flags['dry-run'] ?? false;
    let asOf: Date | undefined;
    if (flags['as-of'] !== undefined) {
      if (!dryRun) throw new UsageError('--as-of needs --dry-run: a purge always runs on the current time');
      try {
        asOf = DateTimeScalar.parseValue(flags['as-of']) as Date;
      } catch (error) {
        throw new UsageError(`--as-of: ${(error as Error).message}`);
      }
    }
    const { db, handle, config } = await ctx.database();
    const outcome = await runExclusivePurge(handle, {
      defaultRetentionDays: config.retention.defaultDays,
      batchSize: config.retention.purgeBatchSize,
      dryRun,
      asOf,
      trigger: 'cli',
    });
    if (!outcome.acquired)
      throw new Error('another process is purging this database right now; try again later');
    const { report } = outcome;
    const organizations = await loadOrganizations(
      db,
      report.organizations.map((organization) => organization.organizationId),
    );
    const names = organizations.map((organization) => organization?.name ?? '(deleted)');
    if (flags.json) writeJson(io, reportJson(report, names));
    else writeLines(io, ...reportLines(report, names));
  },
};

function reportLines(report: PurgeReport, names: string[]): string[] {
  const verb = report.dryRun ? 'would remove' : 'removed';
  const events = `${report.deletedCount} event${report.deletedCount === 1 ? '' : 's'}`;
  const header = `${report.dryRun ? 'Dry run' : 'Purge'} as of ${report.asOf.toISOString()}: ${verb} ${events}`;
  const lines = [`${header}${report.organizations.length ? '' : ' (nothing has expired)'}`];
  if (report.organizations.length > 0) {
    lines.push(
      '',
      formatTable(
        ['ORGANIZATION', 'NAME', 'RETENTION', 'RECEIVED BEFORE', 'EVENTS'],
        report.organizations.map((organization, index) => [
          organization.organizationId,
          names[index]!,
          `${organization.retentionDays} days`,
          organization.cutoff.toISOString(),
          String(organization.deletedCount),
        ]),
      ),
    );
  }
  const holding = report.droppedPartitions.filter((name) => !report.emptyPartitions.includes(name));
  const empty = report.emptyPartitions.length;
  if (holding.length > 0 || empty > 0) {
    const listed = [holding.join(', '), empty > 0 ? `${empty} empty` : ''].filter(Boolean).join(', plus ');
    lines.push('', `Day partitions ${report.dryRun ? 'to drop' : 'dropped'}: ${listed}`);
  }
  return lines;
}

const reportJson = (report: PurgeReport, names: string[]) => ({
  runId: report.runId,
  dryRun: report.dryRun,
  asOf: report.asOf.toISOString(),
  deletedCount: report.deletedCount,
  droppedPartitions: report.droppedPartitions,
  emptyPartitions: report.emptyPartitions,
  idempotencyKeysDeleted: report.idempotencyKeysDeleted,
  talliedPartitions: report.talliedPartitions,
  stepsMs: report.stepsMs,
  organizations: report.organizations.map((organization, index) => ({
    organizationId: organization.organizationId,
    name: names[index],
    retentionDays: organization.retentionDays,
    cutoff: organization.cutoff.toISOString(),
    deletedCount: organization.deletedCount,
    droppedWithPartitions: organization.droppedWithPartitions,
    deletedRows: organization.deletedRows,
  })),
});
