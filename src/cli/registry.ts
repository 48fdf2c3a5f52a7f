import type { Command } from './command.ts';
import { checkpointCommand } from './commands/checkpoint.ts';
import { consistencyProofCommand } from './commands/consistency-proof.ts';
import { destinationsCommand } from './commands/destinations.ts';
import { exportCommand } from './commands/export.ts';
import { holdsCommand } from './commands/holds.ts';
import { keysCommand } from './commands/keys.ts';
import { mappingsCommand } from './commands/mappings.ts';
import { migrateCommand } from './commands/migrate.ts';
import { orgsCommand } from './commands/orgs.ts';
import { publicKeyCommand } from './commands/public-key.ts';
import { purgeCommand } from './commands/purge.ts';
import { retentionCommand } from './commands/retention.ts';
import { sealCommand } from './commands/seal.ts';
import { signingKeyCommand } from './commands/signing-key.ts';
import { verifyCommand } from './commands/verify.ts';

/** Every `auditline` command, in the order help lists them. A new command is one file plus one entry. */
export const commands: readonly Command[] = [
  migrateCommand,
  orgsCommand,
  keysCommand,
  exportCommand,
  destinationsCommand,
  mappingsCommand,
  retentionCommand,
  holdsCommand,
  purgeCommand,
  sealCommand,
  checkpointCommand,
  consistencyProofCommand,
  publicKeyCommand,
  signingKeyCommand,
  verifyCommand,
];

export function findCommand(name: string): Command | undefined {
  return commands.find((command) => command.name === name);
}
