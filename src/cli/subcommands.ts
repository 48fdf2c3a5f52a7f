import type { CliIo, CommandContext } from './command.ts';
import { UsageError } from './usage-error.ts';

export type Subcommand = (args: string[], io: CliIo, ctx: CommandContext) => Promise<void>;

/** Runs `auditline <group> <subcommand> …` for commands made of several verbs. */
export function runSubcommand(
  group: string,
  subcommands: Record<string, Subcommand>,
  args: string[],
  io: CliIo,
  ctx: CommandContext,
): Promise<void> {
  const [name, ...rest] = args;
  const choices = Object.keys(subcommands).join(', ');
  if (name === undefined) throw new UsageError(`${group} needs a subcommand: ${choices}`);
  const subcommand = Object.hasOwn(subcommands, name) ? subcommands[name] : undefined;
  if (!subcommand) throw new UsageError(`unknown ${group} subcommand "${name}"; expected one of: ${choices}`);
  return subcommand(rest, io, ctx);
}
