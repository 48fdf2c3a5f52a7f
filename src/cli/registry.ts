import type { Command } from './command.ts';
import { holdsCommand } from './commands/holds.ts';
import { keysCommand } from './commands/keys.ts';
import { migrateCommand } from './commands/migrate.ts';
import { orgsCommand } from './commands/orgs.ts';
import { purgeCommand } from './commands/purge.ts';
import { retentionCommand } from './commands/retention.ts';

/** Every `auditline` command, in the order help lists them. A new command is one file plus one entry. */
export const commands: readonly Command[] = [
  migrateCommand,
  orgsCommand,
  keysCommand,
  retentionCommand,
  holdsCommand,
  purgeCommand,
];

export function findCommand(name: string): Command | undefined {
  return commands.find((command) => command.name === name);
}
