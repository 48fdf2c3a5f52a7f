import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { AuditlineError } from '../../errors.ts';
import { compileEventWhere } from '../../events/filter.ts';
import { exportChunks } from '../../export/exporter.ts';
import { EXPORT_FORMATS, isExportFormat } from '../../export/formats/index.ts';
import { exportProgress } from '../../export/progress.ts';
import { fromPublicId } from '../../ids.ts';
import { findOrganization } from '../../tenancy/organizations.ts';
import type { CliIo, Command, CommandContext, TextSink } from '../command.ts';
import { parseFlags, takePositionals } from '../flags.ts';
import { UsageError } from '../usage-error.ts';

export const exportCommand: Command = {
  name: 'export',
  summary: 'Write an organization’s events to stdout or a file (JSON lines, CSV, CEF, LEEF, OCSF, ECS)',
  usage: `Usage:
  auditline export --org ORG --format FORMAT [--query Q] [--output FILE]

Options:
  --org ORG        the organization, by id (org_…) or by name
  --format FORMAT  ${EXPORT_FORMATS.join(', ')}
  --query Q        search syntax, e.g. 'action:user.* created:>=2026-11-01'
  --output FILE    write to FILE instead of stdout

Events come oldest first, one page at a time, so memory stays flat however many there are.
Progress (count and rate) goes to stderr.`,

  async run(args: string[], io: CliIo, ctx: CommandContext) {
    const { flags, positionals } = parseFlags(args, {
      org: { type: 'string' },
      format: { type: 'string' },
      query: { type: 'string' },
      output: { type: 'string' },
    });
    takePositionals(positionals, []);
    if (flags.org === undefined) throw new UsageError('missing --org ORG');
    if (flags.format === undefined) throw new UsageError(`missing --format (${EXPORT_FORMATS.join(', ')})`);
    const format = flags.format.toLowerCase();
    if (!isExportFormat(format)) {
      throw new UsageError(`--format must be one of ${EXPORT_FORMATS.join(', ')}; got "${flags.format}"`);
    }
    const { db } = await ctx.database();
    const organization = await findOrganization(db, flags.org);
    if (!organization) throw new AuditlineError('NOT_FOUND', `no organization "${flags.org}"`);
    let where: ReturnType<typeof compileEventWhere>;
    try {
      where = compileEventWhere(fromPublicId('org', organization.id), null, flags.query);
    } catch (error) {
      if (error instanceof AuditlineError) throw new UsageError(`--query: ${error.message}`);
      throw error;
    }
    const file = flags.output === undefined ? null : createWriteStream(flags.output);
    const sink: TextSink = file ?? io.stdout;
    const progress = exportProgress(io.stderr);
    let count = 0;
    try {
      for await (const chunk of exportChunks(db, where, format, {
        onPage: (exported) => (count = exported),
      })) {
        await write(sink, chunk);
        progress.update(count);
      }
    } finally {
      if (file)
        await new Promise<void>((resolve, reject) =>
          file.end((error?: Error | null) => (error ? reject(error) : resolve())),
        );
    }
    progress.done(count);
  },
};

/** Writes and, for a real stream, waits for it to drain: the next page is read only when there is room. */
async function write(sink: TextSink, chunk: string): Promise<void> {
  const accepted = sink.write(chunk);
  const stream = sink as Partial<NodeJS.EventEmitter>;
  if (accepted === false && typeof stream.once === 'function')
    await once(stream as NodeJS.EventEmitter, 'drain');
}
