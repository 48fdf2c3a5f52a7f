import type { Command } from './command.ts';

export const DATABASE_HELP = `Database:
  DATABASE_URL         PostgreSQL URL (postgres://…). When unset, embedded PostgreSQL (PGlite)
                       keeps its data in AUDITLINE_DATA_DIR.
  AUDITLINE_DATA_DIR   PGlite data directory (default ./.auditline).
  A PGlite data directory can be opened by only one process at a time: stop the server first,
  or point both at PostgreSQL with DATABASE_URL.
  Pending migrations are applied before every command, so a fresh data directory works.`;

export function generalHelp(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((command) => command.name.length));
  const list = commands.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`).join('\n');
  return `Usage: auditline <command> [arguments] [--json]

Commands:
${list}

Run "auditline help <command>" or "auditline <command> --help" for a command's arguments.
--json prints exactly one JSON document on stdout instead of text.

${DATABASE_HELP}
`;
}

export function commandHelp(command: Command): string {
  return `${command.usage.trimEnd()}\n\n${DATABASE_HELP}\n`;
}
