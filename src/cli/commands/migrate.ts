import type { Command } from '../command.ts';
import { parseFlags, takePositionals } from '../flags.ts';
import { writeJson, writeLines } from '../output.ts';

export const migrateCommand: Command = {
  name: 'migrate',
  summary: 'Apply pending database migrations',
  usage: `Usage: auditline migrate [--json]

Applies pending migrations and creates the coming days' event partitions, then prints which
migrations ran. Every other command migrates first too; this one just reports what ran.

Options:
  --json   print {"database","applied","total"} as JSON`,

  async run(args, io, ctx) {
    const { flags, positionals } = parseFlags(args, {});
    takePositionals(positionals, []);
    const { config, migrations } = await ctx.database();
    if (flags.json) {
      writeJson(io, { database: config.database.kind, applied: migrations.applied, total: migrations.total });
      return;
    }
    const where =
      config.database.kind === 'postgres'
        ? 'PostgreSQL database from DATABASE_URL'
        : `PGlite database in ${config.database.dataDir}`;
    const count = migrations.applied.length;
    writeLines(
      io,
      where,
      count === 0
        ? `Already up to date: ${migrations.total} migrations applied, none pending.`
        : `Applied ${count} migration${count === 1 ? '' : 's'} (${migrations.total} in total):`,
      ...migrations.applied.map((tag) => `  ${tag}`),
    );
  },
};
